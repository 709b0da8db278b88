// Entries in a shared cache are untrusted input: whoever can write to Redis could otherwise make the API
// serve any answer. Each value is stored as `v1:<tag>:<body>`, the tag an HMAC-SHA256 over the cache key
// and the body under a key derived from the deployment's secret (API_SECRET), so an entry that was not
// written by a replica of this deployment for this very key — forged, altered, or copied from another
// key — fails the check, is logged, and reads as a miss (the request is answered from the database and
// the entry rewritten). The in-process cache is not wrapped: only this process writes it.
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import type { Config } from "../config/schema";
import type { Logger } from "../logging/logger";
import type { Cache } from "./cache";

const VERSION = "v1:";
/** base64url of a 32-byte HMAC-SHA256. */
const TAG_LENGTH = 43;

/**
 * The HMAC key for cache entries: derived from API_SECRET (HKDF-SHA256), which every replica shares and
 * no client knows. Without one, a random key per process: still safe, but replicas cannot use each
 * other's entries.
 */
export function cacheSigningKey(config: Config, logger: Logger): Buffer {
  const secret = config.api.api_secret;
  if (!secret) {
    logger.warn(
      "API_SECRET is not set: cache entries are signed with a key of this process only, so replicas do not share them",
    );
    return randomBytes(32);
  }
  return Buffer.from(hkdfSync("sha256", secret, "transportation-api", "cache entry MAC v1", 32));
}

export function signed(cache: Cache, key: Buffer, logger: Logger, logEveryMs = 10_000): Cache {
  const tag = (cacheKey: string, body: string) =>
    createHmac("sha256", key).update(cacheKey).update("\n").update(body).digest("base64url");
  let lastLogged = 0;
  let suppressed = 0;
  const reject = (cacheKey: string) => {
    const now = Date.now();
    if (now - lastLogged < logEveryMs) {
      suppressed++;
      return undefined;
    }
    logger.warn(
      { key: cacheKey, suppressed },
      "cache entry failed its integrity check: ignored, answered from the database",
    );
    lastLogged = now;
    suppressed = 0;
    return undefined;
  };
  return {
    kind: cache.kind,
    async get(cacheKey) {
      const stored = await cache.get(cacheKey);
      if (stored === undefined) return undefined;
      const bodyStart = VERSION.length + TAG_LENGTH + 1;
      if (!stored.startsWith(VERSION) || stored[bodyStart - 1] !== ":") return reject(cacheKey);
      const body = stored.slice(bodyStart);
      const expected = Buffer.from(tag(cacheKey, body));
      const actual = Buffer.from(stored.slice(VERSION.length, VERSION.length + TAG_LENGTH));
      return timingSafeEqual(expected, actual) ? body : reject(cacheKey);
    },
    set: (cacheKey, value, ttlSeconds) => cache.set(cacheKey, `${VERSION}${tag(cacheKey, value)}:${value}`, ttlSeconds),
    ping: (ms) => cache.ping(ms),
    close: () => cache.close(),
  };
}
