// GTFS-Realtime TripUpdates merged into departure boards and trips, end to end: protobuf feeds built
// with the official bindings, served over HTTP by a local server, polled by the service, matched
// against the edge fixture on a real PostgreSQL. The edge feed runs in America/New_York; 2024-06-12
// is a Wednesday. t1: central-1 08:00 (seq 1), gare 08:09/08:10 (2), zurich 08:20 (3);
// t2: zurich 09:00, gare 09:10, central-2 09:20; f1 every 20 min 06:00–07:00 (exact), central-2 +0,
// gare +5; f2 hourly 22:00–25:00 (headway-based), gare +0, central-1 +7.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activeFeed, hotQuery } from "../../src/modules/gtfs/api/active-feed";
import { realtimeMetricsStats } from "../../src/modules/realtime/metrics-stats";
import { createRealtimeService, type RealtimeService } from "../../src/modules/realtime/service";
import { createMetrics } from "../../src/observability/metrics";
import { EDGE, type GtfsEnv, gtfsEnv, SLOW } from "../gtfs/helpers";
import { lockTable, waitersOn } from "../support/pg-locks";
import { parseExposition, sampleValue } from "../support/prometheus-text";
import { encodeFeed, type FeedServer, secs, startFeedServer } from "./helpers";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Row = Record<string, any>;

const NOW = secs("2024-06-12T08:05:00-04:00");
const enc = encodeURIComponent;

