// SQL is code too, and mutation tools do not mutate inside SQL strings: every clause of the board and
// lookup queries (src/modules/gtfs/api/departures.ts, queries.ts) gets an answer here that only that
// clause decides, on test/fixtures/gtfs/clauses (Europe/Zurich; boards read on Monday 2024-06-17).
// File order differs from id order on purpose: stop, trip and route indexes follow the file.

import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Cache } from "../../src/cache/cache";
import { createMemoryCache } from "../../src/cache/memory-cache";
import { activeFeed, type HotQuery, hotQuery } from "../../src/modules/gtfs/api/active-feed";
import { departureBoard } from "../../src/modules/gtfs/api/departures";
import { listFeeds } from "../../src/modules/gtfs/api/queries";
import { REPO_ROOT } from "../support/repo";
import { SLOW, suiteGtfsEnv } from "./helpers";

const CLAUSES = join(REPO_ROOT, "test/fixtures/gtfs/clauses");
const MONDAY = "2024-06-17";

/**
 * A cache that records the TTL of every entry it is given. It says it is Redis: answers are stored in
 * the shared layer only when there is one (without Redis the in-process answers are the only layer).
 */
function recordingCache(): Cache & { sets: { key: string; ttl: number }[] } {
  const inner = createMemoryCache(10_000);
  const sets: { key: string; ttl: number }[] = [];
  return {
    kind: "redis",
    sets,
    get: (key) => inner.get(key),
    async set(key, value, ttl) {
      sets.push({ key, ttl });
      await inner.set(key, value, ttl);
    },
    ping: (ms) => inner.ping(ms),
    close: () => inner.close(),
  };
}

const cache = recordingCache();
const env = suiteGtfsEnv([CLAUSES], { cache });

type Line = [trip: string, stop: string, date: string, time: string];
async function boardOf(stop: string, at: string, window = 60, limit?: number): Promise<Line[]> {
  const res = await env.get(
    `/v1/stops/${stop}/departures?at=${encodeURIComponent(at)}&window=${window}${limit ? `&limit=${limit}` : ""}`,
  );
  if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.departures.map((d: Record<string, string>) => [
    d.trip_id,
    d.stop_id,
    d.service_date,
    d.departure_time,
  ]);
}

