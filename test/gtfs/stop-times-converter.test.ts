// The stop_times converter on strings, without a database: a plain line read in place (the line path)
// stores the same row and makes the same reports as the same line read field by field (the record
// path), and each rule it checks: duplicate sequences, trip order, frequency-based trips, references,
// times. (test/gtfs/stop-times-paths.test.ts proves the same equivalence through PostgreSQL.)
import { describe, expect, it } from "vitest";
import { BinaryCopyWriter } from "../../src/modules/gtfs/import/copy-binary";
import { BoardCollector } from "../../src/modules/gtfs/import/derived/board-buckets";
import {
  STOP_TIMES_COLUMNS,
  STOP_TIMES_SPEC,
  type StopTimeIds,
  StopTimesConverter,
} from "../../src/modules/gtfs/import/files/stop-times-converter";
import { IssueCollector } from "../../src/modules/gtfs/import/issues";
import type { CsvLineSink } from "../../src/modules/gtfs/import/read/csv";
import { readRecordsInto } from "../../src/modules/gtfs/import/read/reader";

const HEADER =
  "trip_id,arrival_time,departure_time,stop_id,stop_sequence,stop_headsign,pickup_type,drop_off_type,shape_dist_traveled,timepoint";

/** Trips t1, t2 and the frequency-based f1 (trip_idx in trips.txt order); stops a, b, c, a station and an entrance. */
const IDS: StopTimeIds = {
  trips: new Map([
    ["t1", 1],
    ["t2", 2],
    ["f1", 3],
  ]),
  stops: new Map([
    ["a", 1],
    ["b", 2],
    ["c", 3],
    ["station", 4],
    ["entrance", 5],
  ]),
  stopTypes: [0, 0, 0, 0, 1, 2],
  frequencyTrips: new Set([3]),
};

type Path = "as read" | "record path";

/**
 * Converts stop_times.txt `rows` (header added) the way the import reads them: plain lines to the
 * line path, quoted ones to the record path. "record path" sends every line to the record path.
 */
async function convert(rows: string[], path: Path = "as read", ids = IDS) {
  const text = `${[HEADER, ...rows].join("\r\n")}\r\n`;
  const issues = new IssueCollector();
  const writer = new BinaryCopyWriter();
  const board = new BoardCollector();
  const converter = new StopTimesConverter(ids, issues, writer, board);
  const sinkFor = (index: readonly number[], columns: number): CsvLineSink => {
    const sink = converter.sinkFor(index, columns);
    if (path === "as read") return sink;
    return {
      line: (t, start, end, line) => sink.record(t.slice(start, end).split(","), line, 1),
      record: sink.record,
    };
  };
  async function* chunks() {
    yield new TextEncoder().encode(text);
  }
  for await (const _ of readRecordsInto(chunks(), STOP_TIMES_SPEC, issues, sinkFor));
  const boardBytes = new BinaryCopyWriter();
  if (converter.board) for (const _ of converter.board.writeTo([boardBytes]));
  return {
    rows: decodeStopTimes(Buffer.concat(writer.finish())),
    errors: issues.errors,
    warnings: issues.warningSummary(),
    facts: {
      rows: converter.rows,
      inTripOrder: converter.inTripOrder,
      missingTimes: converter.missingTimes,
      maxDepartureSecs: converter.maxDepartureSecs,
      frequencySpans: converter.frequencySpans,
      frequencyStops: converter.frequencyStops,
      board: converter.board ? Buffer.concat(boardBytes.finish()) : undefined,
    },
  };
}

type StoredRow = Record<(typeof STOP_TIMES_COLUMNS)[number], number | string | null>;

/** Reads binary COPY tuples back, column by column (https://www.postgresql.org/docs/current/sql-copy.html). */
function decodeStopTimes(bytes: Buffer): StoredRow[] {
  const kinds = ["int4", "int4", "int4", "int4", "int4", "text", "int2", "int2", "float8", "int2"] as const;
  expect(bytes.subarray(0, 11).toString("latin1")).toBe("PGCOPY\n\xff\r\n\0");
  let p = 19;
  const rows: StoredRow[] = [];
  for (;;) {
    const fields = bytes.readInt16BE(p);
    p += 2;
    if (fields === -1) break;
    expect(fields).toBe(STOP_TIMES_COLUMNS.length);
    const row: Record<string, number | string | null> = {};
    for (const [k, kind] of kinds.entries()) {
      const length = bytes.readInt32BE(p);
      p += 4;
      const name = STOP_TIMES_COLUMNS[k]!;
      if (length === -1) row[name] = null;
      else if (kind === "int4") row[name] = bytes.readInt32BE(p);
      else if (kind === "int2") row[name] = bytes.readInt16BE(p);
      else if (kind === "float8") row[name] = bytes.readDoubleBE(p);
      else row[name] = bytes.toString("utf8", p, p + length);
      if (length > 0) p += length;
    }
    rows.push(row as StoredRow);
  }
  expect(p).toBe(bytes.length);
  return rows;
}

