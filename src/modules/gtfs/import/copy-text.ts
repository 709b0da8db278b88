// PostgreSQL COPY text format: tab-separated, \N for NULL, backslash escapes for \ tab LF CR.
import type { Value } from "./read/columns";

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

export function copyField(v: Value | boolean | undefined): string {
  if (v === null || v === undefined) return "\\N";
  if (typeof v === "string") return SPECIAL.test(v) ? v.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : v;
  if (typeof v === "boolean") return v ? "t" : "f";
  return String(v);
}

export function copyLine(values: readonly (Value | boolean | undefined)[]): string {
  // One native join: the line comes out flat, where `+=` builds a rope that every later join must walk.
  const fields = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) fields[i] = copyField(values[i]);
  return `${fields.join("\t")}\n`;
}
