// Opens what the application depends on, in one place for every CLI command.

import packageJson from "../package.json" with { type: "json" };
import type { Cache } from "./cache/cache";
import { openCache } from "./cache/open-cache";
import { loadConfig, redisTarget } from "./config/load";
import type { Config } from "./config/schema";
import { type Database, type OpenOptions, openDatabase } from "./db/database";
import { createLocalRateLimiter, createSharedRateLimiter, type RateLimiter } from "./http/rate-limit";
import { createLogger, flushLogger, type Logger } from "./logging/logger";
import { queryObserver } from "./observability/instrument";
import { createMetrics, type Metrics } from "./observability/metrics";
import { createTracing, disabledTracing, type Tracing } from "./observability/tracing";

export interface Runtime {
  config: Config;
  logger: Logger;
  database: Database;
  cache: Cache;
  /** The /v1 rate limiter (shared through Redis when it is configured); absent when rate_limit is 0. */
  rateLimiter?: RateLimiter;
  metrics: Metrics;
  tracing: Tracing;
  close(): Promise<void>;
}

export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env, serving = true): Config {
  return loadConfig({ env, packageVersion: packageJson.version, serving });
}

/** Shared through Redis when one is configured, so replicas draw from one budget per client. */
function openRateLimiter(config: Config, logger: Logger, metrics?: Metrics): RateLimiter | undefined {
  if (config.api.rate_limit <= 0) return undefined;
  const url = redisTarget(config);
  if (!url) return createLocalRateLimiter(config.api.rate_limit);
  return createSharedRateLimiter({
    url,
    perMinute: config.api.rate_limit,
    logger,
    commandTimeoutMs: Math.round(config.redis.command_timeout * 1000),
    ...(metrics ? { onModeChange: (mode: "shared" | "local") => metrics.rateLimitFallback(mode === "local") } : {}),
  });
}

export interface RuntimeOptions {
  logger?: Logger;
  /** Environment for the OpenTelemetry exporter settings (OTEL_*); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** How to open the database (the embedded directory's damage check). */
  open?: OpenOptions;
  /** false: no metrics or traces are recorded anywhere (the benchmark's baseline); default true. */
  observability?: boolean;
}

export async function openRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const observe = options.observability !== false;
  const tracing = observe
    ? await createTracing({
        serviceName: config.app.name,
        serviceVersion: config.app.version,
        env: options.env ?? process.env,
      })
    : disabledTracing;
  const logger = options.logger ?? createLogger(config, tracing.enabled ? { mixin: tracing.logFields } : {});
  if (config.unknown_keys?.length)
    logger.warn(
      { keys: config.unknown_keys },
      "config: unknown keys ignored (a typo, or a key of a newer release after a rollback)",
    );
  const metrics = createMetrics({ version: config.app.version, commit: config.app.commit, processMetrics: observe });
  const database = await openDatabase(config, logger, {
    ...options.open,
    ...(observe ? { observer: queryObserver(metrics, tracing) } : {}),
  });
  if (database.pool) metrics.watch.pool(database.pool, config.database.pool_size + config.database.max_overflow);
  const cache = openCache(config, logger, observe ? { metrics, tracing } : {});
  const rateLimiter = openRateLimiter(config, logger, observe ? metrics : undefined);
  return {
    config,
    logger,
    database,
    cache,
    rateLimiter,
    metrics,
    tracing,
    async close() {
      await Promise.allSettled([database.close(), cache.close(), rateLimiter?.close(), tracing.shutdown()]);
      flushLogger(logger);
    },
  };
}
