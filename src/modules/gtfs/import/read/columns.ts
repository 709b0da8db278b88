// What the importer reads from each GTFS file: columns, their types, and which are required
// (per https://gtfs.org/schedule/reference/). Unknown columns are ignored; column order is free.

import { parseGtfsDate, parseGtfsTime } from "../../domain/time";
import { isValidTimeZone } from "../../domain/timezone";
import type { ErrorCode, IssueCollector } from "../issues";

export type FieldType = "id" | "text" | "int" | "float" | "lat" | "lon" | "time" | "date" | "timezone" | "color";

export interface ColumnSpec {
  name: string;
  type: FieldType;
  required?: boolean;
  /** Allowed integer values (enums such as location_type). */
  values?: readonly number[];
  min?: number;
}

export interface FileSpec {
  file: string;
  required: boolean;
  columns: readonly ColumnSpec[];
}

export type Value = string | number | null;

const bool01 = [0, 1] as const;
const c = <N extends string>(name: N, type: FieldType, extra: Partial<ColumnSpec> = {}) =>
  ({ name, type, ...extra }) as ColumnSpec & { name: N };

export const FILES = {
  agency: {
    file: "agency.txt",
    required: true,
    columns: [
      c("agency_id", "id"),
      c("agency_name", "text", { required: true }),
      c("agency_url", "text", { required: true }),
      c("agency_timezone", "timezone", { required: true }),
      c("agency_lang", "text"),
      c("agency_phone", "text"),
      c("agency_fare_url", "text"),
      c("agency_email", "text"),
    ],
  },
  stops: {
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
  },
  routes: {
    file: "routes.txt",
    required: true,
    columns: [
      c("route_id", "id", { required: true }),
      c("agency_id", "id"),
      c("route_short_name", "text"),
      c("route_long_name", "text"),
      c("route_desc", "text"),
      c("route_type", "int", { required: true, min: 0 }),
      c("route_url", "text"),
      c("route_color", "color"),
      c("route_text_color", "color"),
      c("route_sort_order", "int", { min: 0 }),
    ],
  },
  trips: {
    file: "trips.txt",
    required: true,
    columns: [
      c("route_id", "id", { required: true }),
      c("service_id", "id", { required: true }),
      c("trip_id", "id", { required: true }),
      c("trip_headsign", "text"),
      c("trip_short_name", "text"),
      c("direction_id", "int", { values: bool01 }),
      c("block_id", "id"),
      c("shape_id", "id"),
      c("wheelchair_accessible", "int", { values: [0, 1, 2] }),
      c("bikes_allowed", "int", { values: [0, 1, 2] }),
    ],
  },
  stop_times: {
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
      c("timepoint", "int", { values: bool01 }),
    ],
  },
  calendar: {
    file: "calendar.txt",
    required: false, // calendar.txt or calendar_dates.txt (at least one) — checked by the importer
    columns: [
      c("service_id", "id", { required: true }),
      c("monday", "int", { required: true, values: bool01 }),
      c("tuesday", "int", { required: true, values: bool01 }),
      c("wednesday", "int", { required: true, values: bool01 }),
      c("thursday", "int", { required: true, values: bool01 }),
      c("friday", "int", { required: true, values: bool01 }),
      c("saturday", "int", { required: true, values: bool01 }),
      c("sunday", "int", { required: true, values: bool01 }),
      c("start_date", "date", { required: true }),
      c("end_date", "date", { required: true }),
    ],
  },
  calendar_dates: {
    file: "calendar_dates.txt",
    required: false,
    columns: [
      c("service_id", "id", { required: true }),
      c("date", "date", { required: true }),
      c("exception_type", "int", { required: true, values: [1, 2] }),
    ],
  },
  frequencies: {
    file: "frequencies.txt",
    required: false,
    columns: [
      c("trip_id", "id", { required: true }),
      c("start_time", "time", { required: true }),
      c("end_time", "time", { required: true }),
      c("headway_secs", "int", { required: true, min: 1 }),
      c("exact_times", "int", { values: bool01 }),
    ],
  },
  transfers: {
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
  },
  shapes: {
    file: "shapes.txt",
    required: false,
    columns: [
      c("shape_id", "id", { required: true }),
      c("shape_pt_lat", "lat", { required: true }),
      c("shape_pt_lon", "lon", { required: true }),
      c("shape_pt_sequence", "int", { required: true, min: 0 }),
      c("shape_dist_traveled", "float"),
    ],
  },
  feed_info: {
    file: "feed_info.txt",
    required: false,
    columns: [
      c("feed_publisher_name", "text", { required: true }),
      c("feed_publisher_url", "text", { required: true }),
      c("feed_lang", "text", { required: true }),
      c("default_lang", "text"),
      c("feed_start_date", "date"),
      c("feed_end_date", "date"),
      c("feed_version", "text"),
      c("feed_contact_email", "text"),
      c("feed_contact_url", "text"),
    ],
  },
} as const satisfies Record<string, FileSpec>;

