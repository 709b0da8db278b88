import { describe, expect, it } from "vitest";
import { createLocalRateLimiter, gcra, type RateDecision, rateLimitHeaders } from "../../src/http/rate-limit";

describe("rate limiter (in process)", () => {
  it("allows a burst of a sixth of the minute, then refills at the configured rate per client", () => {
    let now = 1_000_000;
    const limiter = createLocalRateLimiter(60, 100, () => now); // 1 per second, bursts of 10
    const take = (client: string) => limiter.take(client) as RateDecision;
    const burst = Array.from({ length: 10 }, () => take("a"));
    expect(burst.map((d) => d.allowed)).toEqual(Array(10).fill(true));
    expect(burst.map((d) => d.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(take("a")).toEqual({ allowed: false, remaining: 0, nextMs: 1000 }); // empty: one more in a second
    expect(take("b")).toMatchObject({ allowed: true, remaining: 9 }); // other clients are unaffected
    now += 1000;
    expect(take("a")).toMatchObject({ allowed: true, remaining: 0 });
    expect(take("a").allowed).toBe(false);
    now += 60_000; // refills, capped at the burst
    expect(Array.from({ length: 11 }, () => take("a").allowed).filter(Boolean)).toHaveLength(10);
    expect(limiter.stats()).toMatchObject({ mode: "local", refused: 3 });
  });

  it("keeps a client's spent budget however many other clients come (no reset at 10 000 keys)", () => {
    const now = 5_000_000;
    const limiter = createLocalRateLimiter(6, 100_000, () => now); // bursts of 1
    expect((limiter.take("spent") as RateDecision).allowed).toBe(true);
    for (let i = 0; i < 10_001; i++) limiter.take(`sprayed-${i}`);
    expect((limiter.take("spent") as RateDecision).allowed).toBe(false);
  });

  it("GCRA: reports the wait for the next request and stores nothing when refusing", () => {
    const full = gcra(undefined, 0, 1000, 2);
    expect(full).toEqual({ allowed: true, remaining: 1, nextMs: 1000, tat: 1000 });
    const second = gcra(full.tat, 0, 1000, 2);
    expect(second).toEqual({ allowed: true, remaining: 0, nextMs: 1000, tat: 2000 });
    expect(gcra(second.tat, 250, 1000, 2)).toEqual({ allowed: false, remaining: 0, nextMs: 750 });
    expect(gcra(second.tat, 1000, 1000, 2)).toMatchObject({ allowed: true, remaining: 0, nextMs: 1000 });
  });

  it("words the IETF RateLimit-Policy and RateLimit fields", () => {
    expect(rateLimitHeaders(600, { allowed: true, remaining: 99, nextMs: 120 })).toEqual({
      policy: '"per-key";q=600;w=60',
      limit: '"per-key";r=99;t=1',
    });
    expect(rateLimitHeaders(600, { allowed: true, remaining: 100, nextMs: 0 }).limit).toBe('"per-key";r=100');
  });
});
