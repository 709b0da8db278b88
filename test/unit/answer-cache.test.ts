// The answer cache (src/http/answer-cache.ts) in process: without Redis each answer is built once
// and kept for its TTL within the entry bound; with Redis (a real one) replicas share what one built,
// and a replica that finds an answer there neither builds it nor writes it back.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cache } from "../../src/cache/cache";
import { createMemoryCache } from "../../src/cache/memory-cache";
import { createRedisCache } from "../../src/cache/redis-cache";
import type { AnswerPolicy } from "../../src/http/answer";
import { type AnswerCache, createAnswerCache } from "../../src/http/answer-cache";
import { eventually } from "../support/app-server";
import { testRedisUrl } from "../support/services";

const policy: AnswerPolicy = { cacheControl: "public, max-age=30" };
const compression = { enabled: true, minBytes: 1024 };

/** A build function that counts its calls, answering `{"n":<call>}` padded to `bytes`. */
function builder(bytes = 0) {
  const counter = {
    calls: 0,
    build: async () => {
      counter.calls++;
      const head = `{"n":${counter.calls},"pad":"`;
      return `${head}${"x".repeat(Math.max(0, bytes - head.length - 2))}"}`;
    },
  };
  return counter;
}

describe("answer cache without Redis", () => {
  const local = (maxEntries?: number) =>
    createAnswerCache({ cache: createMemoryCache(1000), compression, ...(maxEntries ? { maxEntries } : {}) });

  it("builds an answer once and serves it again as a hit", async () => {
    const answers = local();
    const b = builder();
    const first = await answers.get("/v1/feeds", 60, policy, b.build);
    expect(first.hit).toBe(false);
    const second = await answers.get("/v1/feeds", 60, policy, b.build);
    expect(second).toEqual({ answer: first.answer, hit: true });
    expect(b.calls).toBe(1);
  });

  it("keeps large answers (a board of several hundred kB) and answers under long keys", async () => {
    const answers = local();
    const big = builder(400 * 1024);
    const key = "/v1/stops/S1/departures?limit=500";
    await answers.get(key, 60, policy, big.build);
    expect((await answers.get(key, 60, policy, big.build)).hit).toBe(true);
    expect(big.calls).toBe(1);
    // A key longer than the answer it names (a long search URL, a tiny answer).
    const small = builder();
    const long = `/v1/stops?q=${"y".repeat(2000)}`;
    await answers.get(long, 60, policy, small.build);
    expect((await answers.get(long, 60, policy, small.build)).hit).toBe(true);
    expect(small.calls).toBe(1);
  });

  it("holds at most maxEntries answers: one it let go is built again", async () => {
    const answers = local(1);
    const a = builder();
    const b = builder();
    await answers.get("a", 60, policy, a.build);
    await answers.get("b", 60, policy, b.build);
    expect((await answers.get("a", 60, policy, a.build)).hit).toBe(false);
    expect(a.calls).toBe(2);
  });

  it("keeps an answer for its TTL and builds it again after", async () => {
    const answers = local();
    const b = builder();
    const ttlSeconds = 0.3;
    const started = performance.now();
    const first = await answers.get("/v1/feeds", ttlSeconds, policy, b.build);
    await eventually(
      async () => (await answers.get("/v1/feeds", ttlSeconds, policy, b.build)).answer !== first.answer,
      10_000,
      "the answer to expire",
    );
    // Not before its TTL (lru-cache rounds its clock to 1 ms).
    expect(performance.now() - started).toBeGreaterThanOrEqual(ttlSeconds * 1000 - 5);
    expect(b.calls).toBe(2);
  });

  it("prepares an uncached answer the same way, with the cache's compression", async () => {
    const answers = local();
    const text = await builder(4096).build();
    const answer = answers.prepare(text, policy);
    const response = answer.serve(new Request("http://api.test/", { headers: { "accept-encoding": "gzip" } }));
    expect(response.headers.get("content-encoding")).toBe("gzip");
    expect(answer.body).toEqual(new TextEncoder().encode(text));
  });
});

describe("answer cache with Redis, shared by replicas", () => {
  const prefix = `t-answers-${randomBytes(4).toString("hex")}:`;
  const logger = pino({ level: "silent" });
  let url: string;
  let raw: Redis;
  const caches: Cache[] = [];
  /** Another replica's answer cache, once its Redis client is connected (it queues no commands before). */
  const replica = async (): Promise<AnswerCache> => {
    const cache = createRedisCache({ url, commandTimeoutMs: 2000, keyPrefix: prefix }, logger);
    caches.push(cache);
    await eventually(() => cache.ping(1000).then(() => true), 10_000, "redis");
    return createAnswerCache({ cache, compression });
  };

  beforeAll(async () => {
    url = await testRedisUrl();
    raw = new Redis(url, { keyPrefix: prefix });
  });
  afterAll(async () => {
    for (const cache of caches) await cache.close();
    raw?.disconnect();
  });

  it("a replica serves what another built, without building it, under the same validator", async () => {
    const one = await replica();
    const two = await replica();
    const b1 = builder(2048);
    const b2 = builder(2048);
    const built = await one.get("/v1/routes", 60, policy, b1.build);
    expect(built.hit).toBe(false);
    const shared = await two.get("/v1/routes", 60, policy, b2.build);
    expect(shared.hit).toBe(true);
    expect(b2.calls).toBe(0);
    expect(shared.answer.etag).toBe(built.answer.etag);
    expect(shared.answer.body).toEqual(built.answer.body);
  });

  it("stores a built answer in Redis for its TTL, and a replica reading it does not write it back", async () => {
    const one = await replica();
    const two = await replica();
    await one.get("/v1/agencies", 30, policy, builder().build);
    const ttl = await raw.pttl("/v1/agencies");
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
    // The second replica asks with a longer TTL: the entry keeps the first one's.
    expect((await two.get("/v1/agencies", 3600, policy, builder().build)).hit).toBe(true);
    expect(await raw.pttl("/v1/agencies")).toBeLessThanOrEqual(ttl);
  });
});
