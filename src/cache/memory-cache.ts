// In-process LRU used when no Redis is configured.
import { LRUCache } from "lru-cache";
import type { Cache } from "./cache";

export function createMemoryCache(maxEntries: number): Cache {
  const lru = new LRUCache<string, string>({ max: maxEntries, ttlAutopurge: false });
  return {
    kind: "memory",
    async get(key) {
      return lru.get(key);
    },
    async set(key, value, ttlSeconds) {
      lru.set(key, value, { ttl: Math.max(1, Math.round(ttlSeconds * 1000)) });
    },
    async ping() {},
    async close() {
      lru.clear();
    },
  };
}
