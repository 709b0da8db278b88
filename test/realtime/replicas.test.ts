// Two real server processes (`bun src/main.ts serve`) sharing one PostgreSQL and one Redis, polling a
// local GTFS-Realtime server: one poll per interval between them, and the same board from both.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDGE, type GtfsEnv, gtfsEnv, SLOW } from "../gtfs/helpers";
import { type AppServer, eventually, startAppServer } from "../support/app-server";
import { testRedisUrl } from "../support/services";
import { encodeFeed, type FeedServer, startFeedServer } from "./helpers";

const INTERVAL_MS = 1000;
const BOARD = `/v1/stops/gare/departures?at=${encodeURIComponent("2024-06-12T08:00:00-04:00")}&window=60`;

const delayed = (seconds: number) =>
  encodeFeed(Math.floor(Date.now() / 1000), [
    {
      id: "t1",
      tripUpdate: {
        trip: { tripId: "t1", startDate: "20240612" },
        stopTimeUpdate: [{ stopSequence: 1, departure: { delay: seconds } }],
      },
    },
  ]);

describe("two replicas, one Redis", () => {
  let feed: FeedServer;
  let env: GtfsEnv;
  let replicas: AppServer[] = [];
  let dir: string;

  beforeAll(async () => {
    feed = await startFeedServer();
    feed.set({ kind: "feed", bytes: delayed(120) }, "/tu");
    env = await gtfsEnv();
    await env.import(EDGE);
    // A Redis database of its own, emptied: no turn or snapshot left from another run.
    const redisUrl = `${await testRedisUrl()}/9`;
    const redis = new Redis(redisUrl);
    await redis.flushdb();
    redis.disconnect();
    dir = mkdtempSync(join(tmpdir(), "tapi-rt-"));
    const config = join(dir, "config.yaml");
    writeFileSync(config, `realtime:\n  poll_interval: ${INTERVAL_MS / 1000}\n  timeout: 0.5\n  max_age: 300\n`);
    const common = {
      DATABASE_URL: env.db!.url,
      REDIS_URL: redisUrl,
      // Snapshots in Redis are signed with it, and checked by the replica that loads them.
      API_SECRET: "replicas-test-secret",
      GTFS_RT_TRIP_UPDATES_URL: feed.url("/tu"),
      CONFIG_FILE: config,
    };
    replicas = await Promise.all([startAppServer({ env: common }), startAppServer({ env: common })]);
  }, SLOW);
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await env?.close();
    await feed?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, SLOW);

  const boards = () => Promise.all(replicas.map(async (r) => (await fetch(`${r.url}${BOARD}`)).text()));
  const delayOf = (body: string) => JSON.parse(body).data.departures[0]?.realtime?.delay_seconds;

  it(
    "answer the same board from the same snapshot",
    async () => {
      await eventually(
        async () => {
          const [a, b] = await boards();
          return delayOf(a!) === 120 && a === b;
        },
        30_000,
        "both replicas to show the 120 s delay",
      );
      feed.set({ kind: "feed", bytes: delayed(300) }, "/tu");
      await eventually(
        async () => {
          const [a, b] = await boards();
          return delayOf(a!) === 300 && a === b;
        },
        30_000,
        "both replicas to show the new snapshot's 300 s delay",
      );
    },
    SLOW,
  );

  it(
    "poll the source once per interval between them",
    async () => {
      const from = feed.requests.length;
      await eventually(async () => feed.requests.length - from >= 6, 30_000, "six more polls");
      const times = feed.requests.slice(from).map((r) => r.at);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      // Two pollers on their own would each poll every second: gaps far below the interval.
      expect(Math.min(...gaps)).toBeGreaterThan(INTERVAL_MS * 0.8);
      expect(times.length).toBeLessThanOrEqual(Math.floor((times.at(-1)! - times[0]!) / INTERVAL_MS) + 1);
    },
    SLOW,
  );

  it(
    "stay ready and keep answering from the last snapshot while the source fails",
    async () => {
      const from = feed.requests.length;
      feed.set({ kind: "status", status: 500 }, "/tu");
      await eventually(async () => feed.requests.slice(from).some((r) => r.status === 500), 30_000, "a failed poll");
      for (const r of replicas) {
        expect((await fetch(`${r.url}/ready`)).status).toBe(200);
      }
      const [a, b] = await boards();
      expect([delayOf(a!), delayOf(b!)]).toEqual([300, 300]);
      expect(a).toBe(b);
      const logs = replicas.map((r) => r.output()).join("\n");
      expect(logs).toContain(
        "realtime: trip_updates poll failed: HTTP 500 Internal Server Error; keeping the last good snapshot",
      );
    },
    SLOW,
  );
});
