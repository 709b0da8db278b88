// What the files read so far tell the files after them and the steps after the load: the ids rows
// refer to (and the dense integer keys given to stops and trips), and the facts the catalogue and the
// derived data need. Filled by the file modules in load order, read by derive and the index builds.
import type { BoardCollector } from "../derived/board-buckets";
import type { CalendarEntry, CalendarException } from "../derived/service-dates";

/** What the stop_times converter found while it wrote the rows. */
export interface StopTimesFacts {
  /** Rows came grouped by trip, trips in trips.txt order, sequences strictly increasing. */
  readonly inTripOrder: boolean;
  /** Stop times without a time: interpolated in the database after the load. */
  readonly missingTimes: number;
  /** Latest departure given in stop_times (frequency windows are added after the load). */
  readonly maxDepartureSecs: number;
  /** Per frequency-based trip, the [first, last] time of its template. */
  readonly frequencySpans: ReadonlyMap<number, readonly [number, number]>;
  /** Stops served by frequency-based trips: only their boards look at frequencies.txt. */
  readonly frequencyStops: ReadonlySet<number>;
  /** The departure boards, collected as the rows streamed by; undefined when they are built in SQL. */
  board: BoardCollector | undefined;
}

/** About the feed as a whole, for the catalogue (gtfs_feed). */
export interface FeedMeta {
  publisherName: string | null;
  publisherUrl: string | null;
  version: string | null;
  lang: string | null;
  startDate: string | null;
  endDate: string | null;
  timezone: string | null;
}

export class FeedState {
  readonly meta: FeedMeta = {
    publisherName: null,
    publisherUrl: null,
    version: null,
    lang: null,
    startDate: null,
    endDate: null,
    timezone: null,
  };

  // Ids, by file.
  readonly agencies = new Set<string>();
  agencyCount = 0;
  /** The line of agency.txt whose agency has no agency_id, if any. */
  agencyWithoutId: number | undefined;
  /** stop_id → stop_idx (1-based load order); stopTypes[stop_idx] = location_type. */
  readonly stops = new Map<string, number>();
  readonly stopTypes: number[] = [0];
  readonly routes = new Set<string>();
  /** service_ids of calendar.txt and calendar_dates.txt. */
  readonly services = new Set<string>();
  readonly shapes = new Set<string>();
  /** trip_id → trip_idx (1-based load order). */
  readonly trips = new Map<string, number>();

  // Service dates, expanded after the load (derived/service-dates.ts).
  readonly calendar: CalendarEntry[] = [];
  readonly exceptions: CalendarException[] = [];

  // frequencies.txt.
  /** trip_idx of the frequency-based trips. */
  readonly frequencyTrips = new Set<number>();
  /** Per frequency-based trip, the latest end_time of its windows. */
  readonly frequencyEnds = new Map<number, number>();

  /** What stop_times.txt told (the converter's facts, once the file is read). */
  stopTimes: StopTimesFacts = {
    inTripOrder: true,
    missingTimes: 0,
    maxDepartureSecs: 0,
    frequencySpans: new Map(),
    frequencyStops: new Set(),
    board: undefined,
  };

  /** `files`: the names of the feed's files ("shapes.txt", …). */
  constructor(readonly files: ReadonlySet<string>) {}
}
