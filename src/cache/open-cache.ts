import { redisTarget } from "../config/load";
import type { Config } from "../config/schema";
import type { Logger } from "../logging/logger";
import { instrumentCache } from "../observability/instrument";
import type { Metrics } from "../observability/metrics";
import type { Tracing } from "../observability/tracing";
import type { Cache } from "./cache";
import { createMemoryCache } from "./memory-cache";
import { createRedisCache } from "./redis-cache";
import { resilient } from "./resilient-cache";
import { cacheSigningKey, signed } from "./signed-cache";

/**
 * Redis when configured (its entries signed: they are untrusted input), otherwise the in-process LRU;
 * either way wrapped so failures read as misses, with hits, misses, errors and Redis spans reported when
 * metrics or tracing are given (an entry that fails its signature check counts as a miss).
 */
export function openCache(
  config: Config,
  logger: Logger,
  observe: { metrics?: Metrics; tracing?: Tracing } = {},
): Cache {
  const url = redisTarget(config);
  const inner = url
    ? signed(
        createRedisCache(
          {
            url,
            commandTimeoutMs: Math.round(config.redis.command_timeout * 1000),
            onConnectionChange: observe.metrics?.redisUp,
          },
          logger,
        ),
        cacheSigningKey(config, logger),
        logger,
      )
    : createMemoryCache(config.redis.memory_max_entries);
  return resilient(instrumentCache(inner, observe.metrics, observe.tracing), logger);
}