describe("departure board SQL", () => {
  it(
    "lists exactly the station family's departures in [at, at + window), in time, trip, stop order",
    async () => {
      expect(await boardOf("station", `${MONDAY}T08:00:00+02:00`)).toEqual([
        // Same instant: trip order (late is trip 1, early trip 2), not stop order (z-platform is stop 2).
        ["late", "a-platform", MONDAY, "08:00:00"], // at itself is in: `x.dep between d.lo and d.hi`
        ["early", "z-platform", MONDAY, "08:00:00"],
        ["freq", "a-platform", MONDAY, "08:10:00"], // frequency instances: the template joined to its window
        ["freq", "a-platform", MONDAY, "08:25:00"],
        ["split", "z-platform", MONDAY, "08:45:00"], // same trip and instant: stop order (z is stop 2, a stop 3)
        ["split", "a-platform", MONDAY, "08:45:00"],
        ["freq2", "a-platform", MONDAY, "08:50:00"], // each frequency trip with its own window
        ["boarding", "z-boarding", MONDAY, "08:50:00"], // a platform's boarding area: the station's too
        ["twin", "z-platform", MONDAY, "08:59:59"], // the last second of the window
      ]);
      // Left out, each by one clause: ab at 07:59:59 and 09:00:00 (the range), weekend (service_dates
      // on that date), twin at 08:20 and freq at z-platform (pickup_type=1), every `other` row (the
      // stop filter), the entrance (no departures of its own).
    },
    SLOW,
  );

  it(
    "cuts the window to the second inside one hour bucket, at both ends",
    async () => {
      // 08:45 is in the same hour bucket as the window's last second, 08:44:59.
      expect(await boardOf("station", `${MONDAY}T08:00:00+02:00`, 45)).toEqual([
        ["late", "a-platform", MONDAY, "08:00:00"],
        ["early", "z-platform", MONDAY, "08:00:00"],
        ["freq", "a-platform", MONDAY, "08:10:00"],
        ["freq", "a-platform", MONDAY, "08:25:00"],
      ]);
      // 08:00:00 is in the same hour bucket as the window's first second, 08:00:01.
      expect(await boardOf("station", `${MONDAY}T08:00:01+02:00`, 44)).toEqual([
        ["freq", "a-platform", MONDAY, "08:10:00"],
        ["freq", "a-platform", MONDAY, "08:25:00"],
      ]);
    },
    SLOW,
  );

  it(
    "names each departure's own stop (ids and indexes of the family stay paired)",
    async () => {
      const res = await env.get(`/v1/stops/station/departures?at=${encodeURIComponent(`${MONDAY}T08:00:00+02:00`)}`);
      expect(res.body.data.stop_ids).toEqual(["a-platform", "entrance", "station", "z-boarding", "z-platform"]);
      const byTrip = Object.fromEntries(
        res.body.data.departures.map((d: Record<string, string>) => [d.trip_id, [d.stop_id, d.route_short_name]]),
      );
      expect(byTrip.late).toEqual(["a-platform", "2"]); // route names joined by route_id
      expect(byTrip.early).toEqual(["z-platform", "1"]);
    },
    SLOW,
  );

  it(
    "a platform's board is the platform alone (not its boarding area); a plain stop's is the stop alone",
    async () => {
      expect(await boardOf("z-platform", `${MONDAY}T08:00:00+02:00`)).toEqual([
        ["early", "z-platform", MONDAY, "08:00:00"],
        ["split", "z-platform", MONDAY, "08:45:00"],
        ["twin", "z-platform", MONDAY, "08:59:59"],
      ]);
      expect(await boardOf("other", `${MONDAY}T08:00:00+02:00`)).toEqual([
        ["freq", "other", MONDAY, "08:20:00"],
        ["late", "other", MONDAY, "08:30:00"],
        ["ab", "other", MONDAY, "08:30:00"], // pickup_type=2 (phone the agency) is still a departure
        ["freq", "other", MONDAY, "08:35:00"],
        ["early", "other", MONDAY, "08:40:00"],
      ]);
    },
    SLOW,
  );

  it(
    "runs a service on the dates it runs: the weekend trip on Saturday",
    async () => {
      expect((await boardOf("z-platform", "2024-06-22T08:29:00+02:00", 2)).map((l) => l[0])).toEqual(["weekend"]);
    },
    SLOW,
  );

  it(
    "past midnight: yesterday's 24:10 comes before today's 00:20, also when the limit keeps one",
    async () => {
      const at = `${MONDAY}T00:00:00+02:00`;
      expect(await boardOf("station", at)).toEqual([
        ["night", "z-platform", "2024-06-16", "24:10:00"],
        ["dawn", "z-platform", MONDAY, "00:20:00"],
      ]);
      expect(await boardOf("station", at, 60, 1)).toEqual([["night", "z-platform", "2024-06-16", "24:10:00"]]);
    },
    SLOW,
  );

  it(
    "the limit cuts in SQL, after ordering by instant, trip and stop",
    async () => {
      // The statement itself, not only the answer (which is sorted and sliced again in JS).
      const hot = hotQuery(env.app.database);
      const rows: Record<string, number> = {};
      const recording: HotQuery = async <R>(name: string, text: string, values: unknown[]) => {
        const result = await hot<R>(name, text, values);
        rows[name.replace(/_gtfs_f\d+$/, "")] = result.length;
        return result;
      };
      const feed = await activeFeed(hot);
      const at = Date.parse(`${MONDAY}T08:00:00+02:00`);
      const cut = async (limit: number) =>
        (await departureBoard(recording, feed, "station", at, 60, limit)).departures.map((d) => [d.trip_id, d.stop_id]);
      expect(await cut(1)).toEqual([["late", "a-platform"]]);
      expect(rows.board).toBe(1);
      expect(await cut(2)).toEqual([
        ["late", "a-platform"],
        ["early", "z-platform"],
      ]);
      expect(rows.board).toBe(2);
      const at845 = Date.parse(`${MONDAY}T08:45:00+02:00`);
      const split = await departureBoard(recording, feed, "station", at845, 60, 1);
      expect(split.departures.map((d) => [d.trip_id, d.stop_id])).toEqual([["split", "z-platform"]]);
      expect(rows.board).toBe(1);
    },
    SLOW,
  );

  it(
    "reads a stop's family and the route names once per version, and again after a failed read",
    async () => {
      const hot = hotQuery(env.app.database);
      const feed = await activeFeed(hot);
      const calls: string[] = [];
      let failRoutes = 1;
      // A fresh HotQuery has caches of its own (they are kept per query function).
      const counting: HotQuery = async <R>(name: string, text: string, values: unknown[]) => {
        const what = name.replace(/_gtfs_f\d+$/, "");
        calls.push(what);
        if (what === "board_routes" && failRoutes-- > 0) throw new Error("connection terminated");
        return hot<R>(name, text, values);
      };
      const at = Date.parse(`${MONDAY}T08:00:00+02:00`);
      await expect(departureBoard(counting, feed, "station", at, 60, 10)).rejects.toThrow("connection terminated");
      const first = await departureBoard(counting, feed, "station", at, 60, 10);
      expect(first.departures[0]).toMatchObject({ trip_id: "late", route_short_name: "2" });
      await departureBoard(counting, feed, "station", at, 60, 10);
      await departureBoard(counting, feed, "z-platform", at, 60, 10);
      const count = (what: string) => calls.filter((c) => c === what).length;
      expect(count("board_stop")).toBe(2); // station once (kept after the failed board), z-platform once
      expect(count("board_routes")).toBe(2); // the failed read, then once
      expect(count("board")).toBe(4);
      // frequency templates for every board of a stop a frequency-based trip calls at; the service days
      // only when there are templates (none at z-platform, where freq does not pick up)
      expect(count("board_freq")).toBe(4);
      expect(count("board_freq_days")).toBe(3);
      expect(first.stop_ids).toEqual(["a-platform", "entrance", "station", "z-boarding", "z-platform"]);
      // an unknown stop is asked for each time (nothing is kept for it), and is a 404
      await expect(departureBoard(counting, feed, "nowhere", at, 60, 10)).rejects.toThrow("stop nowhere not found");
      await expect(departureBoard(counting, feed, "nowhere", at, 60, 10)).rejects.toThrow("stop nowhere not found");
      expect(count("board_stop")).toBe(4);
    },
    SLOW,
  );
});