const row = (
  trip: number,
  arrival: number | null,
  departure: number | null,
  stop: number,
  sequence: number,
  rest: Partial<StoredRow> = {},
): StoredRow => ({
  trip_idx: trip,
  arrival_secs: arrival,
  departure_secs: departure,
  stop_idx: stop,
  stop_sequence: sequence,
  stop_headsign: null,
  pickup_type: null,
  drop_off_type: null,
  shape_dist_traveled: null,
  timepoint: null,
  ...rest,
});

const codes = (issues: { code: string; line?: number }[]) => issues.map((i) => `${i.code}@${i.line ?? "-"}`);

/** A feed of every kind of row: plain, with quotes, in forms only the generic parser takes, and bad. */
const MIXED = [
  "t1,08:00:00,08:01:00,a,1,Airport,0,0,0.0,1",
  "t1,08:10:00,08:10:00,b,2,,1,0,1.25,",
  '"t1","08:20:00","08:21:00","c","3","Zürich HB, Gleis 7","0","1","2.5","1"',
  "t1,8:30:00,8:30:00,a,4,,,,,", // single-digit hour: the generic parser
  "t1, 08:40:00 ,08:40:00,b, 5 ,,,,,", // padded values: the generic parser
  "t1,08:50:00,,station,6,,,,,", // a station: its report names it
  "t1,09:10:00,09:05:00,entrance,7,,,,,", // departure before arrival, at an entrance
  "t2,09:00:00,09:00:00,a,1,,,,,",
  "t2,09:30:00,09:31:00,zz,2,,,,,", // unknown stop
  "nope,09:40:00,09:40:00,a,1,,,,,", // unknown trip
  "t2,09:45:00,09:46:00,b,3,,,,,",
  "t2,10:61:00,10:00:00,c,4,,,,,", // bad time
  "f1,06:00:00,06:00:00,a,1,,,,,",
  "f1,06:12:00,06:13:00,c,2,Loop,,,,",
  "t2,,,b,5,,,,,1", // a timepoint without a time
  "",
  "t2,11:00:00,11:00:00,c,6",
];

describe("stop_times converter: line path and record path", () => {
  it("store the same rows, make the same reports and note the same facts", async () => {
    const asRead = await convert(MIXED);
    const recordPath = await convert(MIXED, "record path");
    expect(recordPath).toEqual(asRead);
    // Something of every kind was compared.
    expect(asRead.facts.rows).toBe(12);
    expect(codes(asRead.errors)).toEqual([
      "unknown_reference@10",
      "unknown_reference@11",
      "invalid_time@13",
      "conditionally_required@16",
    ]);
    expect(asRead.warnings.map((w) => [w.code, w.count, w.examples[0]!.value])).toEqual([
      ["stop_time_at_station", 1, "station"],
      ["stop_time_at_location", 1, "entrance"],
      ["departure_before_arrival", 1, undefined],
    ]);
    expect(asRead.facts.board?.length).toBeGreaterThan(100);
  });

  it("convert each field as the generic parser does, whatever the form", async () => {
    const { rows, facts } = await convert(MIXED);
    expect(rows.slice(0, 5)).toEqual([
      row(1, 28800, 28860, 1, 1, {
        stop_headsign: "Airport",
        pickup_type: 0,
        drop_off_type: 0,
        shape_dist_traveled: 0,
        timepoint: 1,
      }),
      row(1, 29400, 29400, 2, 2, { pickup_type: 1, drop_off_type: 0, shape_dist_traveled: 1.25 }),
      row(1, 30000, 30060, 3, 3, {
        stop_headsign: "Zürich HB, Gleis 7",
        pickup_type: 0,
        drop_off_type: 1,
        shape_dist_traveled: 2.5,
        timepoint: 1,
      }),
      row(1, 30600, 30600, 1, 4),
      row(1, 31200, 31200, 2, 5),
    ]);
    // An arrival alone stands for the departure too; a departure before the arrival is kept as given.
    expect(rows[5]).toEqual(row(1, 31800, 31800, 4, 6));
    expect(rows[6]).toEqual(row(1, 33000, 32700, 5, 7));
    // A record with trailing optional columns left off.
    expect(rows.at(-1)).toEqual(row(2, 39600, 39600, 3, 6));
    expect(facts.maxDepartureSecs).toBe(39600);
    expect(facts.missingTimes).toBe(0);
  });

  it("store a stop without times without, and leave the boards to SQL (after interpolation)", async () => {
    const rows = ["t1,08:00:00,08:00:00,a,1", "t1,,,b,2,,,,,0", "t1,08:10:00,08:10:00,c,3"];
    for (const path of ["as read", "record path"] as const) {
      const { rows: stored, facts } = await convert(rows, path);
      expect(stored[1]).toEqual(row(1, null, null, 2, 2, { timepoint: 0 }));
      expect(facts.missingTimes).toBe(1);
      expect(facts.board).toBeUndefined();
    }
  });
});