describe("trip updates on boards and trips", () => {
  let server: FeedServer;
  let env: GtfsEnv;
  let clock = NOW * 1000;
  let realtime: RealtimeService;

  beforeAll(async () => {
    server = await startFeedServer();
    env = await gtfsEnv({
      env: { GTFS_RT_TRIP_UPDATES_URL: server.url("/tu"), GTFS_RT_VEHICLE_POSITIONS_URL: server.url("/vp") },
      configure: (c) => {
        c.realtime.timeout = 0.5;
        c.realtime.max_age = 300;
        c.realtime.poll_interval = 20; // below a board's 30 s and a trip's 300 s of Cache-Control
      },
      realtime: (deps) => createRealtimeService({ ...deps, now: () => clock }),
    });
    realtime = env.app.realtime!;
    await env.import(EDGE);
  }, SLOW);
  afterAll(async () => {
    await env?.close();
    await server?.close();
  }, SLOW);

  /** Serves `entities` as the TripUpdates feed and has the service poll it. */
  async function publish(entities: Parameters<typeof encodeFeed>[1], timestamp = NOW) {
    server.set({ kind: "feed", bytes: encodeFeed(timestamp, entities) }, "/tu");
    // "unchanged": the same bytes as the snapshot already served (an earlier test published them).
    expect(["published", "unchanged"]).toContain(await realtime.pollNow("trip_updates"));
  }

  async function departures(stop: string, at: string, window = 60) {
    const res = await env.get(`/v1/stops/${stop}/departures?at=${enc(at)}&window=${window}`);
    expect(res.status).toBe(200);
    return res.body.data;
  }

  const line = (d: Row) => [
    d.trip_id,
    d.departure,
    d.realtime?.departure ?? null,
    d.realtime?.delay_seconds ?? null,
    d.realtime?.status ?? null,
  ];

  const t1 = (stopTimeUpdate: object[], extra: object = {}) => ({
    id: "e-t1",
    tripUpdate: { trip: { tripId: "t1", startDate: "20240612", ...extra }, stopTimeUpdate },
  });

  it(
    "a delay at one stop propagates to the later stops, scheduled fields stay as they were",
    async () => {
      await publish([t1([{ stopSequence: 1, departure: { delay: 120 } }])]);
      const gare = await departures("gare", "2024-06-12T08:00:00-04:00");
      expect(gare.realtime_sources.trip_updates).toEqual({
        status: "current",
        updated_at: "2024-06-12T08:05:00-04:00",
      });
      expect(gare.departures[0]).toMatchObject({
        trip_id: "t1",
        departure_time: "08:10:00",
        departure: "2024-06-12T08:10:00-04:00",
        realtime: {
          departure: "2024-06-12T08:12:00-04:00",
          delay_seconds: 120,
          status: "SCHEDULED",
          updated_at: "2024-06-12T08:05:00-04:00",
        },
      });
      const zurich = await departures("zurich", "2024-06-12T08:00:00-04:00");
      expect(zurich.departures.map(line)).toEqual([
        ["t1", "2024-06-12T08:20:00-04:00", "2024-06-12T08:22:00-04:00", 120, "SCHEDULED"],
      ]);
      // Another service day's instance of t1 is not affected.
      const thursday = await departures("zurich", "2024-06-13T08:00:00-04:00");
      expect(thursday.departures.map(line)).toEqual([["t1", "2024-06-13T08:20:00-04:00", null, null, null]]);
    },
    SLOW,
  );

  it(
    "the next update ends the propagation; absolute time beats delay; stop_id names a stop",
    async () => {
      await publish([
        t1([
          { stopSequence: 1, departure: { delay: 120 } },
          { stopId: "gare", departure: { time: secs("2024-06-12T08:15:00-04:00"), delay: 60 } },
        ]),
      ]);
      const trip = await env.get("/v1/trips/t1?date=2024-06-12");
      expect(trip.status).toBe(200);
      expect(trip.body.data.realtime).toEqual({ status: "SCHEDULED", updated_at: "2024-06-12T08:05:00-04:00" });
      expect(
        trip.body.data.stop_times.map((s: Row) => [
          s.stop_id,
          s.departure,
          s.realtime.departure,
          s.realtime.delay_seconds,
        ]),
      ).toEqual([
        ["central-1", "2024-06-12T08:00:00-04:00", "2024-06-12T08:02:00-04:00", 120],
        ["gare", "2024-06-12T08:10:00-04:00", "2024-06-12T08:15:00-04:00", 300],
        ["zurich", "2024-06-12T08:20:00-04:00", "2024-06-12T08:25:00-04:00", 300],
      ]);
      // The arrival at gare (scheduled 08:09) takes the departure's delay.
      expect(trip.body.data.stop_times[1].realtime.arrival).toBe("2024-06-12T08:14:00-04:00");

      await publish([
        t1([
          { stopSequence: 1, departure: { delay: 120 } },
          { stopSequence: 3, arrival: { delay: 0 } },
        ]),
      ]);
      const zurich = await departures("zurich", "2024-06-12T08:00:00-04:00");
      expect(zurich.departures.map(line)).toEqual([
        ["t1", "2024-06-12T08:20:00-04:00", "2024-06-12T08:20:00-04:00", 0, "SCHEDULED"],
      ]);
    },
    SLOW,
  );

  it(
    "SKIPPED shows on its stop and the delay carries over it; NO_DATA leaves this and later stops unknown",
    async () => {
      await publish([
        t1([
          { stopSequence: 1, departure: { delay: 60 } },
          { stopSequence: 2, scheduleRelationship: "SKIPPED" },
        ]),
      ]);
      expect((await departures("gare", "2024-06-12T08:00:00-04:00")).departures.map(line)).toEqual([
        ["t1", "2024-06-12T08:10:00-04:00", null, null, "SKIPPED"],
      ]);
      expect((await departures("zurich", "2024-06-12T08:00:00-04:00")).departures.map(line)).toEqual([
        ["t1", "2024-06-12T08:20:00-04:00", "2024-06-12T08:21:00-04:00", 60, "SCHEDULED"],
      ]);

      await publish([
        t1([
          { stopSequence: 1, departure: { delay: 60 } },
          { stopSequence: 2, scheduleRelationship: "NO_DATA" },
        ]),
      ]);
      const trip = await env.get("/v1/trips/t1?date=2024-06-12");
      expect(
        trip.body.data.stop_times.map((s: Row) => [s.stop_id, s.realtime.status, s.realtime.delay_seconds]),
      ).toEqual([
        ["central-1", "SCHEDULED", 60],
        ["gare", "NO_DATA", null],
        ["zurich", "NO_DATA", null],
      ]);
    },
    SLOW,
  );

  it(
    "a canceled trip stays on the board with its status; a late departure moves into the window and the order follows expected times",
    async () => {
      await publish([
        { id: "c", tripUpdate: { trip: { tripId: "t1", startDate: "20240612", scheduleRelationship: "CANCELED" } } },
      ]);
      expect((await departures("gare", "2024-06-12T08:00:00-04:00")).departures.map(line)).toEqual([
        ["t1", "2024-06-12T08:10:00-04:00", null, null, "CANCELED"],
      ]);
      expect((await env.get("/v1/trips/t1?date=2024-06-12")).body.data.realtime.status).toBe("CANCELED");
      // DELETED: the reference says not to show it to riders at all.
      await publish([
        { id: "d", tripUpdate: { trip: { tripId: "t1", startDate: "20240612", scheduleRelationship: "DELETED" } } },
      ]);
      expect((await departures("gare", "2024-06-12T08:00:00-04:00")).departures).toEqual([]);

      // 70 minutes late: expected 09:20 at gare, after t2's 09:10.
      await publish([t1([{ stopSequence: 1, departure: { delay: 4200 } }])]);
      expect((await departures("gare", "2024-06-12T08:00:00-04:00", 120)).departures.map(line)).toEqual([
        ["t2", "2024-06-12T09:10:00-04:00", null, null, null],
        ["t1", "2024-06-12T08:10:00-04:00", "2024-06-12T09:20:00-04:00", 4200, "SCHEDULED"],
      ]);
      // Scheduled 08:10, so not in the timetable's 09:00–09:30 board: realtime brings it in.
      const late = await departures("gare", "2024-06-12T09:00:00-04:00", 30);
      expect(late.departures.map(line)).toEqual([
        ["t2", "2024-06-12T09:10:00-04:00", null, null, null],
        ["t1", "2024-06-12T08:10:00-04:00", "2024-06-12T09:20:00-04:00", 4200, "SCHEDULED"],
      ]);
      expect(late.departures[1]).toMatchObject({
        route_short_name: "1",
        headsign: "Downtown",
        departure_time: "08:10:00",
        stop_sequence: 2,
      });
    },
    SLOW,
  );

  it(
    "an ADDED/NEW trip that is not in the timetable appears on boards and as a trip",
    async () => {
      await publish([
        {
          id: "x",
          tripUpdate: {
            trip: { tripId: "extra-1", routeId: "R1", startDate: "20240612", scheduleRelationship: "NEW" },
            tripProperties: { tripHeadsign: "Stadium" },
            stopTimeUpdate: [
              { stopId: "gare", departure: { time: secs("2024-06-12T08:30:00-04:00") } },
              { stopId: "zurich", arrival: { time: secs("2024-06-12T08:40:00-04:00") } },
            ],
          },
        },
      ]);
      const gare = await departures("gare", "2024-06-12T08:00:00-04:00");
      expect(gare.departures.map(line)).toEqual([
        ["t1", "2024-06-12T08:10:00-04:00", null, null, null],
        ["extra-1", null, "2024-06-12T08:30:00-04:00", null, "ADDED"],
      ]);
      expect(gare.departures[1]).toMatchObject({
        route_id: "R1",
        route_short_name: "1",
        headsign: "Stadium",
        departure_time: null,
      });
      const trip = await env.get("/v1/trips/extra-1");
      expect(trip.status).toBe(200);
      expect(trip.body.data).toMatchObject({
        trip_id: "extra-1",
        route_id: "R1",
        service_date: "2024-06-12",
        realtime: { status: "ADDED" },
      });
      expect(trip.body.data.stop_times.map((s: Row) => [s.stop_id, s.realtime.departure])).toEqual([
        ["gare", "2024-06-12T08:30:00-04:00"],
        ["zurich", "2024-06-12T08:40:00-04:00"],
      ]);
      expect((await env.get("/v1/trips/nowhere")).status).toBe(404);
    },
    SLOW,
  );

  it(
    "frequency-based trips match by start_date + start_time (exact_times=0: the nearest nominal instance)",
    async () => {
      await publish([
        {
          id: "f1",
          tripUpdate: {
            trip: { tripId: "f1", startDate: "20240612", startTime: "06:20:00" },
            stopTimeUpdate: [{ stopSequence: 1, departure: { delay: 240 } }],
          },
        },
        {
          id: "f2",
          tripUpdate: {
            trip: { tripId: "f2", startDate: "20240612", startTime: "23:04:00" },
            stopTimeUpdate: [{ stopSequence: 1, departure: { time: secs("2024-06-12T23:06:00-04:00") } }],
          },
        },
      ]);
      const central2 = await departures("central-2", "2024-06-12T06:00:00-04:00");
      expect(central2.departures.map((d: Row) => [d.start_time, ...line(d).slice(1)])).toEqual([
        ["06:00:00", "2024-06-12T06:00:00-04:00", null, null, null],
        ["06:20:00", "2024-06-12T06:20:00-04:00", "2024-06-12T06:24:00-04:00", 240, "SCHEDULED"],
        ["06:40:00", "2024-06-12T06:40:00-04:00", null, null, null],
      ]);
      // f2 runs every hour from 22:00; an instance reported to start at 23:04 is the 23:00 one.
      const gare = await departures("gare", "2024-06-12T22:30:00-04:00", 90);
      expect(gare.departures.map((d: Row) => [d.trip_id, d.start_time, d.realtime?.departure ?? null])).toEqual([
        ["f2", "23:00:00", "2024-06-12T23:06:00-04:00"],
      ]);
      // Same trip, other day: nothing.
      const other = await departures("central-2", "2024-06-13T06:15:00-04:00", 10);
      expect(other.departures.map(line)).toEqual([["f1", "2024-06-13T06:20:00-04:00", null, null, null]]);
    },
    SLOW,
  );

  it(
    "without start_date, the running instance nearest the update's timestamp",
    async () => {
      await publish([
        {
          id: "n",
          tripUpdate: { trip: { tripId: "t1" }, stopTimeUpdate: [{ stopSequence: 3, arrival: { delay: 30 } }] },
        },
      ]);
      expect((await departures("zurich", "2024-06-12T08:00:00-04:00")).departures.map(line)).toEqual([
        ["t1", "2024-06-12T08:20:00-04:00", "2024-06-12T08:20:30-04:00", 30, "SCHEDULED"],
      ]);
      expect((await departures("zurich", "2024-06-11T08:00:00-04:00")).departures.map(line)).toEqual([
        ["t1", "2024-06-11T08:20:00-04:00", null, null, null],
      ]);
    },
    SLOW,
  );

  it(
    "a snapshot older than max_age is ignored and the answer says so",
    async () => {
      await publish([t1([{ stopSequence: 1, departure: { delay: 120 } }])], NOW - 301);
      const gare = await departures("gare", "2024-06-12T08:00:00-04:00");
      expect(gare.realtime_sources.trip_updates).toEqual({ status: "stale", updated_at: "2024-06-12T07:59:59-04:00" });
      expect(gare.departures.map(line)).toEqual([["t1", "2024-06-12T08:10:00-04:00", null, null, null]]);
      await publish([t1([{ stopSequence: 1, departure: { delay: 120 } }])], NOW - 299);
      expect((await departures("gare", "2024-06-12T08:00:00-04:00")).realtime_sources.trip_updates.status).toBe(
        "current",
      );
      // The same snapshot turns stale as the clock moves on, without a new poll.
      clock += 2000;
      expect((await departures("gare", "2024-06-12T08:00:00-04:00")).realtime_sources.trip_updates.status).toBe(
        "stale",
      );
      clock = NOW * 1000;
    },
    SLOW,
  );

  it(
    "a body that is not protobuf is logged and the last good snapshot stays",
    async () => {
      await publish([t1([{ stopSequence: 1, departure: { delay: 120 } }])]);
      server.set({ kind: "garbage", bytes: new TextEncoder().encode("<html>Service unavailable</html>") }, "/tu");
      expect(await realtime.pollNow("trip_updates")).toBe("failed");
      const logged = env.app.logLines().filter((l) => String(l.msg).includes("trip_updates poll failed"));
      expect(String(logged.at(-1)?.msg)).toMatch(
        /trip_updates poll failed: malformed protobuf: .*; keeping the last good snapshot \(produced 2024-06-12T12:05:00\.000Z\)/,
      );
      expect(realtime.stats().sources.trip_updates).toMatchObject({
        consecutive_failures: 1,
        last_error: expect.stringMatching(/^malformed protobuf/),
      });
      expect((await departures("gare", "2024-06-12T08:00:00-04:00")).departures.map(line)).toEqual([
        ["t1", "2024-06-12T08:10:00-04:00", "2024-06-12T08:12:00-04:00", 120, "SCHEDULED"],
      ]);
    },
    SLOW,
  );

  it(
    "a server that does not answer, or stops half way through the body, times out and the snapshot stays",
    async () => {
      await publish([t1([{ stopSequence: 1, departure: { delay: 120 } }])]);
      server.set({ kind: "hang" }, "/tu");
      expect(await realtime.pollNow("trip_updates")).toBe("failed");
      expect(realtime.stats().sources.trip_updates?.last_error).toBe("no answer within 0.5 s");
      server.set(
        { kind: "stall-body", bytes: encodeFeed(NOW, [t1([{ stopSequence: 1, departure: { delay: 999 } }])]) },
        "/tu",
      );
      expect(await realtime.pollNow("trip_updates")).toBe("failed");
      expect(realtime.stats().sources.trip_updates?.last_error).toBe("body not complete within 0.5 s");
      expect(realtime.stats().sources.trip_updates?.consecutive_failures).toBe(2);
      expect((await departures("gare", "2024-06-12T08:00:00-04:00")).departures.map(line)).toEqual([
        ["t1", "2024-06-12T08:10:00-04:00", "2024-06-12T08:12:00-04:00", 120, "SCHEDULED"],
      ]);
    },
    SLOW,
  );

  it(
    "metrics show the served snapshot's age, the failed polls and the age past which it is ignored",
    async () => {
      const metrics = createMetrics({ version: "1", commit: "c", processMetrics: false });
      metrics.watch.realtime(realtimeMetricsStats(realtime));
      const scrape = async () => parseExposition((await metrics.render()).body);
      await publish([t1([{ stopSequence: 1, departure: { delay: 60 } }])], NOW - 40);
      const failuresBefore = realtime.stats().sources.trip_updates!.failures;
      server.set({ kind: "hang" }, "/tu");
      expect(await realtime.pollNow("trip_updates")).toBe("failed");
      clock += 20_000;
      try {
        const s = await scrape();
        // The snapshot describes NOW − 40 s; the clock reads NOW + 20 s.
        expect(sampleValue(s, "gtfs_realtime_snapshot_age_seconds", { source: "trip_updates" })).toBe(60);
        expect(sampleValue(s, "gtfs_realtime_poll_failures_total", { source: "trip_updates" })).toBe(
          failuresBefore + 1,
        );
        expect(sampleValue(s, "gtfs_realtime_max_age_seconds")).toBe(300);
        // A source with no snapshot yet has no age (not 0, which would read as fresh).
        expect(sampleValue(s, "gtfs_realtime_snapshot_age_seconds", { source: "vehicle_positions" })).toBeUndefined();
      } finally {
        clock = NOW * 1000;
      }
    },
    SLOW,
  );

  it(
    "asks with If-None-Match and takes a 304 as nothing new",
    async () => {
      const bytes = encodeFeed(NOW, [t1([{ stopSequence: 1, departure: { delay: 60 } }])]);
      server.set({ kind: "feed", bytes, etag: '"v42"' }, "/tu");
      expect(await realtime.pollNow("trip_updates")).toBe("published");
      expect(await realtime.pollNow("trip_updates")).toBe("not-modified");
      const last = server.requests.filter((r) => r.path === "/tu").at(-1)!;
      expect([last.headers["if-none-match"], last.status]).toEqual(['"v42"', 304]);
      expect(realtime.stats().sources.trip_updates?.consecutive_failures).toBe(0);
    },
    SLOW,
  );
  it(
    "shows where the vehicle serving the trip instance was last seen (VehiclePositions)",
    async () => {
      const vehicle = {
        trip: { tripId: "t1", startDate: "20240612" },
        vehicle: { id: "bus-7", label: "7" },
        position: { latitude: 40.75, longitude: -73.5, bearing: 90 },
        stopId: "gare",
        currentStopSequence: 2,
        timestamp: NOW - 10,
      };
      server.set({ kind: "feed", bytes: encodeFeed(NOW, [{ id: "v7", vehicle }]) }, "/vp");
      expect(await realtime.pollNow("vehicle_positions")).toBe("published");
      expect((await env.get("/v1/trips/t1?date=2024-06-12")).body.data.vehicle).toEqual({
        vehicle_id: "bus-7",
        label: "7",
        latitude: 40.75,
        longitude: -73.5,
        bearing: 90,
        speed: null,
        stop_id: "gare",
        current_stop_sequence: 2,
        timestamp: "2024-06-12T08:04:50-04:00",
      });
      expect((await env.get("/v1/trips/t1?date=2024-06-13")).body.data.vehicle).toBeNull();
    },
    SLOW,
  );
  it(
    "a board or trip merged with realtime is validated per snapshot: a new one changes the ETag, and neither a 304 nor the fast path serves the older merge",
    async () => {
      const board = `/v1/stops/gare/departures?at=${enc("2024-06-12T08:00:00-04:00")}&window=60`;
      const trip = "/v1/trips/t1?date=2024-06-12";
      const request = (path: string, headers: Record<string, string> = {}) =>
        new Request(`http://localhost${path}`, { headers });
      const delays = async (res: Response) => {
        const data = (await res.json()).data;
        return data.departures ? data.departures[0].realtime.delay_seconds : data.stop_times[0].realtime.delay_seconds;
      };
      const tags = new Map<string, string>();
      await publish([t1([{ stopSequence: 1, departure: { delay: 60 } }])]);
      for (const path of [board, trip]) {
        const first = await env.app.fetch(path);
        expect(first.status).toBe(200);
        expect(await delays(first)).toBe(60);
        // The realtime part is as old as one poll interval at most: so is what a client may keep.
        expect(first.headers.get("cache-control")).toBe("public, max-age=20");
        const etag = first.headers.get("etag")!;
        tags.set(path, etag);
        // Asked again: answered synchronously from the fast path, the same representation.
        const again = env.app.handle(request(path, { "if-none-match": etag }));
        expect(again).toBeInstanceOf(Response);
        expect((again as Response).status).toBe(304);
      }

      await publish([t1([{ stopSequence: 1, departure: { delay: 240 } }])]);
      for (const path of [board, trip]) {
        const old = tags.get(path)!;
        const res = await env.app.handle(request(path, { "if-none-match": old }));
        expect(res.status, path).toBe(200);
        expect(await delays(res)).toBe(240);
        const etag = res.headers.get("etag")!;
        expect(etag).not.toBe(old);
        const revalidated = await env.app.handle(request(path, { "if-none-match": etag }));
        expect(revalidated.status).toBe(304);
        expect(revalidated.headers.get("etag")).toBe(etag);
        const plain = await env.app.handle(request(path));
        expect(await delays(plain)).toBe(240);
      }
    },
    SLOW,
  );
  it(
    "a snapshot of the same second as the last one still changes merged answers when one was asked for while it was indexed",
    async () => {
      // Header timestamps have whole seconds, so A and B below share one. An answer asked for between
      // B's arrival and its index build merges A's index under B's version: once B's index is in place,
      // that merge (and its view key, the fast path's live stamp) must no longer be the current one.
      const board = `/v1/stops/gare/departures?at=${enc("2024-06-12T08:00:00-04:00")}&window=60`;
      const delay = async () => {
        const res = await env.get(board);
        expect(res.status).toBe(200);
        return res.body.data.departures[0].realtime?.delay_seconds;
      };
      const feed = await activeFeed(hotQuery(env.app.database));
      const version = () => realtime.stats().sources.trip_updates?.snapshot?.version;
      await publish([t1([{ stopSequence: 1, departure: { delay: 60 } }])]);
      const versionA = version();
      expect(await delay()).toBe(60);

      // Each build asks which service days run (service_dates): holding that table holds B's build.
      const url = env.db!.url;
      const lock = await lockTable(url, `"${feed.schema}".service_dates`);
      let polled: Promise<unknown> | undefined;
      try {
        server.set(
          { kind: "feed", bytes: encodeFeed(NOW, [t1([{ stopSequence: 1, departure: { delay: 180 } }])]) },
          "/tu",
        );
        polled = realtime.pollNow("trip_updates");
        await waitersOn(url, lock.pid, 1, "the index build of trip updates B to wait for service_dates");
        expect(version()).not.toBe(versionA);
        expect(await delay()).toBe(60); // B has arrived, A's index is still the one there is
        const during = realtime.viewKey(feed);
        await lock.release();
        expect(await polled).toBe("published");
        expect(realtime.viewKey(feed)).not.toBe(during);
        expect(await delay()).toBe(180);
      } finally {
        await lock.release();
        await polled?.catch(() => {});
      }
    },
    SLOW,
  );
});

describe("realtime parameters and a board without realtime", () => {
  let env: GtfsEnv;
  beforeAll(async () => {
    env = await gtfsEnv({ realtime: (deps) => createRealtimeService(deps) });
    await env.import(EDGE);
  }, SLOW);
  afterAll(() => env?.close(), SLOW);

  it(
    "says realtime is disabled and keeps every departure's realtime null",
    async () => {
      const res = await env.get(`/v1/stops/gare/departures?at=${enc("2024-06-12T08:00:00-04:00")}`);
      expect(res.body.data.realtime_sources).toEqual({
        trip_updates: { status: "disabled", updated_at: null },
        alerts: { status: "disabled", updated_at: null },
      });
      expect(res.body.data.alerts).toEqual([]);
      expect(res.body.data.departures.map((d: Record<string, unknown>) => d.realtime)).toEqual([null]);
    },
    SLOW,
  );
});
