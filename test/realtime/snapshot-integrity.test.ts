// Snapshots shared through Redis are untrusted input: two replicas (in-process apps on one PostgreSQL
// and one real Redis, the same API_SECRET), and a third party writing the shared snapshot directly.
// The replica that follows loads only what a replica of this deployment signed, and keeps its last
// good snapshot when the stored one is unsigned, altered or moved under another version; without a
// signing key (no API_SECRET), bytes that are not protobuf are refused the same way.
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryCoordinator } from "../../src/modules/realtime/coordinator";
import { sharedSnapshotFollower } from "../../src/modules/realtime/follow-shared";
import { createRealtimeService } from "../../src/modules/realtime/service";
import { EDGE, type GtfsEnv, gtfsEnv, SLOW } from "../gtfs/helpers";
import { eventually } from "../support/app-server";
import { testRedisUrl } from "../support/services";
import { createTestApp, type TestApp } from "../support/test-app";
import { encodeFeed, type FeedServer, startFeedServer } from "./helpers";

const BOARD = `/v1/stops/gare/departures?at=${encodeURIComponent("2024-06-12T08:00:00-04:00")}&window=60`;
const SNAPSHOT = "tapi:rt:trip_updates:snapshot";
const CHANNEL = "tapi:rt:published:tapi:rt:";

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

describe("shared realtime snapshots", () => {
  let feed: FeedServer;
  let poller: GtfsEnv;
  let follower: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    feed = await startFeedServer();
    feed.set({ kind: "feed", bytes: delayed(120) }, "/tu");
    // A Redis database of its own, emptied: no turn or snapshot left from another run.
    const redisUrl = `${await testRedisUrl()}/10`;
    redis = new Redis(redisUrl);
    await redis.flushdb();
    const env = {
      REDIS_URL: redisUrl,
      API_SECRET: "snapshot-integrity-secret",
      GTFS_RT_TRIP_UPDATES_URL: feed.url("/tu"),
    };
    poller = await gtfsEnv({ env, realtime: (deps) => createRealtimeService(deps) });
    await poller.import(EDGE);
    // The poller's forced poll holds the turn for a whole interval (30 s): the follower only follows.
    expect(await poller.app.realtime!.pollNow("trip_updates")).toBe("published");
    follower = await createTestApp(
      { ...env, DATABASE_URL: poller.db!.url },
      { database: poller.app.database, realtime: (deps) => createRealtimeService(deps) },
    );
    await follower.realtime!.start();
  }, SLOW);
  afterAll(async () => {
    await follower?.close();
    await poller?.close();
    redis?.disconnect();
    await feed?.close();
  }, SLOW);

  const delayOnFollower = async () =>
    (
      (await (await follower.fetch(BOARD)).json()) as {
        data: { departures: { realtime: { delay_seconds: number } | null }[] };
      }
    ).data.departures[0]?.realtime?.delay_seconds;
  const refusals = (version: string) =>
    follower
      .logLines()
      .filter((l) => l.msg === "realtime: shared snapshot refused, keeping the last good one" && l.version === version);
  /** Writes the shared snapshot as someone with access to Redis could, and announces it. */
  const forge = async (fields: Record<string, string | Buffer>) => {
    await redis.hset(SNAPSHOT, fields);
    await redis.publish(CHANNEL, `trip_updates ${fields.version}`);
  };

  it(
    "follows the snapshot the poller signed",
    async () => {
      await eventually(async () => (await delayOnFollower()) === 120, 30_000, "the follower to show the 120 s delay");
      expect((await redis.hget(SNAPSHOT, "tag"))?.length).toBeGreaterThan(0);
    },
    SLOW,
  );

  it(
    "refuses an unsigned, altered or re-versioned snapshot, and keeps the last good one",
    async () => {
      const genuine = await redis.hgetallBuffer(SNAPSHOT);
      const fetchedAt = String(Date.now());
      const cases: Record<string, string | Buffer>[] = [
        // No tag at all, as a writer without API_SECRET would leave it.
        { version: "forged-1", fetched_at: fetchedAt, bytes: Buffer.from(delayed(900)), tag: "" },
        // The genuine tag over other bytes.
        { version: "forged-2", fetched_at: fetchedAt, bytes: Buffer.from(delayed(900)), tag: genuine.tag! },
        // The genuine bytes and tag under another version.
        { version: "forged-3", fetched_at: genuine.fetched_at!, bytes: genuine.bytes!, tag: genuine.tag! },
      ];
      for (const fields of cases) {
        const version = String(fields.version);
        await forge(fields);
        await eventually(async () => refusals(version).length === 1, 30_000, `the follower to refuse ${version}`);
        expect((refusals(version)[0]!.err as { message: string }).message).toMatch(/is not signed by this deployment/);
        expect(await delayOnFollower()).toBe(120);
      }
      // Announcing a refused version again does not load it again.
      await redis.publish(CHANNEL, "trip_updates forged-1");
      await follower.realtime!.settled();
      expect(refusals("forged-1")).toHaveLength(1);
    },
    SLOW,
  );

  it(
    "follows the next snapshot the poller publishes",
    async () => {
      feed.set({ kind: "feed", bytes: delayed(300) }, "/tu");
      expect(await poller.app.realtime!.pollNow("trip_updates")).toBe("published");
      await eventually(async () => (await delayOnFollower()) === 300, 30_000, "the follower to show the 300 s delay");
    },
    SLOW,
  );
});

describe("following a shared snapshot", () => {
  it("refuses one that does not decode, once, and keeps answering from the last good one", async () => {
    const coordinator = memoryCoordinator();
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    let current: string | undefined;
    const follow = sharedSnapshotFollower({
      coordinator,
      logger,
      track: (work) => work,
      current: () => current,
      apply: async (_source, version) => {
        current = version;
      },
    });
    await coordinator.publish("trip_updates", { version: "good", fetchedAt: Date.now(), bytes: delayed(60) });
    await follow("trip_updates");
    expect(current).toBe("good");
    const garbage = new TextEncoder().encode("<html>not a feed</html>");
    await coordinator.publish("trip_updates", { version: "garbage", fetchedAt: Date.now(), bytes: garbage });
    await follow("trip_updates");
    await follow("trip_updates", "garbage");
    expect(current).toBe("good");
    const refused = lines.filter((l) => l.msg === "realtime: shared snapshot refused, keeping the last good one");
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ source: "trip_updates", version: "garbage" });
    expect((refused[0]!.err as { message: string }).message).toMatch(/^it does not decode: /);
  });
});
