// GTFS ids are free text: a frequency-based trip whose service_id holds a comma, quotes and a backslash
// (each one special in a PostgreSQL array literal) is still on the board on the days its service runs.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/repo";
import { type GtfsEnv, gtfsEnv, mutatedFeed, SLOW } from "./helpers";

const CLAUSES = join(REPO_ROOT, "test/fixtures/gtfs/clauses");
const ODD = 'A,"B\\C"'; // as it is in the feed, CSV-quoted below

describe("departure boards with odd ids", () => {
  let env: GtfsEnv | undefined;
  afterAll(async () => {
    await env?.close();
  }, SLOW);

  it(
    "lists a frequency-based trip whose service_id needs quoting in an array literal, whatever its template's times",
    async () => {
      const csv = `"${ODD.replaceAll('"', '""')}"`;
      const feed = mutatedFeed(CLAUSES, {
        "trips.txt": (t) => t.replace("r3,DAILY,freq,Freq", `r3,${csv},freq,Freq`),
        "calendar.txt": (t) => `${t.trimEnd()}\n${csv},1,1,1,1,1,0,0,20240101,20241231\n`,
        // the template's times start at 06:00, not 00:00: only their offsets count
        "stop_times.txt": (t) =>
          t
            .replace("freq,1,a-platform,00:00:00,00:00:00", "freq,1,a-platform,06:00:00,06:00:00")
            .replace("freq,2,z-platform,00:05:00,00:05:00", "freq,2,z-platform,06:05:00,06:05:00")
            .replace("freq,3,other,00:10:00,00:10:00", "freq,3,other,06:10:00,06:10:00"),
      });
      try {
        env = await gtfsEnv();
        await env.import(feed.dir);
        await env.import(feed.dir); // a second version: the first is retired
      } finally {
        feed.remove();
      }
      const board = async (at: string) => {
        const res = await env!.get(`/v1/stops/station/departures?at=${encodeURIComponent(at)}&window=60`);
        expect(res.status).toBe(200);
        return res.body.data.departures.map((d: Record<string, string>) => `${d.trip_id} ${d.departure_time}`);
      };
      // Monday: both frequency trips (freq on the odd service, freq2 on DAILY) among the others
      expect((await board("2024-06-17T08:00:00+02:00")).filter((d: string) => d.startsWith("freq"))).toEqual([
        "freq 08:10:00",
        "freq 08:25:00",
        "freq2 08:50:00",
      ]);
      // the trip itself: its first instance, at the window's start
      const trip = (await env!.get("/v1/trips/freq?date=2024-06-17")).body.data;
      expect(trip.stop_times.map((st: { departure_time: string }) => st.departure_time)).toEqual([
        "08:10:00",
        "08:15:00",
        "08:20:00",
      ]);
      // Saturday: the odd service does not run, DAILY does
      expect((await board("2024-06-22T08:00:00+02:00")).filter((d: string) => d.startsWith("freq"))).toEqual([
        "freq2 08:50:00",
      ]);
    },
    SLOW,
  );

  it(
    "lists feed versions with the one served first, each saying whether it is",
    async () => {
      const feeds = (await env!.get("/v1/feeds")).body.data;
      expect(feeds.map((f: { status: string; active: boolean }) => [f.status, f.active])).toEqual([
        ["active", true],
        ["retired", false],
      ]);
      expect(feeds[0].id).toBeGreaterThan(feeds[1].id);
    },
    SLOW,
  );
});
