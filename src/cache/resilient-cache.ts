// A cache failure must never fail a request: errors are logged (rate-limited) and read as a miss.
import type { Logger } from "../logging/logger";
import type { Cache } from "./cache";

export function resilient(cache: Cache, logger: Logger, logEveryMs = 10_000): Cache {
  let lastLogged = 0;
  let suppressed = 0;
  const report = (op: string, err: unknown) => {
    const now = Date.now();
    if (now - lastLogged < logEveryMs) {
      suppressed++;
      return;
    }
    logger.warn(
      { op, suppressed, err: { message: err instanceof Error ? err.message : String(err) } },
      "cache unavailable, using the database",
    );
    lastLogged = now;
    suppressed = 0;
  };
  return {
    kind: cache.kind,
    async get(key) {
      try {
        return await cache.get(key);
      } catch (err) {
        report("get", err);
        return undefined;
      }
    },
    async set(key, value, ttl) {
      try {
        await cache.set(key, value, ttl);
      } catch (err) {
        report("set", err);
      }
    },
    ping: (ms) => cache.ping(ms),
    close: () => cache.close(),
  };
}
