// stop_times.txt's columns and rules, and its rows as binary COPY tuples: the importer's hot path
// (millions of rows). Pure: ids, issues and a writer in, no database, so every rule is tested on
// strings (test/gtfs/stop-times-converter.test.ts). The readers (stop-times-readers.ts) fill one
// StopTimeRow per line, reading plain lines in place; `emit` checks it against the rows before it,
// notes what later steps need, and writes its tuple.
import type { BinaryCopyWriter } from "../copy-binary";
import type { BoardCollector } from "../derived/board-buckets";
import type { IssueCollector } from "../issues";
import { BOOL01, column as c, columnIndex, type FileSpec, parseRecord, type Value } from "../read/columns";
import type { CsvLineSink } from "../read/csv";
import { isBlank } from "../read/reader";
import type { StopTimesFacts } from "./feed-state";
import { lineReader, type RowTarget, recordReader, type StopTimePositions } from "./stop-times-readers";

export const STOP_TIMES_SPEC = {
  file: "stop_times.txt",
  required: true,
  columns: [
    c("trip_id", "id", { required: true }),
    c("arrival_time", "time"),
    c("departure_time", "time"),
    c("stop_id", "id", { required: true }),
    c("stop_sequence", "int", { required: true, min: 0 }),
    c("stop_headsign", "text"),
    c("pickup_type", "int", { values: [0, 1, 2, 3] }),
    c("drop_off_type", "int", { values: [0, 1, 2, 3] }),
    c("shape_dist_traveled", "float"),
    c("timepoint", "int", { values: BOOL01 }),
  ],
} as const satisfies FileSpec;

/** The table columns, in the order of the tuples `emit` writes. */
export const STOP_TIMES_COLUMNS = [
  "trip_idx",
  "arrival_secs",
  "departure_secs",
  "stop_idx",
  "stop_sequence",
  "stop_headsign",
  "pickup_type",
  "drop_off_type",
  "shape_dist_traveled",
  "timepoint",
] as const;

/**
 * Upper bound of one stop_times tuple in binary COPY: field count 2 + five int4 fields 5 × 8 + headsign
 * 4 + 3 bytes per UTF-16 unit + three int2 3 × 6 + float8 12 = 76, plus the headsign's bytes.
 */
export function stopTimeTupleBytes(headsign: string | null): number {
  return 76 + (headsign === null ? 0 : headsign.length * 3);
}

/** What the rows refer to, from the files loaded before. */
export interface StopTimeIds {
  readonly trips: ReadonlyMap<string, number>;
  readonly stops: ReadonlyMap<string, number>;
  /** location_type by stop_idx. */
  readonly stopTypes: readonly number[];
  /** trip_idx of the frequency-based trips. */
  readonly frequencyTrips: ReadonlySet<number>;
}

/** One stop time as read, ids resolved. The converter fills one object for every row. */
export interface StopTimeRow {
  line: number;
  /** trip_id as written. */
  tripId: string;
  /** stop_id as written, read only by reports about the stop; the line path, which takes no stop that
   * a report would name (location_type 0 only), leaves it "". */
  stopId: string;
  tripIdx: number;
  stopIdx: number;
  arrival: number | null;
  departure: number | null;
  sequence: number;
  headsign: string | null;
  pickup: number | null;
  dropOff: number | null;
  dist: number | null;
  timepoint: number | null;
}

const FILE = STOP_TIMES_SPEC.file;
const C = columnIndex(STOP_TIMES_SPEC);

export class StopTimesConverter implements RowTarget, StopTimesFacts {
  /** Rows written. */
  rows = 0;
  /** Rows came grouped by trip, trips in trips.txt order, sequences strictly increasing. */
  inTripOrder = true;
  /** Stop times without a time (to interpolate once loaded). */
  missingTimes = 0;
  maxDepartureSecs = 0;
  /** Per frequency trip, the [first, last] time of its template. */
  readonly frequencySpans = new Map<number, [number, number]>();
  /** Stops served by frequency-based trips. */
  readonly frequencyStops = new Set<number>();

