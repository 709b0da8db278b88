import { describe, expect, it } from "vitest";
import { createRateLimiter } from "../../src/http/rate-limit";

describe("rate limiter", () => {
  it("allows a burst, then refills at the configured rate per client", () => {
    const limiter = createRateLimiter(60, 3); // 1 per second, bursts of 3
    const t0 = 1_000_000;
    expect([limiter.take("a", t0), limiter.take("a", t0), limiter.take("a", t0)]).toEqual([0, 0, 0]);
    expect(limiter.take("a", t0)).toBe(1); // empty: wait one second
    expect(limiter.take("b", t0)).toBe(0); // other clients are unaffected
    expect(limiter.take("a", t0 + 1000)).toBe(0);
    expect(limiter.take("a", t0 + 1000)).toBe(1);
    expect(limiter.take("a", t0 + 10_000)).toBe(0); // refills, capped at the burst
    expect([limiter.take("a", t0 + 10_000), limiter.take("a", t0 + 10_000), limiter.take("a", t0 + 10_000)]).toEqual([
      0, 0, 1,
    ]);
  });
});