describe("departure fields", () => {
  it(
    "say whether a departure is frequency-based, with exact times or not, and which instance it is",
    async () => {
      const hot = hotQuery(env.app.database);
      const feed = await activeFeed(hot);
      const fields = async (stop: string, at: string) =>
        (await departureBoard(hot, feed, stop, Date.parse(at), 60, 20)).departures.map((d) => [
          d.trip_id,
          d.departure_time,
          d.frequency_based,
          d.exact_times,
          d.start_time,
        ]);
      expect(await fields("station", `${MONDAY}T08:00:00+02:00`)).toEqual([
        ["late", "08:00:00", false, null, null],
        ["early", "08:00:00", false, null, null],
        ["freq", "08:10:00", true, true, "08:10:00"],
        ["freq", "08:25:00", true, true, "08:25:00"],
        ["split", "08:45:00", false, null, null],
        ["split", "08:45:00", false, null, null],
        ["freq2", "08:50:00", true, false, "08:50:00"],
        ["boarding", "08:50:00", false, null, null],
        ["twin", "08:59:59", false, null, null],
      ]);
      // at `other`, 10 minutes into each instance: the instance is named by its first departure
      expect((await fields("other", `${MONDAY}T08:00:00+02:00`)).filter((d) => d[2])).toEqual([
        ["freq", "08:20:00", true, true, "08:10:00"],
        ["freq", "08:35:00", true, true, "08:25:00"],
      ]);
    },
    SLOW,
  );
});