  readonly row: StopTimeRow = {
    line: 0,
    tripId: "",
    stopId: "",
    tripIdx: 0,
    stopIdx: 0,
    arrival: null,
    departure: null,
    sequence: 0,
    headsign: null,
    pickup: null,
    dropOff: null,
    dist: null,
    timepoint: null,
  };
  private lastTripIdx = 0;
  private lastSequence = -1;
  private maxSequence = -1;
  /** stop_sequence values (and their lines) of the current run of one trip's rows. */
  private readonly tripSequences: number[] = [];
  private readonly tripSequenceLines: number[] = [];

  /**
   * `board`: collects board departures as rows stream by; dropped (the board is then built in SQL)
   * once a time needs interpolating, which the database does after the load.
   */
  constructor(
    readonly ids: StopTimeIds,
    private readonly issues: IssueCollector,
    private readonly writer: BinaryCopyWriter,
    public board: BoardCollector | undefined,
  ) {}

  /** The sink for the file's records, `index` giving each spec column's position in them (-1: absent). */
  sinkFor(index: readonly number[], columns: number): CsvLineSink {
    const at = positions(index);
    const slow = (f: string[], line: number) => {
      const values = parseRecord(STOP_TIMES_SPEC, index, f, line, this.issues);
      return values ? this.typed(values, line) : false;
    };
    const convertRecord = recordReader(at, this, slow);
    const convertLine = lineReader(at, columns, this, convertRecord);
    return {
      line: (text, start, end, line) => {
        if (convertLine(text, start, end, line)) this.rows++;
      },
      record: (fields, line) => {
        if (!isBlank(fields) && convertRecord(fields, line)) this.rows++;
      },
    };
  }

  /** Typed values (the generic parser's) → row; reports unknown trips and stops. */
  private typed(values: Value[], line: number): boolean {
    const trip = values[C.trip_id] as string;
    const tripIdx = this.ids.trips.get(trip);
    if (tripIdx === undefined) {
      this.issues.error({
        code: "unknown_reference",
        file: FILE,
        line,
        field: "trip_id",
        value: trip,
        message: "unknown trip_id (not in trips.txt)",
      });
      return false;
    }
    const stop = values[C.stop_id] as string;
    const stopIdx = this.ids.stops.get(stop);
    if (stopIdx === undefined) {
      this.issues.error({
        code: "unknown_reference",
        file: FILE,
        line,
        field: "stop_id",
        value: stop,
        message: "unknown stop_id (not in stops.txt)",
      });
      return false;
    }
    const r = this.row;
    r.line = line;
    r.tripId = trip;
    r.stopId = stop;
    r.tripIdx = tripIdx;
    r.stopIdx = stopIdx;
    r.arrival = values[C.arrival_time] as number | null;
    r.departure = values[C.departure_time] as number | null;
    r.sequence = values[C.stop_sequence] as number;
    r.headsign = values[C.stop_headsign] as string | null;
    r.pickup = values[C.pickup_type] as number | null;
    r.dropOff = values[C.drop_off_type] as number | null;
    r.dist = values[C.shape_dist_traveled] as number | null;
    r.timepoint = values[C.timepoint] as number | null;
    return this.emit();
  }

