// The shared rate limiter in process against a real Redis: one bucket per client for every replica, and
// what happens when Redis cannot be reached at start-up, goes away, freezes or comes back. (Two real
// server processes sharing one budget: test/integration/rate-limit-shared.test.ts.)
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSharedRateLimiter,
  type RateDecision,
  type RateLimiter,
  type SharedRateLimiterOptions,
} from "../../src/http/rate-limit";
import { eventually } from "../support/app-server";
import { type ServerProcess, startRedis } from "../support/processes";
import { testRedisUrl } from "../support/services";

const UNAVAILABLE = "rate limit: Redis unavailable, each replica limits on its own until it is back";
const BACK = "rate limit: shared through Redis again";

/** A limiter with its log lines and the mode changes it reported (what metrics are told). */
function limiterOn(url: string, options: Partial<SharedRateLimiterOptions> = {}) {
  const lines: { level: number; msg: string; err?: { message?: string } }[] = [];
  const modes: string[] = [];
  const limiter = createSharedRateLimiter({
    url,
    perMinute: 60, // one a second, bursts of 10
    logger: pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) }),
    // Long enough that a request waiting for it would outlast the test: a healthy Redis answers at once.
    commandTimeoutMs: 60_000,
    onModeChange: (mode) => modes.push(mode),
    ...options,
  });
  const take = async (client: string) => (await limiter.take(client)) as RateDecision;
  return { limiter, take, lines, modes, changes: () => lines.filter((l) => l.msg.startsWith("rate limit:")) };
}

/** Runs `body` and returns what it wrote with console.error (ioredis reports unhandled errors there). */
async function consoleErrorsOf(body: () => Promise<void>): Promise<string[]> {
  const written: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void written.push(args.map(String).join(" "));
  try {
    await body();
  } finally {
    console.error = original;
  }
  return written;
}

const clientName = () => `client-${randomBytes(4).toString("hex")}`;

