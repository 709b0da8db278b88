// Cached answers in Redis are untrusted: an entry written by anyone but a replica of this deployment
// (no signature, a wrong one, or a genuine one copied to another key) is not served. Real Redis 7 and
// PostgreSQL 15, the cache as the service composes it (openCache: Redis, signed, never failing a request).
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openCache } from "../../src/cache/open-cache";
import { loadConfig } from "../../src/config/load";
import { EDGE, type GtfsEnv, gtfsEnv, SLOW } from "../gtfs/helpers";
import { eventually } from "../support/app-server";
import { type ServerProcess, startRedis } from "../support/processes";
import { createTestApp } from "../support/test-app";

const BOARD = `/v1/stops/central/departures?at=${encodeURIComponent("2024-06-13T06:00:00-04:00")}&window=20`;
const STOP = "/v1/stops/central";

describe("cache entries from Redis are checked before they are served", () => {
  let redis: ServerProcess;
  let raw: Redis;
  let env: GtfsEnv;
  const warnings: string[] = [];
  const cacheFor = () => {
    const config = loadConfig({
      env: { REDIS_URL: redis.url, API_SECRET: "cache-signing-secret-for-tests", NODE_ENV: "test" },
      file: "config.yaml",
    });
    const sink = new Writable({
      write(chunk, _enc, cb) {
        warnings.push(chunk.toString());
        cb();
      },
    });
    return openCache(config, pino({ level: "warn" }, sink));
  };
  /** A replica with an empty in-process layer, so its answers come from Redis or the database. */
  const fromReplica = async (path: string) => {
    const replica = await createTestApp({ DATABASE_URL: env.db!.url }, { cache: cacheFor() });
    try {
      const res = await replica.fetch(path);
      return { cache: res.headers.get("x-cache"), body: await res.text() };
    } finally {
      await replica.close();
    }
  };
  const keyOf = async (pattern: string) => {
    const keys = await raw.keys(pattern);
    expect(keys).toHaveLength(1);
    return keys[0]!;
  };

  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
    const cache = cacheFor();
    await eventually(async () => cache.ping(500).then(() => true), 10_000, "redis connect");
    env = await gtfsEnv({ cache });
    await env.import(EDGE);
  }, SLOW);
  afterAll(async () => {
    raw?.disconnect();
    await env?.close();
    await redis?.destroy();
  }, SLOW);

  it(
    "serves its own entries to every replica, and never a forged, altered or moved one",
    async () => {
      const genuine = await env.app.fetch(BOARD);
      expect(genuine.headers.get("x-cache")).toBe("miss");
      const body = await genuine.text();
      await env.app.fetch(STOP);
      expect(await fromReplica(BOARD)).toEqual({ cache: "hit", body }); // replicas share signed entries

      const boardKey = await keyOf("tapi:gtfs:*:board:*");
      const stopKey = await keyOf("tapi:gtfs:*:stop:central");
      const signedBoard = (await raw.get(boardKey))!;
      expect(signedBoard).toMatch(/^v1:[A-Za-z0-9_-]{43}:\{/);
      const forged = JSON.stringify({ data: { departures: [{ headsign: "Free rides: call 555-0100" }] } });
      const poisoned = [
        forged, // what whoever reaches port 6379 could write
        `v1:${"A".repeat(43)}:${forged}`, // a made-up signature
        signedBoard.replace(/"departures":\[/, `"departures":[{"headsign":"tampered"},`), // a genuine one, altered
      ];
      for (const value of poisoned) {
        await raw.set(boardKey, value, "PX", 60_000);
        const served = await fromReplica(BOARD);
        expect(served.cache).toBe("miss");
        expect(served.body).toBe(body);
        expect(await raw.get(boardKey)).toBe(signedBoard); // healed: rewritten from the database
      }
      // A genuine entry of another key: signed, but not for this key.
      const stopBody = (await fromReplica(STOP)).body;
      await raw.set(stopKey, signedBoard, "PX", 60_000);
      expect(await fromReplica(STOP)).toEqual({ cache: "miss", body: stopBody });
      expect(warnings.join("")).toContain("cache entry failed its integrity check");
    },
    SLOW,
  );
});
