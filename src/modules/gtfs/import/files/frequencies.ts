// frequencies.txt → frequencies: trips that repeat every headway_secs within a time window; their
// stop_times are a template (domain/frequencies.ts expands it for a board).
import { copyLine } from "../copy-text";
import { BOOL01, column as c, columnIndex, type FileSpec, type Value } from "../read/columns";
import { rejectRow, type TextFeedFile } from "./feed-file";

const spec = {
  file: "frequencies.txt",
  required: false,
  columns: [
    c("trip_id", "id", { required: true }),
    c("start_time", "time", { required: true }),
    c("end_time", "time", { required: true }),
    c("headway_secs", "int", { required: true, min: 1 }),
    c("exact_times", "int", { values: BOOL01 }),
  ],
} as const satisfies FileSpec;

export const frequencies: TextFeedFile = {
  name: "frequencies",
  spec,
  dependsOn: ["trips"],
  copy: "text",
  table: {
    name: "frequencies",
    copyColumns: ["trip_idx", "start_secs", "end_secs", "headway_secs", "exact_times"],
    create: (s) => [
      `create table ${s}.frequencies (trip_idx integer not null, start_secs integer not null, end_secs integer not null,
      headway_secs integer not null, exact_times smallint not null default 0)`,
    ],
    indexes: (s) => [`create index frequencies_trip on ${s}.frequencies (trip_idx)`],
    analyze: true,
  },
  rows({ state, issues }) {
    const c = columnIndex(spec);
    const file = spec.file;
    const convert = (row: Value[], line: number) => {
      const trip = row[c.trip_id] as string;
      const idx = state.trips.get(trip);
      if (idx === undefined)
        return rejectRow(issues, {
          code: "unknown_reference",
          file,
          line,
          field: "trip_id",
          value: trip,
          message: "unknown trip_id (not in trips.txt)",
        });
      const end = row[c.end_time] as number;
      if (end <= (row[c.start_time] as number))
        return rejectRow(issues, {
          code: "invalid_range",
          file,
          line,
          field: "end_time",
          value: String(end),
          message: "end_time must be after start_time",
        });
      if (row[c.exact_times] === null) row[c.exact_times] = 0;
      state.frequencyTrips.add(idx);
      state.frequencyEnds.set(idx, Math.max(state.frequencyEnds.get(idx) ?? 0, end));
      row[c.trip_id] = idx;
      return copyLine(row);
    };
    return { convert };
  },
};