  /** Checks `row` against the rows before it, notes what later steps need, and writes its tuple. */
  emit(): boolean {
    const r = this.row;
    const issues = this.issues;
    const { line, tripIdx, stopIdx, sequence } = r;
    if (tripIdx !== this.lastTripIdx) {
      if (tripIdx < this.lastTripIdx) this.inTripOrder = false;
      this.lastTripIdx = tripIdx;
      this.lastSequence = -1;
      this.maxSequence = -1;
      this.tripSequences.length = 0;
      this.tripSequenceLines.length = 0;
    }
    if (sequence <= this.lastSequence) this.inTripOrder = false;
    if (sequence <= this.maxSequence) {
      // Only a sequence not above every earlier one of this run of the trip's rows can repeat one.
      const earlier = this.tripSequences.indexOf(sequence);
      if (earlier >= 0) {
        issues.error({
          code: "duplicate_stop_sequence",
          file: FILE,
          line,
          field: "stop_sequence",
          value: `${r.tripId}, ${sequence}`,
          message: `duplicate (trip_id, stop_sequence): also on line ${this.tripSequenceLines[earlier]}`,
        });
        return false;
      }
    }
    this.lastSequence = sequence;
    if (sequence > this.maxSequence) this.maxSequence = sequence;
    this.tripSequences.push(sequence);
    this.tripSequenceLines.push(line);
    const frequencyBased = this.ids.frequencyTrips.size > 0 && this.ids.frequencyTrips.has(tripIdx);
    if (frequencyBased) {
      this.frequencyStops.add(stopIdx);
      const t = r.departure ?? r.arrival;
      if (t !== null) {
        const span = this.frequencySpans.get(tripIdx);
        if (!span) this.frequencySpans.set(tripIdx, [t, t]);
        else {
          if (t < span[0]) span[0] = t;
          if (t > span[1]) span[1] = t;
        }
      }
    }
    const type = this.ids.stopTypes[stopIdx]!;
    if (type !== 0)
      issues.warn({
        code: type === 1 ? "stop_time_at_station" : "stop_time_at_location",
        file: FILE,
        line,
        field: "stop_id",
        value: r.stopId,
        message:
          type === 1
            ? "stop_times references a station (location_type 1); its departures are listed on the station"
            : `stop_times references a location_type ${type} location`,
      });
    // One of arrival and departure given: it stands for both.
    const arr = r.arrival ?? r.departure;
    const dep = r.departure ?? r.arrival;
    if (dep === null) {
      if (r.timepoint === 1) {
        issues.error({
          code: "conditionally_required",
          file: FILE,
          line,
          field: "departure_time",
          message: "required for a timepoint (timepoint=1)",
        });
        return false;
      }
      this.missingTimes++;
      this.board = undefined;
    } else {
      if (dep > this.maxDepartureSecs) this.maxDepartureSecs = dep;
      if (arr! > dep)
        issues.warn({
          code: "departure_before_arrival",
          file: FILE,
          line,
          field: "departure_time",
          message: "departure_time is before arrival_time",
        });
    }
    if (this.board && dep !== null) {
      if (frequencyBased) this.board.addFrequency(stopIdx, dep, tripIdx, sequence, r.headsign, r.pickup !== 1);
      else if (r.pickup !== 1) this.board.add(stopIdx, dep, tripIdx, sequence, r.headsign);
    }
    const w = this.writer;
    w.row(10, stopTimeTupleBytes(r.headsign));
    w.int4(tripIdx);
    if (dep === null) {
      w.null();
      w.null();
    } else {
      w.int4(arr!);
      w.int4(dep);
    }
    w.int4(stopIdx);
    w.int4(sequence);
    if (r.headsign === null) w.null();
    else w.text(r.headsign);
    if (r.pickup === null) w.null();
    else w.int2(r.pickup);
    if (r.dropOff === null) w.null();
    else w.int2(r.dropOff);
    if (r.dist === null) w.null();
    else w.float8(r.dist);
    if (r.timepoint === null) w.null();
    else w.int2(r.timepoint);
    return true;
  }
}

function positions(index: readonly number[]): StopTimePositions {
  return {
    iTrip: index[C.trip_id]!,
    iStop: index[C.stop_id]!,
    iArr: index[C.arrival_time]!,
    iDep: index[C.departure_time]!,
    iSeq: index[C.stop_sequence]!,
    iHead: index[C.stop_headsign]!,
    iPick: index[C.pickup_type]!,
    iDrop: index[C.drop_off_type]!,
    iDist: index[C.shape_dist_traveled]!,
    iTp: index[C.timepoint]!,
  };
}
