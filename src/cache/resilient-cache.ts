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

/** Reads through the cache: returns the cached JSON value or loads, stores and returns it. */
export async function cachedJson<T>(cache: Cache, key: string, ttlSeconds: number, load: () => Promise<T>): Promise<T> {
  const hit = await cache.get(key);
  if (hit !== undefined) return JSON.parse(hit) as T;
  const value = await load();
  await cache.set(key, JSON.stringify(value), ttlSeconds);
  return value;
}
