// A GTFS file's columns as the importer reads them: each column's type and whether it is required
// (per https://gtfs.org/schedule/reference/), the header mapped onto them, and a record turned into typed
// values with a coded issue per bad field. Unknown columns are ignored; column order is free. Which
// columns each file has is said by its module in import/files/.

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

/** The values of a 0/1 flag column. */
export const BOOL01 = [0, 1] as const;

/** One column of a file's spec; `name` keeps its literal type so `columnIndex` can name positions. */
export const column = <N extends string>(name: N, type: FieldType, extra: Partial<ColumnSpec> = {}) =>
  ({ name, type, ...extra }) as ColumnSpec & { name: N };

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
      // PostgreSQL's text cannot hold U+0000: refused here, where the field is known, not by COPY.
      return raw.includes("\0")
        ? { code: "invalid_text", error: "contains a NUL character (byte 0), which text cannot hold" }
        : raw;
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
export function columnIndex<const S extends FileSpec>(spec: S): Record<S["columns"][number]["name"], number> {
  const out: Record<string, number> = {};
  spec.columns.forEach((col, i) => {
    out[col.name] = i;
  });
  return out as Record<S["columns"][number]["name"], number>;
}
