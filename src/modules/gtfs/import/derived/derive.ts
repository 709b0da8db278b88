// The "derive" step, after every file is in: the dates each service runs, the flags that mark
// frequency-based trips and the stops they serve, the latest departure a board may need to look at,
// and times for stops the file left without (interpolated). All on the main connection, in the
// tables the load just filled.
import type { FeedState } from "../files/feed-state";
import type { IssueCollector } from "../issues";
import type { FileSummary } from "../load-files";
import type { LoadSession } from "../load-session";
import { interpolateTimes } from "./interpolate-times";
import { loadServiceDates } from "./service-dates";

export interface Derived {
  /** service_dates, listed in the summary like a file (its time is the step's). */
  serviceDates: FileSummary;
  /** The latest departure of the service day, frequency windows included (gtfs_feed.max_departure_secs). */
  maxDepartureSecs: number;
}

export async function deriveData(
  main: LoadSession,
  schema: string,
  state: FeedState,
  issues: IssueCollector,
): Promise<Derived> {
  const s = `"${schema}"`;
  const serviceDates = {
    file: "(service dates)",
    rows: await loadServiceDates(main, schema, state, issues),
    seconds: 0,
  };
  const { frequencySpans, frequencyStops } = state.stopTimes;
  let maxDepartureSecs = state.stopTimes.maxDepartureSecs;
  if (state.frequencyTrips.size) {
    await main.query(
      `update ${s}.trips t set frequency_based = true where exists (select 1 from ${s}.frequencies f where f.trip_idx = t.trip_idx)`,
    );
    // Frequency trips depart until end_time plus the template's duration: part of the board's day range.
    for (const [tripIdx, end] of state.frequencyEnds) {
      const span = frequencySpans.get(tripIdx);
      if (span && end + span[1] - span[0] > maxDepartureSecs) maxDepartureSecs = end + span[1] - span[0];
    }
    if (frequencyStops.size)
      await main.query(`update ${s}.stops set has_frequencies = true where stop_idx = any($1::int[])`, [
        `{${[...frequencyStops].join(",")}}`,
      ]);
  }
  if (state.stopTimes.missingTimes) await interpolateTimes(main, schema, issues);
  return { serviceDates, maxDepartureSecs };
}
