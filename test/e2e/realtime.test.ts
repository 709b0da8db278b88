// GTFS-Realtime through the real image: the container polls a local GTFS-Realtime server (protobuf
// feeds built with the official bindings) and its boards, trips and /v1/alerts carry what the feeds
// say. The edge fixture runs in America/New_York; t1 leaves gare at 08:10 on 2024-06-12.

import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { encodeFeed, type FeedServer, startFeedServer } from "../realtime/helpers";
import { freePort, type ServerProcess, startPostgres, startRedis } from "../support/processes";
import { REPO_ROOT } from "../support/repo";
import {
  API_KEY,
  type Container,
  e2eSuite,
  get,
  type ImageUnderTest,
  imageUnderTest,
  runOnce,
  startService,
  waitFor,
} from "./support/docker";

const suite = e2eSuite();

const EDGE = join(REPO_ROOT, "test/fixtures/gtfs/edge");
const BOARD = `/v1/stops/gare/departures?at=${encodeURIComponent("2024-06-12T08:00:00-04:00")}&window=60`;

suite("realtime served by the image", () => {
  let image: ImageUnderTest;
  let postgres: ServerProcess;
  let redis: ServerProcess;
  let feeds: FeedServer;
  let api: Container;

  beforeAll(async () => {
    [image, postgres, redis, feeds] = await Promise.all([
      imageUnderTest(),
      startPostgres(),
      startRedis(),
      startFeedServer(),
    ]);
    const now = Math.floor(Date.now() / 1000);
    feeds.set(
      {
        kind: "feed",
        bytes: encodeFeed(now, [
          {
            id: "t1",
            tripUpdate: {
              trip: { tripId: "t1", startDate: "20240612" },
              stopTimeUpdate: [{ stopSequence: 1, departure: { delay: 180 } }],
            },
          },
        ]),
      },
      "/trip-updates",
    );
    feeds.set(
      {
        kind: "feed",
        bytes: encodeFeed(now, [
          {
            id: "detour",
            alert: {
              informedEntity: [{ routeId: "R1" }],
              effect: "DETOUR",
              headerText: { translation: [{ text: "Route 1 detour", language: "en" }] },
            },
          },
        ]),
      },
      "/alerts",
    );
    const env = { DATABASE_URL: postgres.url, REDIS_URL: redis.url, API_KEY };
    const migrate = await runOnce(image.ref, { args: ["migrate"], env });
    if (migrate.code !== 0) throw new Error(`migrate failed: ${migrate.stderr}`);
    const imported = await runOnce(image.ref, {
      args: ["import", "/feeds/edge"],
      env,
      mounts: { [EDGE]: "/feeds/edge" },
    });
    if (imported.code !== 0) throw new Error(`import failed: ${imported.stderr}`);
    api = await startService(image.ref, await freePort(), {
      env: {
        ...env,
        // The container shares the host's network, so it reaches the feed server on 127.0.0.1.
        GTFS_RT_TRIP_UPDATES_URL: feeds.url("/trip-updates"),
        GTFS_RT_ALERTS_URL: feeds.url("/alerts"),
      },
    });
  }, 1_800_000);

  afterAll(async () => {
    await api?.remove();
    await feeds?.close();
    await Promise.allSettled([postgres?.destroy(), redis?.destroy()]);
  }, 120_000);

  const v1 = async (path: string) => {
    const response = await get(`${api.url}${path}`, { "x-api-key": API_KEY });
    expect(response.status, `${path}: ${response.body}`).toBe(200);
    return response.json();
  };

  it("shows the delay on the board and the trip, and the alert on both and in /v1/alerts", async () => {
    await waitFor(
      async () => (await v1(BOARD)).data.realtime_sources.trip_updates.status === "current",
      60_000,
      "the board to use the TripUpdates snapshot",
    );
    const board = (await v1(BOARD)).data;
    expect(board.departures[0]).toMatchObject({
      trip_id: "t1",
      departure: "2024-06-12T08:10:00-04:00",
      realtime: { departure: "2024-06-12T08:13:00-04:00", delay_seconds: 180, status: "SCHEDULED" },
    });
    expect(board.alerts.map((a: { id: string }) => a.id)).toEqual(["detour"]);
    const trip = (await v1("/v1/trips/t1?date=2024-06-12")).data;
    expect(trip.stop_times.map((s: { realtime: { delay_seconds: number } }) => s.realtime.delay_seconds)).toEqual([
      180, 180, 180,
    ]);
    expect(trip.alerts.map((a: { id: string }) => a.id)).toEqual(["detour"]);
    const alerts = await v1("/v1/alerts?route_id=R1");
    expect(alerts.data[0]).toMatchObject({
      id: "detour",
      effect: "DETOUR",
      header_text: [{ language: "en", text: "Route 1 detour" }],
    });
    expect(feeds.requests.filter((r) => r.path === "/trip-updates").length).toBeGreaterThanOrEqual(1);
  });
});
