// Redis through ioredis, set up to fail fast: no offline queue (a command while disconnected errors at
// once), one retry per command, a command timeout, and reconnection in the background so the cache
// comes back by itself when Redis does.
import { Redis } from "ioredis";
import { withTimeout } from "../db/database";
import type { Logger } from "../logging/logger";
import type { Cache } from "./cache";

export interface RedisCacheOptions {
  url: string;
  commandTimeoutMs: number;
  keyPrefix?: string;
  /** Told whether the client is connected and ready, at start and on every change (metrics). */
  onConnectionChange?: (up: boolean) => void;
}

export function createRedisCache(options: RedisCacheOptions, logger: Logger): Cache {
  const client = new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: 2000,
    keyPrefix: options.keyPrefix ?? "tapi:",
    lazyConnect: false,
    // Reconnect quickly at first, then every second: Redis is back in service within ~1 s of returning.
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  let lastState = "connecting";
  options.onConnectionChange?.(false);
  const logState = (state: string, err?: Error) => {
    if (state === lastState) return;
    lastState = state;
    options.onConnectionChange?.(state === "ready");
    const fields = err ? { err: { message: err.message } } : {};
    if (state === "ready") logger.info(fields, "redis connected");
    else logger.warn(fields, `redis ${state}`);
  };
  client.on("ready", () => logState("ready"));
  client.on("error", (err) => logState("unavailable", err));
  client.on("end", () => logState("closed"));

  return {
    kind: "redis",
    async get(key) {
      return (await client.get(key)) ?? undefined;
    },
    async set(key, value, ttlSeconds) {
      await client.set(key, value, "PX", Math.max(1, Math.round(ttlSeconds * 1000)));
    },
    ping: (timeoutMs) =>
      withTimeout(
        client.ping().then(() => undefined),
        timeoutMs,
        "redis ping",
      ),
    async close() {
      client.disconnect();
    },
  };
}
