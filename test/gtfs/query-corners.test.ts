// What GTFS allows and test/fixtures/gtfs/clauses cannot hold without changing how it imports, each
// on test/fixtures/gtfs/corners (Europe/Zurich; read around Monday 2024-06-17): an agency without
// agency_id, a stop time whose times cannot be interpolated (the importer warns and keeps it), and a
// frequency-based trip whose instances of two service days meet at one instant at two platforms.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/repo";
import { SLOW, suiteGtfsEnv } from "./helpers";

const CORNERS = join(REPO_ROOT, "test/fixtures/gtfs/corners");
const MONDAY = "2024-06-17";

describe("lookups and boards on what GTFS lets a feed leave out", () => {
  const env = suiteGtfsEnv([CORNERS]);

  it(
    "agencies: one without agency_id sorts first, and its page's cursor leads on to the next",
    async () => {
      const first = await env.get("/v1/agencies?limit=1");
      expect(first.body.data).toMatchObject([{ agency_id: null, agency_name: "Nameless Ferries" }]);
      expect(first.body.next_cursor).toEqual(expect.any(String));
      const second = await env.get(`/v1/agencies?limit=1&cursor=${first.body.next_cursor}`);
      expect(second.body).toMatchObject({ data: [{ agency_id: "F", agency_name: "Fjord Boats" }], next_cursor: null });
    },
    SLOW,
  );

  it(
    "a trip: a stop time left without times (none to interpolate from after it) has none, the others theirs",
    async () => {
      const trip = (await env.get(`/v1/trips/open?date=${MONDAY}`)).body.data;
      expect(
        trip.stop_times.map((s: Record<string, unknown>) => [
          s.stop_id,
          s.arrival_time,
          s.departure_time,
          s.arrival,
          s.departure,
        ]),
      ).toEqual([
        ["cove", "09:58:00", "10:00:00", `${MONDAY}T09:58:00+02:00`, `${MONDAY}T10:00:00+02:00`],
        ["reef", null, null, null, null],
      ]);
    },
    SLOW,
  );

  it(
    "one trip at two platforms at one instant, from two service days: in stop order, whichever day each is",
    async () => {
      // Sunday's 24:00 instance reaches pier-b at 24:10, the instant Monday's 00:10 instance leaves pier-a.
      const res = await env.get(
        `/v1/stops/harbour/departures?at=${encodeURIComponent(`${MONDAY}T00:00:00+02:00`)}&window=30`,
      );
      expect(
        res.body.data.departures.map((d: Record<string, unknown>) => [
          d.trip_id,
          d.stop_id,
          d.service_date,
          d.departure_time,
          d.start_time,
        ]),
      ).toEqual([
        ["owl", "pier-a", "2024-06-16", "24:00:00", "24:00:00"],
        ["owl", "pier-a", MONDAY, "00:10:00", "00:10:00"],
        ["owl", "pier-b", "2024-06-16", "24:10:00", "24:00:00"],
        ["owl", "pier-b", MONDAY, "00:20:00", "00:10:00"],
      ]);
    },
    SLOW,
  );
});
