// Builds the real app in-process on the embedded database and in-process cache (or given ones).
import { Writable } from "node:stream";
import pino from "pino";
import { createApp } from "../../src/app";
import type { Cache } from "../../src/cache/cache";
import { createMemoryCache } from "../../src/cache/memory-cache";
import { loadConfig } from "../../src/config/load";
import type { Config } from "../../src/config/schema";
import { type Database, openDatabase } from "../../src/db/database";
import { migrateToLatest } from "../../src/db/migrate";
import { createFetchHandler } from "../../src/http/fetch-handler";
import { Lifecycle } from "../../src/lifecycle";
import type { Logger } from "../../src/logging/logger";
import type { RealtimeService } from "../../src/modules/realtime/service";
import { createMetrics, type Metrics } from "../../src/observability/metrics";
import { disabledTracing, type Tracing } from "../../src/observability/tracing";

export interface TestApp {
  config: Config;
  /** The Elysia app itself (its routes, for tests that compare them with the OpenAPI document). */
  app: ReturnType<typeof createApp>;
  database: Database;
  cache: Cache;
  lifecycle: Lifecycle;
  realtime?: RealtimeService;
  /** The app's metrics (recorded by the fetch handler, the health checks and the rate limiter). */
  metrics: Metrics;
  /** The full request path: fetch handler (ids, limits, timeout, access log) + app. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** The fetch handler itself: a Response when it answered synchronously, else a Promise. */
  handle(request: Request): Response | Promise<Response>;
  logLines(): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function createTestApp(
  env: Record<string, string> = {},
  overrides: {
    database?: Database;
    cache?: Cache;
    migrate?: boolean;
    configure?: (config: Config) => void;
    /** Builds the app's realtime service (not started: tests drive its polls). */
    realtime?: (deps: { config: Config; logger: Logger; database: Database }) => RealtimeService;
    tracing?: Tracing;
  } = {},
): Promise<TestApp> {
  const config = loadConfig({ env: { DATA_DIR: ":memory:", NODE_ENV: "test", ...env }, file: "config.yaml" });
  overrides.configure?.(config);
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      cb();
    },
  });
  const logger = pino({ level: "info" }, sink);
  const database = overrides.database ?? (await openDatabase(config, logger));
  if (overrides.migrate !== false) await migrateToLatest(database.db);
  const cache = overrides.cache ?? createMemoryCache(1000);
  const lifecycle = new Lifecycle();
  const realtime = overrides.realtime?.({ config, logger, database });
  const metrics = createMetrics({ version: config.app.version, commit: config.app.commit, processMetrics: false });
  metrics.watch.lifecycle(lifecycle);
  const app = createApp({ config, logger, database, cache, lifecycle, realtime, metrics });
  const handler = createFetchHandler(app, {
    config,
    logger,
    lifecycle,
    metrics,
    tracing: overrides.tracing ?? disabledTracing,
  });
  return {
    config,
    app,
    database,
    cache,
    lifecycle,
    realtime,
    metrics,
    fetch: async (path, init) => handler(new Request(`http://localhost${path}`, init)),
    handle: handler,
    logLines: () => lines.map((l) => JSON.parse(l)),
    async close() {
      await realtime?.stop();
      if (!overrides.database) await database.close();
      await cache.close();
    },
  };
}
