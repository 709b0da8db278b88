// transfers.txt → transfers: rules for changing between stops, routes or trips.
import { copyLine } from "../copy-text";
import { column as c, columnIndex, type FileSpec, type Value } from "../read/columns";
import { ID, rejectRow, type TextFeedFile } from "./feed-file";

const spec = {
  file: "transfers.txt",
  required: false,
  columns: [
    c("from_stop_id", "id"),
    c("to_stop_id", "id"),
    c("from_route_id", "id"),
    c("to_route_id", "id"),
    c("from_trip_id", "id"),
    c("to_trip_id", "id"),
    c("transfer_type", "int", { required: true, values: [0, 1, 2, 3, 4, 5] }),
    c("min_transfer_time", "int", { min: 0 }),
  ],
} as const satisfies FileSpec;

export const transfers: TextFeedFile = {
  name: "transfers",
  spec,
  dependsOn: ["stops", "routes", "trips"],
  copy: "text",
  table: {
    name: "transfers",
    copyColumns: spec.columns.map((col) => col.name),
    create: (s) => [
      `create table ${s}.transfers (from_stop_id ${ID}, to_stop_id ${ID}, from_route_id ${ID}, to_route_id ${ID},
      from_trip_id ${ID}, to_trip_id ${ID}, transfer_type smallint not null, min_transfer_time integer)`,
    ],
  },
  rows({ state, issues }) {
    const c = columnIndex(spec);
    const references = [
      [c.from_stop_id, "from_stop_id", state.stops, "unknown stop_id (not in stops.txt)"],
      [c.to_stop_id, "to_stop_id", state.stops, "unknown stop_id (not in stops.txt)"],
      [c.from_route_id, "from_route_id", state.routes, "unknown route_id (not in routes.txt)"],
      [c.to_route_id, "to_route_id", state.routes, "unknown route_id (not in routes.txt)"],
      [c.from_trip_id, "from_trip_id", state.trips, "unknown trip_id (not in trips.txt)"],
      [c.to_trip_id, "to_trip_id", state.trips, "unknown trip_id (not in trips.txt)"],
    ] as const;
    const convert = (row: Value[], line: number) => {
      for (const [at, field, ids, message] of references) {
        const v = row[at] as string | null;
        if (v !== null && !ids.has(v))
          return rejectRow(issues, { code: "unknown_reference", file: spec.file, line, field, value: v, message });
      }
      return copyLine(row);
    };
    return { convert };
  },
};
