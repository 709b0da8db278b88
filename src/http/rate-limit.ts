// Per-client request budget for /v1: `rate_limit` requests a minute per API key (its name), in bursts
// of a sixth of that. The algorithm is GCRA (a token bucket kept as one timestamp, the "theoretical
// arrival time"): one number per client, updated in one step. With Redis the step is one Lua script, so
// every replica draws from the same bucket (a client gets its limit, not replicas × its limit), timed by
// Redis's clock, not the replicas'. Without Redis, or while it is unreachable, each replica keeps
// buckets in process (bounded, least recently used go first) and says so in the log, once per change.
import { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import type { Logger } from "../logging/logger";

export interface RateDecision {
  allowed: boolean;
  /** Requests the client may still make right away (the RateLimit header's `r`). */
  remaining: number;
  /** Milliseconds until one more request is allowed; 0 when the bucket is full. */
  nextMs: number;
}

export interface RateLimiterStats {
  /** Where decisions are made now. */
  mode: "shared" | "local";
  /** Decisions made in Redis / in process, and requests refused, since start (for metrics). */
  shared: number;
  local: number;
  refused: number;
}

export interface RateLimiter {
  readonly perMinute: number;
  take(client: string): RateDecision | Promise<RateDecision>;
  stats(): RateLimiterStats;
  close(): Promise<void>;
}

/** Bucket parameters for `perMinute`: the emission interval T and the burst (bucket size). */
export function bucket(perMinute: number) {
  return { intervalMs: 60_000 / perMinute, burst: Math.max(1, Math.ceil(perMinute / 6)) };
}

/**
 * One GCRA step: `tat` is the client's theoretical arrival time (ms), `now` the time of the request.
 * Returns the decision and the new tat to store (undefined: store nothing).
 */
export function gcra(
  tat: number | undefined,
  now: number,
  intervalMs: number,
  burst: number,
): RateDecision & { tat?: number } {
  const start = tat === undefined || tat < now ? now : tat;
  const tolerance = (burst - 1) * intervalMs;
  if (start - now > tolerance) return { allowed: false, remaining: 0, nextMs: start - now - tolerance };
  const next = start + intervalMs;
  const backlog = next - now;
  return {
    allowed: true,
    remaining: Math.floor((burst * intervalMs - backlog) / intervalMs),
    nextMs: backlog % intervalMs || intervalMs,
    tat: next,
  };
}

/** Buckets in process. `maxClients` bounds memory; the least recently seen client is forgotten first. */
export function createLocalRateLimiter(perMinute: number, maxClients = 100_000, now = Date.now): RateLimiter {
  const { intervalMs, burst } = bucket(perMinute);
  // Forgetting a bucket refills it, so the least recently seen go first (not all at once at a limit).
  const buckets = new LRUCache<string, number>({ max: maxClients });
  const counts = { local: 0, refused: 0 };
  return {
    perMinute,
    take(client) {
      const t = now();
      const decision = gcra(buckets.get(client), t, intervalMs, burst);
      if (decision.tat !== undefined) buckets.set(client, decision.tat);
      counts.local++;
      if (!decision.allowed) counts.refused++;
      return decision;
    },
    stats: () => ({ mode: "local", shared: 0, ...counts }),
    close: async () => {},
  };
}

// The same step as `gcra`, atomically in Redis. Redis's TIME keeps replicas with drifting clocks fair;
// it is allowed before writes since Redis 5 (effects replication).
const TAKE_LUA = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local tolerance = (burst - 1) * interval
if tat - now > tolerance then
  return {0, 0, math.ceil(tat - now - tolerance)}
end
local nxt = tat + interval
local backlog = nxt - now
redis.call('SET', KEYS[1], tostring(nxt), 'PX', math.ceil(backlog))
local wait = backlog % interval
if wait == 0 then wait = interval end
return {1, math.floor((burst * interval - backlog) / interval), math.ceil(wait)}
`;

export interface SharedRateLimiterOptions {
  url: string;
  perMinute: number;
  logger: Logger;
  /** Per command; past it the decision is made in process. */
  commandTimeoutMs: number;
  /** After a failed command, how long to decide in process before trying Redis again. */
  retryAfterMs?: number;
  keyPrefix?: string;
  /** Called when decisions move to the process or back to Redis (metrics: ratelimit_backend_fallback). */
  onModeChange?: (mode: RateLimiterStats["mode"]) => void;
}

type TakeCommand = (key: string, interval: number, burst: number) => Promise<[number, number, number]>;

/** Buckets in Redis, shared by every replica; in process while Redis cannot be reached. */
export function createSharedRateLimiter(options: SharedRateLimiterOptions): RateLimiter {
  const { logger, perMinute } = options;
  const { intervalMs, burst } = bucket(perMinute);
  const retryAfterMs = options.retryAfterMs ?? 2000;
  const fallback = createLocalRateLimiter(perMinute);
  const client = new Redis(options.url, {
    enableOfflineQueue: false, // while disconnected a command fails at once: no request waits for Redis
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: 2000,
    keyPrefix: options.keyPrefix ?? "tapi:ratelimit:",
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  client.defineCommand("rateLimitTake", { numberOfKeys: 1, lua: TAKE_LUA });
  client.on("error", () => {}); // reported through the mode change below, not per reconnect attempt
  let connected = false;
  const firstConnection = new Promise<void>((resolve) =>
    client.once("ready", () => {
      connected = true;
      resolve();
    }),
  );
  /**
   * At start-up requests wait for the first connection, at most a command's time from the first one,
   * and once: without Redis from the start, later requests are decided in process at once (and the
   * fallback is reported), not each after a command's time.
   */
  let startUp: Promise<void> | undefined;
  const waitForFirstConnection = () =>
    (startUp ??= new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.commandTimeoutMs);
      void firstConnection.then(() => {
        clearTimeout(timer);
        resolve();
      });
    }));
  const take = (client as unknown as { rateLimitTake: TakeCommand }).rateLimitTake.bind(client);

  let mode: RateLimiterStats["mode"] = "shared";
  let pausedUntil = 0;
  let shared = 0;
  let refused = 0;
  const enter = (next: RateLimiterStats["mode"], err?: unknown) => {
    if (next === mode) return;
    mode = next;
    options.onModeChange?.(next);
    if (next === "local")
      logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) } },
        "rate limit: Redis unavailable, each replica limits on its own until it is back",
      );
    else logger.info("rate limit: shared through Redis again");
  };
  const local = (client: string, err?: unknown): RateDecision => {
    enter("local", err);
    return fallback.take(client) as RateDecision;
  };

  return {
    perMinute,
    async take(name) {
      if (!connected) await waitForFirstConnection();
      if (client.status !== "ready" || Date.now() < pausedUntil) return local(name, `redis ${client.status}`);
      try {
        const [allowed, remaining, nextMs] = await take(name, intervalMs, burst);
        enter("shared");
        shared++;
        if (allowed !== 1) refused++;
        return { allowed: allowed === 1, remaining, nextMs };
      } catch (err) {
        pausedUntil = Date.now() + retryAfterMs;
        return local(name, err);
      }
    },
    stats: () => {
      const l = fallback.stats();
      return { mode, shared, local: l.local, refused: refused + l.refused };
    },
    async close() {
      client.disconnect();
    },
  };
}

/** The RateLimit-Policy and RateLimit header values (draft-ietf-httpapi-ratelimit-headers-11). */
export function rateLimitHeaders(perMinute: number, decision: RateDecision): { policy: string; limit: string } {
  const reset = decision.nextMs > 0 ? `;t=${Math.ceil(decision.nextMs / 1000)}` : "";
  return { policy: `"per-key";q=${perMinute};w=60`, limit: `"per-key";r=${decision.remaining}${reset}` };
}
