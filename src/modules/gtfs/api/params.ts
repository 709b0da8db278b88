// Query and path parameters of /v1 operations: numbers whose errors name the parameter, page limits and
// cursors, ids, and the `at` instant (ISO 8601, feed-local without an offset).
import { t } from "elysia";
import { invalidParameter } from "../../../http/errors";
import { isIsoDate } from "../domain/time";
import { zonedTimeToEpoch } from "../domain/timezone";

/**
 * A numeric query parameter whose errors name it. Elysia checks a decoded number against its bounds
 * without the parameter's key, so the schema carries the field and the rule (src/app.ts reports them).
 * `default` is what the handler uses when the parameter is absent; the OpenAPI document shows it
 * (src/http/openapi/document.ts), while validation leaves an absent parameter absent.
 */
export const NumberParam = (
  field: string,
  range: { minimum?: number; exclusiveMinimum?: number; maximum?: number; whole?: boolean; default?: number },
  description?: string,
) => {
  const { whole, default: fallback, ...bounds } = range;
  const { minimum: min, exclusiveMinimum: above, maximum: max } = bounds;
  const rule =
    min !== undefined && max !== undefined
      ? `from ${min} to ${max}`
      : above !== undefined && max !== undefined
        ? `above ${above} and at most ${max}`
        : min !== undefined
          ? `of ${min} or more`
          : "";
  const message = `must be a ${whole ? "whole number" : "number"}${rule ? ` ${rule}` : ""}`;
  return t.Numeric({
    ...bounds,
    ...(whole ? { multipleOf: 1 } : {}),
    ...(description ? { description } : {}),
    ...(fallback !== undefined ? { "x-default": fallback } : {}),
    error: () => ({ field, message }),
  });
};
export const Limit = (max: number, fallback: number) =>
  t.Optional(NumberParam("limit", { minimum: 1, maximum: max, whole: true, default: fallback }));
export const Cursor = t.Optional(t.String({ maxLength: 500 }));
export const Id = t.String({ minLength: 1, maxLength: 255 });

/** `x` rounded to 1/`per` (and never -0). */
export const snap = (x: number, per: number) => Math.round(x * per) / per || 0;

const ISO_INSTANT = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** ISO 8601 instant; without an offset it is wall-clock time in the feed's time zone. */
export function parseAt(at: string | undefined, timeZone: string, now = Date.now()): number {
  if (at === undefined || at === "") return now;
  const m = ISO_INSTANT.exec(at);
  if (!m || !isIsoDate(m[1]!) || Number(m[2]) > 23 || Number(m[3]) > 59 || Number(m[4] ?? 0) > 59)
    throw invalidParameter(
      "at",
      "invalid query parameter 'at': expected ISO 8601 like 2024-03-10T08:00:00-05:00",
      "expected ISO 8601 like 2024-03-10T08:00:00-05:00",
    );
  if (m[6]) {
    const ms = Date.parse(m[6].length === 5 ? `${at.slice(0, -5)}${m[6].slice(0, 3)}:${m[6].slice(3)}` : at);
    if (Number.isNaN(ms)) throw invalidParameter("at", "invalid query parameter 'at'", "not a valid instant");
    return ms;
  }
  const seconds = Number(m[4] ?? 0) + Number(m[5] ?? 0);
  return zonedTimeToEpoch(timeZone, m[1]!, Number(m[2]), Number(m[3])) + Math.round(seconds * 1000);
}

/** The end of the current second: an answer computed for "now" (to the second) holds until then. */
export const endOfSecond = (ms: number) => (Math.floor(ms / 1000) + 1) * 1000;
