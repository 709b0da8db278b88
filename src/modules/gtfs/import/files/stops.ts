// stops.txt → stops: stops, stations and the places inside stations. Each gets a dense integer key
// (stop_idx, in file order) that stop_times stores instead of the text id, a search key for name
// search, and a point for nearby search.
import { searchKey } from "../../domain/search-key";
import { copyField, copyLine } from "../copy-text";
import { column as c, columnIndex, type FileSpec, type Value } from "../read/columns";
import { ID, rejectRow, type TextFeedFile } from "./feed-file";

const spec = {
  file: "stops.txt",
  required: true,
  columns: [
    c("stop_id", "id", { required: true }),
    c("stop_code", "text"),
    c("stop_name", "text"),
    c("stop_desc", "text"),
    c("stop_lat", "lat"),
    c("stop_lon", "lon"),
    c("zone_id", "text"),
    c("stop_url", "text"),
    c("location_type", "int", { values: [0, 1, 2, 3, 4] }),
    c("parent_station", "id"),
    c("stop_timezone", "timezone"),
    c("wheelchair_boarding", "int", { values: [0, 1, 2] }),
    c("level_id", "id"),
    c("platform_code", "text"),
  ],
} as const satisfies FileSpec;

export const stops: TextFeedFile = {
  name: "stops",
  spec,
  dependsOn: [],
  copy: "text",
  table: {
    name: "stops",
    copyColumns: ["stop_idx", ...spec.columns.map((col) => col.name), "search_name", "geo"],
    create: (s) => [
      `create table ${s}.stops (stop_idx integer not null, stop_id ${ID} not null, stop_code text, stop_name text,
      stop_desc text, stop_lat double precision, stop_lon double precision, zone_id text, stop_url text,
      location_type smallint not null default 0, parent_station ${ID}, stop_timezone text,
      wheelchair_boarding smallint, level_id text, platform_code text,
      search_name text collate "C" not null default '', geo point,
      has_frequencies boolean not null default false)`,
    ],
    indexes: (s) => [
      `create unique index stops_pk on ${s}.stops (stop_id)`,
      `create unique index stops_idx on ${s}.stops (stop_idx)`,
      `create index stops_parent on ${s}.stops (parent_station) where parent_station is not null`,
      `create index stops_geo on ${s}.stops using gist (geo)`,
      `create index stops_search on ${s}.stops (search_name)`,
    ],
    analyze: true,
  },
  rows({ state, issues }) {
    const c = columnIndex(spec);
    // parent_station values, checked once the whole file is in (a parent may come after its children).
    const refs: { line: number; parent: string }[] = [];
    const file = spec.file;
    const convert = (row: Value[], line: number) => {
      const id = row[c.stop_id] as string;
      const type = (row[c.location_type] as number | null) ?? 0;
      if (state.stops.has(id))
        return rejectRow(issues, {
          code: "duplicate_id",
          file,
          line,
          field: "stop_id",
          value: id,
          message: "duplicate stop_id",
        });
      const idx = state.stopTypes.length;
      state.stops.set(id, idx);
      state.stopTypes.push(type);
      const lat = row[c.stop_lat] as number | null;
      const lon = row[c.stop_lon] as number | null;
      const name = row[c.stop_name] as string | null;
      if (type <= 2) {
        const missing = lat === null ? "stop_lat" : lon === null ? "stop_lon" : name === null ? "stop_name" : null;
        if (missing)
          return rejectRow(issues, {
            code: "conditionally_required",
            file,
            line,
            field: missing,
            message: "required for location_type 0, 1 and 2",
          });
      }
      const parent = row[c.parent_station] as string | null;
      if (parent !== null) refs.push({ line, parent });
      else if (type >= 2)
        return rejectRow(issues, {
          code: "conditionally_required",
          file,
          line,
          field: "parent_station",
          message: "required for location_type 2, 3 and 4",
        });
      row[c.location_type] = type;
      // geo: equirectangular (lon·cos lat, lat) so that point distance ≈ metres / 111 195 for KNN.
      const geo = lat === null || lon === null ? null : `(${lon * Math.cos((lat * Math.PI) / 180)},${lat})`;
      return `${idx}\t${copyLine(row).slice(0, -1)}\t${copyField(name === null ? "" : searchKey(name))}\t${copyField(geo)}\n`;
    };
    const finish = () => {
      for (const ref of refs)
        if (!state.stops.has(ref.parent))
          issues.error({
            code: "unknown_reference",
            file,
            line: ref.line,
            field: "parent_station",
            value: ref.parent,
            message: "unknown parent_station (not in stops.txt)",
          });
    };
    return { convert, finish };
  },
};