describe("a shared rate limiter with Redis up", () => {
  let url: string;
  let probe: Redis;
  const open: RateLimiter[] = [];
  beforeAll(async () => {
    url = await testRedisUrl();
    probe = new Redis(url);
  });
  afterAll(async () => {
    for (const l of open) await l.close();
    probe?.disconnect();
  });

  it("draws every replica's decisions from one bucket per client in Redis, from the very first request", async () => {
    const client = clientName();
    // Two replicas, 12 requests a minute per client: a burst of 2, one more every 5 s.
    const replicas = [0, 1].map(() => limiterOn(url, { perMinute: 12 }));
    open.push(...replicas.map((r) => r.limiter));
    // Each replica's first request waits for its connection rather than deciding in process.
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await replicas[i % 2]!.take(client));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, false, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([1, 0, 0, 0]);
    for (const refused of decisions.slice(2)) {
      expect(refused.nextMs).toBeGreaterThan(0);
      expect(refused.nextMs).toBeLessThanOrEqual(5000);
    }
    expect(replicas.map((r) => r.limiter.stats())).toEqual([
      { mode: "shared", shared: 2, local: 0, refused: 1 },
      { mode: "shared", shared: 2, local: 0, refused: 1 },
    ]);
    // Nothing to report while Redis answers.
    expect(replicas.flatMap((r) => [...r.lines, ...r.modes])).toEqual([]);
  });

  it("keeps its buckets under its key prefix (tapi:ratelimit: unless told), expiring once full again", async () => {
    const client = clientName();
    const prefix = `test-${randomBytes(4).toString("hex")}:`;
    const byDefault = limiterOn(url);
    const prefixed = limiterOn(url, { keyPrefix: prefix });
    open.push(byDefault.limiter, prefixed.limiter);
    expect((await byDefault.take(client)).remaining).toBe(9);
    const ttl = await probe.pttl(`tapi:ratelimit:${client}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1000); // one request's worth: full again a second later
    // Another prefix is another bucket (another application sharing the Redis, say).
    expect((await prefixed.take(client)).remaining).toBe(9);
    expect(await probe.pttl(`${prefix}${client}`)).toBeGreaterThan(0);
  });
});

describe("a shared rate limiter while its Redis is unreachable, stops, freezes or comes back", () => {
  let redis: ServerProcess;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.destroy());

  it("without Redis at start-up: the first request waits a command's time, the rest none; says so and when it is up", async () => {
    await redis.stop();
    // A long pause after a failed command: only Redis coming up, not the end of a pause, may end the fallback.
    const { limiter, take, changes, modes } = limiterOn(redis.url, { commandTimeoutMs: 300, retryAfterMs: 600_000 });
    try {
      const printed = await consoleErrorsOf(async () => {
        expect(await take("a")).toMatchObject({ allowed: true, remaining: 9 });
        // Decided before the event loop turns: no second wait for a connection that did not come.
        const next = await Promise.race([take("a"), new Promise((r) => setImmediate(() => r("still waiting")))]);
        expect(next).toMatchObject({ allowed: true, remaining: 8 });
      });
      expect(limiter.stats()).toEqual({ mode: "local", shared: 0, local: 2, refused: 0 });
      expect(modes).toEqual(["local"]);
      expect(changes()).toEqual([expect.objectContaining({ level: 40, msg: UNAVAILABLE })]);
      expect(changes()[0]!.err?.message).toMatch(/\S/);
      // Failed connection attempts go through the mode change, not one unhandled-error line each.
      expect(printed.filter((l) => l.includes("ioredis"))).toEqual([]);

      await redis.start();
      await eventually(async () => (await take("b")) && limiter.stats().mode === "shared", 15_000, "Redis up");
      expect(changes().map((l) => l.msg)).toEqual([UNAVAILABLE, BACK]);
      expect(modes).toEqual(["local", "shared"]);
    } finally {
      await limiter.close();
    }
  });

  it("limits in process while Redis is down, says so once, and shares the budget again when it is back", async () => {
    const { limiter, take, changes, modes } = limiterOn(redis.url, { retryAfterMs: 200, perMinute: 6 }); // bursts of 1
    try {
      expect((await take("c")).allowed).toBe(true);
      expect((await take("c")).allowed).toBe(false);
      await redis.stop();
      const during = [await take("d"), await take("d"), await take("d")];
      expect(during.map((d) => d.allowed)).toEqual([true, false, false]);
      expect(limiter.stats()).toEqual({ mode: "local", shared: 2, local: 3, refused: 3 });
      expect(changes()).toEqual([expect.objectContaining({ level: 40, msg: UNAVAILABLE })]);
      expect(changes()[0]!.err?.message).toMatch(/\S/);

      await redis.start();
      await eventually(async () => (await take("e")) && limiter.stats().mode === "shared", 15_000, "Redis back");
      expect(changes().map((l) => [l.level, l.msg])).toEqual([
        [40, UNAVAILABLE],
        [30, BACK],
      ]);
      expect(modes).toEqual(["local", "shared"]);
    } finally {
      await limiter.close();
    }
  });

  it("after a command times out, decides in process for retryAfterMs, though Redis answers again", async () => {
    const { limiter, take, modes } = limiterOn(redis.url, { commandTimeoutMs: 300, retryAfterMs: 600_000 });
    const probe = new Redis(redis.url);
    try {
      expect(await take("f")).toMatchObject({ allowed: true, remaining: 9 });
      redis.pause();
      try {
        expect(await take("f")).toMatchObject({ allowed: true, remaining: 9 }); // a fresh local bucket
      } finally {
        redis.resume();
      }
      expect(await probe.ping()).toBe("PONG");
      expect(await take("f")).toMatchObject({ allowed: true, remaining: 8 });
      expect(limiter.stats()).toEqual({ mode: "local", shared: 1, local: 2, refused: 0 });
      expect(modes).toEqual(["local"]);
    } finally {
      await limiter.close();
      probe.disconnect();
    }
  });

  it("lets go of its connection when closed", async () => {
    const probe = new Redis(redis.url);
    const clients = async () =>
      String(await probe.client("LIST"))
        .trim()
        .split("\n").length;
    const { limiter, take } = limiterOn(redis.url);
    try {
      await take("g");
      const connected = await clients();
      await limiter.close();
      await eventually(async () => (await clients()) === connected - 1, 5000, "the connection closed");
    } finally {
      probe.disconnect();
    }
  });
});
