// GTFS ids are free text: a frequency-based trip whose service_id holds a comma, quotes and a backslash
// (each one special in a PostgreSQL array literal) is still on the board on the days its service runs.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type GtfsEnv, gtfsEnv, mutatedFeed, SLOW } from "./helpers";

const CLAUSES = join(process.cwd(), "test/fixtures/gtfs/clauses");
const ODD = 'A,"B\\C"'; // as it is in the feed, CSV-quoted below

describe("departure boards with odd ids", () => {
  let env: GtfsEnv | undefined;
  afterAll(async () => {
    await env?.close();
  }, SLOW);

  it(
    "lists a frequency-based trip whose service_id needs quoting in an array literal",
    async () => {
      const csv = `"${ODD.replaceAll('"', '""')}"`;
      const feed = mutatedFeed(CLAUSES, {
        "trips.txt": (t) => t.replace("r3,DAILY,freq,Freq", `r3,${csv},freq,Freq`),
        "calendar.txt": (t) => `${t.trimEnd()}\n${csv},1,1,1,1,1,0,0,20240101,20241231\n`,
      });
      try {
        env = await gtfsEnv();
        await env.import(feed.dir);
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
      // Saturday: the odd service does not run, DAILY does
      expect((await board("2024-06-22T08:00:00+02:00")).filter((d: string) => d.startsWith("freq"))).toEqual([
        "freq2 08:50:00",
      ]);
    },
    SLOW,
  );
});