describe("lookup SQL", () => {
  it(
    "feed versions: the one served, with its dates and row counts",
    async () => {
      const feeds = await listFeeds(env.app.database.db);
      expect(feeds.next_cursor).toBeNull();
      expect(feeds.data).toHaveLength(1);
      expect(feeds.data[0]).toMatchObject({ status: "active", active: true, start_date: "2024-01-01" });
      expect(feeds.data[0]!.activated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(feeds.data[0]!.row_counts).toMatchObject({ "stops.txt": 13 });
    },
    SLOW,
  );

  it(
    "agencies: ordered by id, paged by cursor",
    async () => {
      const first = await env.get("/v1/agencies?limit=1");
      expect(first.body.data.map((a: { agency_id: string }) => a.agency_id)).toEqual(["A"]);
      const second = await env.get(`/v1/agencies?limit=1&cursor=${first.body.next_cursor}`);
      expect(second.body).toMatchObject({ data: [{ agency_id: "B", agency_name: "Beta Buses" }], next_cursor: null });
    },
    SLOW,
  );

  it(
    "routes: ordered by id, each filter alone and both together, paged by cursor",
    async () => {
      const ids = async (query: string) =>
        (await env.get(`/v1/routes${query}`)).body.data.map((r: { route_id: string }) => r.route_id);
      expect(await ids("")).toEqual(["r1", "r2", "r3"]);
      expect(await ids("?agency_id=B")).toEqual(["r2", "r3"]);
      expect(await ids("?route_type=0")).toEqual(["r1"]);
      expect(await ids("?route_type=3&agency_id=B")).toEqual(["r2", "r3"]);
      expect(await ids("?route_type=0&agency_id=B")).toEqual([]);
      const page = await env.get("/v1/routes?agency_id=B&limit=1");
      expect(page.body.data.map((r: { route_id: string }) => r.route_id)).toEqual(["r2"]);
      expect(await ids(`?agency_id=B&limit=1&cursor=${page.body.next_cursor}`)).toEqual(["r3"]);
    },
    SLOW,
  );

  it(
    "one route: its agency, its own trips counted, distinct non-empty headsigns",
    async () => {
      const route = (await env.get("/v1/routes/r2")).body.data;
      expect(route).toMatchObject({
        route_id: "r2",
        trip_count: 5,
        agency: { agency_id: "B", agency_name: "Beta Buses" },
      });
      expect([...route.headsigns].sort()).toEqual(["AB", "Late", "Twin"]);
      expect((await env.get("/v1/routes/r1")).body.data).toMatchObject({
        trip_count: 4,
        agency: { agency_name: "Alpha Trams" },
      });
    },
    SLOW,
  );

  it(
    "stop search: prefix, then word start, then anywhere; ties by name then id; entrances left out",
    async () => {
      // "Cloaked Meadow" sorts before "Old Oak" by name, but only contains "oak": after it.
      const expected = ["s1", "s2", "station", "a-platform", "z-platform", "old", "cloaked"];
      const ids = async (query: string) =>
        (await env.get(`/v1/stops${query}`)).body.data.map((s: { stop_id: string }) => s.stop_id);
      expect(await ids("?q=OAK")).toEqual(expected);
      // Paged two at a time, the cursor continues exactly where the page ended, across ranks and ties.
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const res: { body: { data: { stop_id: string }[]; next_cursor: string | null } } = await env.get(
          `/v1/stops?q=oak&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        );
        expect(res.body.data.length).toBeLessThanOrEqual(2);
        paged.push(...res.body.data.map((s) => s.stop_id));
        cursor = res.body.next_cursor;
      } while (cursor);
      expect(paged).toEqual(expected);
      // LIKE's wildcards in a query are literal characters.
      expect(await ids(`?q=${encodeURIComponent("%")}`)).toEqual(["pct"]);
      expect(await ids("?q=_")).toEqual(["under"]);
      // Without a query: every stop by id (entrances too), paged.
      expect(await ids("?limit=3")).toEqual(["a-platform", "cloaked", "corner"]);
      const firstPage = await env.get("/v1/stops?limit=3");
      expect(await ids(`?limit=3&cursor=${firstPage.body.next_cursor}`)).toEqual(["entrance", "old", "other"]);
    },
    SLOW,
  );

  it(
    "nearby: stops and stations within the radius by distance, entrances left out",
    async () => {
      const res = await env.get("/v1/stops/nearby?lat=47&lon=8&radius=50");
      expect(res.body.data.map((s: { stop_id: string; distance_m: number }) => [s.stop_id, s.distance_m])).toEqual([
        ["station", 0],
        ["z-platform", 11.1],
        ["corner", 21.2],
        ["a-platform", 22.2],
      ]);
      const one = await env.get("/v1/stops/nearby?lat=47&lon=8&radius=50&limit=1");
      expect(one.body.data.map((s: { stop_id: string }) => s.stop_id)).toEqual(["station"]);
      // The kiosk, 15 m north and 15 m east, is inside the search box of a 20 m radius but 21.2 m away.
      const within20 = await env.get("/v1/stops/nearby?lat=47&lon=8&radius=20");
      expect(within20.body.data.map((s: { stop_id: string }) => s.stop_id)).toEqual(["station", "z-platform"]);
    },
    SLOW,
  );

  it(
    "one stop: its parent, and its children by id",
    async () => {
      const station = (await env.get("/v1/stops/station")).body.data;
      expect(station.parent).toBeNull();
      expect(station.children.map((c: { stop_id: string }) => c.stop_id)).toEqual([
        "a-platform",
        "entrance",
        "z-platform",
      ]);
      const platform = (await env.get("/v1/stops/z-platform")).body.data;
      expect(platform.parent).toMatchObject({ stop_id: "station" });
      expect(platform.children.map((c: { stop_id: string }) => c.stop_id)).toEqual(["z-boarding"]);
    },
    SLOW,
  );

  it(
    "a trip: its own stop times by stop_sequence with their stop names and pickup types, on dates it runs",
    async () => {
      const trip = (await env.get(`/v1/trips/ab?date=${MONDAY}`)).body.data;
      expect(trip).toMatchObject({ trip_id: "ab", route_id: "r2", route_short_name: "2", service_date: MONDAY });
      expect(
        trip.stop_times.map((s: Record<string, unknown>) => [
          s.stop_sequence,
          s.stop_id,
          s.stop_name,
          s.departure_time,
        ]),
      ).toEqual([
        [1, "a-platform", "Oak Street Station Platform A", "07:59:59"],
        [2, "other", "Elsewhere", "08:30:00"],
        [3, "z-platform", "Oak Street Station Platform Z", "09:00:00"],
      ]);
      // A stop without pickup is on the trip, just not on boards.
      const twin = (await env.get(`/v1/trips/twin?date=${MONDAY}`)).body.data;
      expect(twin.stop_times.map((s: Record<string, unknown>) => [s.stop_id, s.pickup_type])).toEqual([
        ["a-platform", 1],
        ["z-platform", 0],
        ["other", null],
      ]);
      const weekday = await env.get(`/v1/trips/weekend?date=${MONDAY}`);
      expect([weekday.status, weekday.body.error.code]).toEqual([404, "NOT_RUNNING"]);
      expect((await env.get("/v1/trips/weekend?date=2024-06-22")).status).toBe(200);
      expect(weekday.body.error).toMatchObject({
        message: `trip weekend does not run on ${MONDAY}`,
        details: { trip_id: "weekend", date: MONDAY },
      });
      for (const path of ["/v1/trips/nope?date=2024-06-17", "/v1/stops/nope"]) {
        const res = await env.get(path);
        expect([res.status, res.body.error.code, res.body.error.message]).toEqual([
          404,
          "NOT_FOUND",
          `${path.includes("trips") ? "trip" : "stop"} nope not found`,
        ]);
      }
      // a frequency window's exact_times, as a boolean
      const freq2 = (await env.get(`/v1/trips/freq2?date=${MONDAY}`)).body.data;
      expect(freq2.frequencies.map((f: { exact_times: boolean }) => f.exact_times)).toEqual([false]);
    },
    SLOW,
  );
});

describe("board cache TTL", () => {
  afterAll(() => {
    cache.sets.length = 0;
  });

  it(
    "is min(window, 10 min) for boards and an hour for lookups",
    async () => {
      const ttlOf = async (path: string) => {
        cache.sets.length = 0;
        expect((await env.app.fetch(path)).headers.get("x-cache")).toBe("miss");
        expect(cache.sets).toHaveLength(1);
        return cache.sets[0]!.ttl;
      };
      // A fresh `at` per board, so each one is computed and stored.
      const board = (minute: number, window: number) =>
        ttlOf(
          `/v1/stops/station/departures?at=${encodeURIComponent(`${MONDAY}T09:${String(minute).padStart(2, "0")}:00+02:00`)}&window=${window}`,
        );
      expect([await board(1, 1), await board(2, 5), await board(3, 9), await board(4, 10)]).toEqual([
        60, 300, 540, 600,
      ]);
      expect([await board(5, 11), await board(6, 60), await board(7, 1440)]).toEqual([600, 600, 600]);
      expect(await ttlOf("/v1/stops/old")).toBe(3600);
    },
    SLOW,
  );
});
