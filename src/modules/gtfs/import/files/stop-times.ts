// stop_times.txt → stop_times: when each trip is at each stop, nine rows in ten of a feed. Its columns
// and rules are in stop-times-converter.ts, which turns the file's lines straight into binary COPY.
// Stops and trips are stored by their integer keys (stop_idx, trip_idx), so the largest table and its
// index hold integers instead of text ids.
import { BinaryCopyWriter } from "../copy-binary";
import { BoardCollector } from "../derived/board-buckets";
import type { RecordStream, StreamedFeedFile } from "./feed-file";
import { STOP_TIMES_COLUMNS, STOP_TIMES_SPEC, StopTimesConverter } from "./stop-times-converter";

export const stopTimes: StreamedFeedFile = {
  name: "stop_times",
  spec: STOP_TIMES_SPEC,
  dependsOn: ["trips", "stops", "frequencies"],
  copy: "binary",
  table: {
    name: "stop_times",
    copyColumns: STOP_TIMES_COLUMNS,
    create: (s) => [
      `create table ${s}.stop_times (trip_idx integer not null, arrival_secs integer, departure_secs integer,
      stop_idx integer not null, stop_sequence integer not null, stop_headsign text, pickup_type smallint,
      drop_off_type smallint, shape_dist_traveled double precision, timepoint smallint)`,
      // The planner needs only coarse statistics here; a small target keeps ANALYZE of millions of rows quick.
      `alter table ${s}.stop_times alter column trip_idx set statistics 20, alter column stop_idx set statistics 20`,
    ],
    // A trip's stop times. When the file listed each trip's stops together, trips in trips.txt order and
    // sequences increasing (checked while loading, so no duplicates), rows are physically in trip order
    // and a tiny BRIN index finds them; otherwise a unique btree, which also rejects duplicate
    // (trip_id, stop_sequence).
    indexes: (s, state) => [
      state.stopTimes.inTripOrder
        ? `create index stop_times_trip on ${s}.stop_times using brin (trip_idx) with (pages_per_range = 4)`
        : `create unique index stop_times_trip on ${s}.stop_times (trip_idx, stop_sequence) with (fillfactor = 100)`,
    ],
    analyze: ["trip_idx", "stop_idx"],
  },
  stream({ state, issues }, bytes): RecordStream {
    const writer = new BinaryCopyWriter();
    const board = new BoardCollector();
    // Rows are rarely under 32 bytes. Capped (4 M rows, 64 MB): a zip states sizes it need not keep,
    // and a bigger file grows the collector as it goes.
    board.reserve(Math.min(Math.ceil((bytes ?? 0) / 32), 1 << 22));
    const ids = {
      trips: state.trips,
      stops: state.stops,
      stopTypes: state.stopTypes,
      frequencyTrips: state.frequencyTrips,
    };
    const converter = new StopTimesConverter(ids, issues, writer, board);
    return {
      sinkFor: (index, columns) => converter.sinkFor(index, columns),
      get rows() {
        return converter.rows;
      },
      writer,
      done() {
        state.stopTimes = converter;
      },
    };
  },
};