export type GtfsTable = keyof typeof FILES;

/** Column index of each spec column in the CSV header (-1 when absent), or undefined if a required one is missing. */
export function mapHeader(spec: FileSpec, header: string[], issues: IssueCollector): number[] | undefined {
  const names = header.map((h) => h.trim().replace(/^\uFEFF/, ""));
  const index = spec.columns.map((col) => names.indexOf(col.name));
  let ok = true;
  spec.columns.forEach((col, i) => {
    if (col.required && index[i] === -1) {
      issues.error({
        code: "missing_column",
        file: spec.file,
        line: 1,
        field: col.name,
        message: "missing required column",
      });
      ok = false;
    }
  });
  return ok ? index : undefined;
}

/**
 * Converts one record to typed values aligned with `spec.columns` (times as seconds, dates as YYYY-MM-DD).
 * Returns undefined and records an issue for each bad field.
 */
export function parseRecord(
  spec: FileSpec,
  index: readonly number[],
  fields: readonly string[],
  line: number,
  issues: IssueCollector,
): Value[] | undefined {
  const cols = spec.columns;
  const out: Value[] = [];
  let ok = true;
  for (let i = 0; i < cols.length; i++) {
    const col = cols[i]!;
    const at = index[i]!;
    let raw = at >= 0 ? fields[at] : undefined;
    if (raw !== undefined && (raw.charCodeAt(0) === 32 || raw.charCodeAt(raw.length - 1) === 32)) raw = raw.trim();
    if (raw === undefined || raw === "") {
      if (col.required) {
        issues.error({
          code: "missing_value",
          file: spec.file,
          line,
          field: col.name,
          message: "required value is empty",
        });
        ok = false;
      }
      out.push(null);
      continue;
    }
    const v = convert(col, raw);
    if (typeof v === "object" && v !== null) {
      issues.error({ code: v.code, file: spec.file, line, field: col.name, value: raw, message: v.error });
      ok = false;
      out.push(null);
    } else out.push(v);
  }
  return ok ? out : undefined;
}

function convert(col: ColumnSpec, raw: string): string | number | { code: ErrorCode; error: string } {
  switch (col.type) {
    case "id":
    case "text":
      return raw;
    case "int": {
      const n = parseInteger(raw);
      if (n === undefined) return { code: "invalid_integer", error: "expected an integer" };
      if (col.values && !col.values.includes(n))
        return { code: "invalid_enum", error: `expected one of ${col.values.join(", ")}` };
      if (col.min !== undefined && n < col.min)
        return { code: "below_minimum", error: `expected an integer ≥ ${col.min}` };
      return n;
    }
    case "float": {
      const n = Number(raw);
      return Number.isFinite(n) ? n : { code: "invalid_number", error: "expected a number" };
    }
    case "lat":
    case "lon": {
      const n = Number(raw);
      const limit = col.type === "lat" ? 90 : 180;
      if (!Number.isFinite(n) || Math.abs(n) > limit)
        return {
          code: "invalid_coordinate",
          error: `expected a ${col.type === "lat" ? "latitude" : "longitude"} in ±${limit}`,
        };
      return n;
    }
    case "time": {
      const t = parseGtfsTime(raw);
      return t === undefined ? { code: "invalid_time", error: "expected a time HH:MM:SS" } : t;
    }
    case "date": {
      const d = parseGtfsDate(raw);
      return d === undefined ? { code: "invalid_date", error: "expected a date YYYYMMDD" } : d;
    }
    case "timezone":
      return isValidTimeZone(raw) ? raw : { code: "invalid_timezone", error: "unknown IANA time zone" };
    case "color":
      return /^[0-9A-Fa-f]{6}$/.test(raw)
        ? raw.toUpperCase()
        : { code: "invalid_color", error: "expected a hex colour RRGGBB" };
  }
}

function parseInteger(raw: string): number | undefined {
  let i = raw.charCodeAt(0) === 45 ? 1 : 0; // leading "-"
  if (i === raw.length || raw.length - i > 15) return undefined;
  let n = 0;
  for (; i < raw.length; i++) {
    const d = raw.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return raw.charCodeAt(0) === 45 ? -n : n;
}

/** Column positions by name, for readable access to parsed rows. */
export function columnIndex<T extends GtfsTable>(
  table: T,
): Record<(typeof FILES)[T]["columns"][number]["name"], number> {
  const out: Record<string, number> = {};
  FILES[table].columns.forEach((col, i) => {
    out[col.name] = i;
  });
  return out as Record<(typeof FILES)[T]["columns"][number]["name"], number>;
}
