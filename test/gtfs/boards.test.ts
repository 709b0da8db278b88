// Exact departure boards on real fixtures: sample-gtfs-feed (DST trip, frequencies, exceptions) and
// our own edge-case feeds (times past 24:00, both DST changes, calendar_dates-only, interpolation).
import { describe, expect, it } from "vitest";
import { board, DATES_ONLY, EDGE, SAMPLE_ZIP, SLOW, suiteGtfsEnv } from "./helpers";

describe("departure boards: sample-gtfs-feed", () => {
  const env = suiteGtfsEnv([SAMPLE_ZIP]);

  it(
    "DST night 2019-03-30/31: 25:58 is 01:58+01:00, 26:05 is 03:05+02:00 (station aggregates its stop)",
    async () => {
      expect(await board(env, "airport", "2019-03-31T01:30:00+01:00", 120)).toEqual([
        {
          trip: "during-dst-1",
          stop: "airport",
          date: "2019-03-30",
          time: "25:58:00",
          at: "2019-03-31T01:58:00+01:00",
        },
      ]);
      expect(await board(env, "center", "2019-03-31T03:00:00+02:00", 30)).toEqual([
        { trip: "during-dst-1", stop: "center", date: "2019-03-30", time: "26:05:00", at: "2019-03-31T03:05:00+02:00" },
      ]);
    },
    SLOW,
  );

  it(
    "frequencies exact_times=1 expand from the template offsets; the template time itself is not listed",
    async () => {
      const lake = await board(env, "lake", "2019-03-11T08:00:00+01:00", 20);
      expect(lake.map((d) => [d.trip, d.time, d.at])).toEqual([
        ["b-downtown-on-working-days", "08:08:00", "2019-03-11T08:08:00+01:00"],
        ["b-downtown-on-working-days", "08:13:00", "2019-03-11T08:13:00+01:00"],
        ["b-downtown-on-working-days", "08:18:00", "2019-03-11T08:18:00+01:00"],
      ]);
      expect(await board(env, "airport", "2019-03-11T13:00:00+01:00", 30)).toEqual([]);
    },
    SLOW,
  );

  it(
    "frequencies exact_times=0 expand too and say they are headway-based",
    async () => {
      const res = await env.get(
        `/v1/stops/center/departures?at=${encodeURIComponent("2019-03-11T15:00:00+01:00")}&window=30`,
      );
      const deps = res.body.data.departures;
      expect(
        deps.map((d: Record<string, unknown>) => [d.trip_id, d.departure, d.frequency_based, d.exact_times]),
      ).toEqual([
        ["b-outbound-on-working-days", "2019-03-11T15:00:00+01:00", true, false],
        ["b-outbound-on-working-days", "2019-03-11T15:10:00+01:00", true, false],
        ["b-outbound-on-working-days", "2019-03-11T15:20:00+01:00", true, false],
      ]);
      expect(deps[0].route_short_name).toBe("Babbage");
      expect(deps[0].headsign).toBe("Babbage (Outbound)");
    },
    SLOW,
  );

  it(
    "calendar_dates removals silence a day that calendar.txt would run",
    async () => {
      expect(await board(env, "museum", "2019-05-01T15:00:00+02:00", 60)).toEqual([]);
      expect(await board(env, "museum", "2019-05-02T15:00:00+02:00", 60)).toEqual([
        {
          trip: "a-downtown-all-day",
          stop: "museum",
          date: "2019-05-02",
          time: "15:31:00",
          at: "2019-05-02T15:31:00+02:00",
        },
      ]);
      expect(await board(env, "airport", "2019-07-13T13:00:00+02:00", 30)).toEqual([
        {
          trip: "b-downtown-on-weekends",
          stop: "airport",
          date: "2019-07-13",
          time: "13:14:00",
          at: "2019-07-13T13:14:00+02:00",
        },
      ]);
      expect(await board(env, "airport", "2019-07-20T13:00:00+02:00", 30)).toEqual([]);
    },
    SLOW,
  );

  it(
    "trips on a date carry absolute times across the DST change",
    async () => {
      const res = await env.get("/v1/trips/during-dst-1?date=2019-03-30");
      expect(res.status).toBe(200);
      expect(res.body.data.stop_times.map((s: Record<string, string>) => [s.stop_id, s.arrival, s.departure])).toEqual([
        ["airport", "2019-03-31T01:55:00+01:00", "2019-03-31T01:58:00+01:00"],
        ["center", "2019-03-31T03:03:00+02:00", "2019-03-31T03:05:00+02:00"],
      ]);
      const notRunning = await env.get("/v1/trips/during-dst-1?date=2019-03-31");
      expect(notRunning.status).toBe(404);
      expect(notRunning.body.error.code).toBe("NOT_RUNNING");
    },
    SLOW,
  );
});

