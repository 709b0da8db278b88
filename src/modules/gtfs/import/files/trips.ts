// trips.txt → trips: one journey of a route on the days of a service. Each gets a dense integer key
// (trip_idx, in file order) that stop_times and frequencies store instead of the text id.
import { copyLine } from "../copy-text";
import { BOOL01, column as c, columnIndex, type FileSpec, type Value } from "../read/columns";
import { ID, rejectRow, type TextFeedFile } from "./feed-file";

const spec = {
  file: "trips.txt",
  required: true,
  columns: [
    c("route_id", "id", { required: true }),
    c("service_id", "id", { required: true }),
    c("trip_id", "id", { required: true }),
    c("trip_headsign", "text"),
    c("trip_short_name", "text"),
    c("direction_id", "int", { values: BOOL01 }),
    c("block_id", "id"),
    c("shape_id", "id"),
    c("wheelchair_accessible", "int", { values: [0, 1, 2] }),
    c("bikes_allowed", "int", { values: [0, 1, 2] }),
  ],
} as const satisfies FileSpec;

export const trips: TextFeedFile = {
  name: "trips",
  spec,
  dependsOn: ["routes", "calendar", "calendar_dates", "shapes"],
  copy: "text",
  table: {
    name: "trips",
    copyColumns: ["trip_idx", ...spec.columns.map((col) => col.name)],
    create: (s) => [
      `create table ${s}.trips (trip_idx integer not null, route_id ${ID} not null, service_id ${ID} not null,
      trip_id ${ID} not null, trip_headsign text, trip_short_name text, direction_id smallint, block_id text,
      shape_id text, wheelchair_accessible smallint, bikes_allowed smallint,
      frequency_based boolean not null default false)`,
    ],
    indexes: (s) => [
      `create unique index trips_pk on ${s}.trips (trip_id)`,
      `create unique index trips_idx on ${s}.trips (trip_idx)`,
    ],
    // Not frequency_based (set after stop_times loads): no query filters on it.
    analyze: ["trip_idx", "trip_id", "route_id", "service_id"],
  },
  rows({ state, issues }) {
    const c = columnIndex(spec);
    const file = spec.file;
    const checkShapes = state.files.has("shapes.txt");
    const convert = (row: Value[], line: number) => {
      const id = row[c.trip_id] as string;
      if (state.trips.has(id))
        return rejectRow(issues, {
          code: "duplicate_id",
          file,
          line,
          field: "trip_id",
          value: id,
          message: "duplicate trip_id",
        });
      const route = row[c.route_id] as string;
      if (!state.routes.has(route))
        return rejectRow(issues, {
          code: "unknown_reference",
          file,
          line,
          field: "route_id",
          value: route,
          message: "unknown route_id (not in routes.txt)",
        });
      const service = row[c.service_id] as string;
      if (!state.services.has(service))
        return rejectRow(issues, {
          code: "unknown_reference",
          file,
          line,
          field: "service_id",
          value: service,
          message: "unknown service_id (not in calendar.txt or calendar_dates.txt)",
        });
      const shape = row[c.shape_id] as string | null;
      if (shape !== null && checkShapes && !state.shapes.has(shape))
        issues.warn({
          code: "unknown_shape_id",
          file,
          line,
          field: "shape_id",
          value: shape,
          message: "unknown shape_id (not in shapes.txt)",
        });
      const idx = state.trips.size + 1;
      state.trips.set(id, idx);
      return `${idx}\t${copyLine(row)}`;
    };
    return { convert };
  },
};