describe("stop_times converter: rules", () => {
  it("refuses a stop_sequence repeated within a run of the trip's rows, naming the line it repeats", async () => {
    const { errors, rows } = await convert([
      "t1,08:00:00,08:00:00,a,1",
      "t1,08:05:00,08:05:00,b,5",
      "t1,08:10:00,08:10:00,c,3",
      "t1,08:15:00,08:15:00,a,5",
      "t1,08:20:00,08:20:00,b,1",
    ]);
    expect(errors.map((e) => [e.code, e.line, e.value, e.message])).toEqual([
      ["duplicate_stop_sequence", 5, "t1, 5", "duplicate (trip_id, stop_sequence): also on line 3"],
      ["duplicate_stop_sequence", 6, "t1, 1", "duplicate (trip_id, stop_sequence): also on line 2"],
    ]);
    expect(rows.map((r) => r.stop_sequence)).toEqual([1, 5, 3]);
  });

  it("leaves repeats in rows of a trip apart in the file to the unique index, which the disorder calls for", async () => {
    const { errors, facts } = await convert([
      "t1,08:00:00,08:00:00,a,1",
      "t2,09:00:00,09:00:00,a,1",
      "t1,08:05:00,08:05:00,b,1",
    ]);
    expect(errors).toEqual([]);
    expect(facts.inTripOrder).toBe(false);
  });

  it("notes whether rows come in trip order: trips as in trips.txt, each trip's sequences increasing", async () => {
    const inOrder = ["t1,08:00:00,08:00:00,a,1", "t1,08:05:00,08:05:00,b,2", "t2,09:00:00,09:00:00,c,0"];
    expect((await convert(inOrder)).facts.inTripOrder).toBe(true);
    expect((await convert([inOrder[2]!, inOrder[0]!, inOrder[1]!])).facts.inTripOrder).toBe(false);
    expect((await convert([inOrder[1]!, inOrder[0]!, inOrder[2]!])).facts.inTripOrder).toBe(false);
  });

  it("notes the template span and the stops of frequency-based trips, and nothing for the others", async () => {
    const { facts } = await convert([
      "t1,05:00:00,05:00:00,b,1",
      "f1,06:02:00,06:03:00,c,2",
      "f1,06:00:00,06:00:00,a,1",
      "f1,,06:20:00,c,3",
    ]);
    expect(facts.frequencySpans).toEqual(new Map([[3, [6 * 3600, 6 * 3600 + 20 * 60]]]));
    expect(facts.frequencyStops).toEqual(new Set([3, 1]));
    expect(facts.board).toBeDefined();
  });

  it("puts on the board only departures where pickup is possible", async () => {
    const board = async (rows: string[]) => (await convert(rows)).facts.board;
    const empty = await board([]);
    expect(await board(["t1,08:00:00,08:00:00,a,1,,1"])).toEqual(empty);
    expect(await board(["t1,08:00:00,08:00:00,a,1,,0"])).not.toEqual(empty);
    expect(await board(["f1,08:00:00,08:00:00,a,1,,1"])).toEqual(empty);
  });
});
