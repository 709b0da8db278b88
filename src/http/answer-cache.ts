// Cached answers in two layers. The shared cache (Redis: what replicas share, entries signed) holds the
// JSON text; in front of it each process keeps the prepared answers it served (src/http/answer.ts: bytes,
// ETag, compressed copies) in an LRU bounded by size. Keys carry the feed version and values never
// change within one, so a local copy is never stale; it saves the Redis round trip and the preparation.
// Without Redis the local layer is the only one: a second in-process copy would only double the memory.
import { LRUCache } from "lru-cache";
import type { Cache } from "../cache/cache";
import { Answer, type AnswerPolicy, type CompressionOptions } from "./answer";

/** Bytes of prepared answers kept in process. */
const LOCAL_BYTES = 32 * 1024 * 1024;

export interface AnswerCacheOptions {
  cache: Cache;
  compression: CompressionOptions;
  /** Entries at most (the in-process cache's own bound when there is no Redis). */
  maxEntries?: number;
}

export interface AnswerCache {
  /** The answer under `key` from either layer, or built by `build` (JSON text), stored and returned. */
  get(
    key: string,
    ttlSeconds: number,
    policy: AnswerPolicy,
    build: () => Promise<string>,
  ): Promise<{ answer: Answer; hit: boolean }>;
  /** An answer that is not cached (built per request), prepared the same way. */
  prepare(text: string, policy: AnswerPolicy): Answer;
}

export function createAnswerCache(options: AnswerCacheOptions): AnswerCache {
  const shared = options.cache.kind === "memory" ? undefined : options.cache;
  const compression = options.compression;
  const local = new LRUCache<string, Answer>({
    maxSize: LOCAL_BYTES,
    ...(options.maxEntries ? { max: options.maxEntries } : {}),
    sizeCalculation: (answer, key) => answer.size + key.length,
    ttlAutopurge: false,
  });
  const prepare = (text: string, policy: AnswerPolicy) => new Answer(text, policy, compression);
  return {
    prepare,
    async get(key, ttlSeconds, policy, build) {
      const near = local.get(key);
      if (near !== undefined) return { answer: near, hit: true };
      const stored = shared ? await shared.get(key) : undefined;
      const text = stored ?? (await build());
      if (stored === undefined) await shared?.set(key, text, ttlSeconds);
      const answer = prepare(text, policy);
      local.set(key, answer, { ttl: ttlSeconds * 1000 });
      return { answer, hit: stored !== undefined };
    },
  };
}