describe("departure boards: edge-case feed (America/New_York)", () => {
  // Three versions in a row: the last one is served, whatever came before it.
  const env = suiteGtfsEnv([EDGE, DATES_ONLY, EDGE]);

  it(
    "a board at 00:20 includes the previous service day's 24:30 trip (referencing the station itself)",
    async () => {
      expect(await board(env, "central", "2024-06-15T00:20:00-04:00", 60)).toEqual([
        { trip: "n1", stop: "central", date: "2024-06-14", time: "24:30:00", at: "2024-06-15T00:30:00-04:00" },
      ]);
    },
    SLOW,
  );

  it(
    "headway trips running past midnight keep their service date",
    async () => {
      expect(await board(env, "central", "2024-06-14T23:50:00-04:00", 30)).toEqual([
        { trip: "f2", stop: "central-1", date: "2024-06-14", time: "24:07:00", at: "2024-06-15T00:07:00-04:00" },
      ]);
    },
    SLOW,
  );

  it(
    "fall back (2024-11-03): 00:30 and 01:30 are both '01:30' local, an hour apart",
    async () => {
      expect(await board(env, "central-1", "2024-11-03T01:00:00-04:00", 120)).toEqual([
        { trip: "n2", stop: "central-1", date: "2024-11-03", time: "00:30:00", at: "2024-11-03T01:30:00-04:00" },
      ]);
      expect(await board(env, "gare", "2024-11-03T01:00:00-04:00", 120)).toEqual([
        { trip: "n2", stop: "gare", date: "2024-11-03", time: "01:30:00", at: "2024-11-03T01:30:00-05:00" },
      ]);
    },
    SLOW,
  );

  it(
    "spring forward (2024-03-10): 00:30 of the service day is 23:30 the evening before",
    async () => {
      expect(await board(env, "central-1", "2024-03-09T23:00:00-05:00", 60)).toEqual([
        { trip: "f2", stop: "central-1", date: "2024-03-09", time: "23:07:00", at: "2024-03-09T23:07:00-05:00" },
        { trip: "n2", stop: "central-1", date: "2024-03-10", time: "00:30:00", at: "2024-03-09T23:30:00-05:00" },
      ]);
      expect(await board(env, "saopaulo", "2024-03-10T03:00:00-04:00", 60)).toEqual([
        { trip: "n2", stop: "saopaulo", date: "2024-03-10", time: "03:30:00", at: "2024-03-10T03:30:00-04:00" },
      ]);
    },
    SLOW,
  );

  it(
    "`at` without an offset is wall-clock time in the feed's zone",
    async () => {
      expect(await board(env, "saopaulo", "2024-03-10T03:00", 60)).toEqual(
        await board(env, "saopaulo", "2024-03-10T03:00:00-04:00", 60),
      );
    },
    SLOW,
  );

  it(
    "interpolates stops without times and applies added/removed dates",
    async () => {
      expect(await board(env, "gare", "2024-06-13T10:00:00-04:00", 20)).toEqual([
        { trip: "i1", stop: "gare", date: "2024-06-13", time: "10:10:00", at: "2024-06-13T10:10:00-04:00" },
      ]);
      expect(await board(env, "gare", "2024-07-04T08:00:00-04:00", 15)).toEqual([]);
      expect(await board(env, "gare", "2024-07-06T08:00:00-04:00", 15)).toEqual([
        { trip: "t1", stop: "gare", date: "2024-07-06", time: "08:10:00", at: "2024-07-06T08:10:00-04:00" },
      ]);
    },
    SLOW,
  );

  it(
    "frequencies exact_times=1 on a platform of a station board",
    async () => {
      const lines = await board(env, "central", "2024-06-13T06:00:00-04:00", 60);
      expect(lines.map((l) => [l.trip, l.stop, l.at])).toEqual([
        ["f1", "central-2", "2024-06-13T06:00:00-04:00"],
        ["f1", "central-2", "2024-06-13T06:20:00-04:00"],
        ["f1", "central-2", "2024-06-13T06:40:00-04:00"],
      ]);
    },
    SLOW,
  );

  it(
    "respects limit and rejects bad parameters with the error shape",
    async () => {
      const limited = await env.get(
        `/v1/stops/central/departures?at=${encodeURIComponent("2024-06-13T06:00:00-04:00")}&limit=2`,
      );
      expect(limited.body.data.departures).toHaveLength(2);
      const bad = await env.get("/v1/stops/central/departures?at=yesterday");
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({ code: "INVALID_REQUEST", details: [{ field: "at" }] });
      expect(bad.body.error.message).toMatch(/'at'/);
      // A parameter the schema rejects and one the handler rejects look the same to a client.
      const badWindow = await env.get("/v1/stops/central/departures?window=0");
      expect(badWindow.status).toBe(400);
      expect(badWindow.body.error).toMatchObject({ code: "INVALID_REQUEST", details: [{ field: "window" }] });
      const badCursor = await env.get("/v1/routes?cursor=bogus");
      expect(badCursor.body.error).toMatchObject({ code: "INVALID_REQUEST", details: [{ field: "cursor" }] });
      const badDate = await env.get("/v1/trips/any?date=2024-13-01");
      expect(badDate.body.error).toMatchObject({ code: "INVALID_REQUEST", details: [{ field: "date" }] });
      const missing = await env.get("/v1/stops/nowhere/departures");
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe("NOT_FOUND");
    },
    SLOW,
  );
});

describe("departure boards: calendar_dates-only feed (Europe/Berlin, fall back 2024-10-27)", () => {
  const env = suiteGtfsEnv([DATES_ONLY]);

  it(
    "serves dates listed only in calendar_dates.txt, across the change",
    async () => {
      expect(await board(env, "b", "2024-10-27T00:00:00+02:00", 60)).toEqual([
        { trip: "x2", stop: "b", date: "2024-10-26", time: "24:20:00", at: "2024-10-27T00:20:00+02:00" },
      ]);
      expect(await board(env, "a", "2024-10-27T06:30:00+01:00", 60)).toEqual([
        { trip: "x1", stop: "a", date: "2024-10-27", time: "07:00:00", at: "2024-10-27T07:00:00+01:00" },
      ]);
      expect(await board(env, "a", "2024-10-29T06:30:00+01:00", 60)).toEqual([]);
    },
    SLOW,
  );
});
