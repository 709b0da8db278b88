// Per-client request budget for /v1 (token bucket). Clients are told apart by their API key; each
// replica keeps its own buckets, so the cluster-wide budget is this × replicas.
export interface RateLimiter {
  /** Returns 0 when the request may proceed, otherwise the seconds to wait. */
  take(client: string, now?: number): number;
}

export function createRateLimiter(perMinute: number, burst = Math.max(1, Math.ceil(perMinute / 6))): RateLimiter {
  const refillPerMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(client, now = Date.now()) {
      let b = buckets.get(client);
      if (!b) {
        if (buckets.size > 10_000) buckets.clear(); // bound memory against key-spraying
        b = { tokens: burst, at: now };
        buckets.set(client, b);
      }
      b.tokens = Math.min(burst, b.tokens + (now - b.at) * refillPerMs);
      b.at = now;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.ceil((1 - b.tokens) / refillPerMs / 1000);
    },
  };
}
