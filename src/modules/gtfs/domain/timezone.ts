// Absolute instants for GTFS times, using only Intl (no tz database dependency).
// A service day's reference point is "noon minus 12h" local time: on a DST-change day this is not local
// midnight, which is exactly why 26:03:00 on 2019-03-30 in Europe/Berlin is 03:03+02:00, not 02:03.
import { pad2 } from "./time";

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(timeZone: string, epochMs: number): WallClock {
  const parts = formatter(timeZone).formatToParts(new Date(epochMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return {
    year: get("year"),
    month: get("month"),
    day: get("day"),
    hour: get("hour") % 24,
    minute: get("minute"),
    second: get("second"),
  };
}

// Offsets only change on whole minutes; caching per minute keeps board formatting cheap.
const offsetCache = new Map<string, number>();

/** UTC offset of `timeZone` at the instant, in minutes (e.g. +120 for CEST). */
export function utcOffsetMinutes(timeZone: string, epochMs: number): number {
  const minute = Math.floor(epochMs / 60_000);
  const key = `${timeZone}|${minute}`;
  const hit = offsetCache.get(key);
  if (hit !== undefined) return hit;
  const w = wallClock(timeZone, minute * 60_000);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  const offset = Math.round((asUtc - minute * 60_000) / 60_000);
  if (offsetCache.size > 50_000) offsetCache.clear();
  offsetCache.set(key, offset);
  return offset;
}

/**
 * Epoch ms of local wall time `isoDate` `hh:mm` in `timeZone`. Around a DST change it follows the
 * common rule (RFC 5545, Temporal's "compatible"): a wall time that occurs twice is the earlier
 * instant, and one skipped by the change is read with the offset before it, which lands after the gap
 * (02:30 on a New York spring-forward day is 03:30 EDT).
 */
export function zonedTimeToEpoch(timeZone: string, isoDate: string, hour: number, minute = 0): number {
  const [y, m, d] = isoDate.split("-").map(Number) as [number, number, number];
  const naive = Date.UTC(y, m - 1, d, hour, minute);
  // Offsets a day either side: time zones change offset at most once in that span.
  const before = utcOffsetMinutes(timeZone, naive - 86_400_000);
  const after = utcOffsetMinutes(timeZone, naive + 86_400_000);
  let earliest = Number.POSITIVE_INFINITY;
  for (const offset of before === after ? [before] : [before, after]) {
    const t = naive - offset * 60_000;
    if (utcOffsetMinutes(timeZone, t) === offset && t < earliest) earliest = t;
  }
  return Number.isFinite(earliest) ? earliest : naive - before * 60_000;
}

const baseCache = new Map<string, number>();

/** The service day's reference instant: local noon minus 12 hours. GTFS time T is at base + T seconds. */
export function serviceDayBase(timeZone: string, isoDate: string): number {
  const key = `${timeZone}|${isoDate}`;
  let base = baseCache.get(key);
  if (base === undefined) {
    base = zonedTimeToEpoch(timeZone, isoDate, 12) - 12 * 3_600_000;
    if (baseCache.size > 10_000) baseCache.clear();
    baseCache.set(key, base);
  }
  return base;
}

/** Absolute instant of a GTFS time on a service date, as epoch ms. */
export function gtfsInstant(timeZone: string, serviceDate: string, secs: number): number {
  return serviceDayBase(timeZone, serviceDate) + secs * 1000;
}

/** ISO 8601 with the zone's offset at that instant, second precision: "2019-03-31T03:03:00+02:00". */
export function formatInZone(timeZone: string, epochMs: number): string {
  const offset = utcOffsetMinutes(timeZone, epochMs);
  const local = new Date(Math.floor(epochMs / 1000) * 1000 + offset * 60_000).toISOString().slice(0, 19);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${local}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

/** Local calendar date ("YYYY-MM-DD") of an instant in `timeZone`. */
export function localDate(timeZone: string, epochMs: number): string {
  const offset = utcOffsetMinutes(timeZone, epochMs);
  return new Date(epochMs + offset * 60_000).toISOString().slice(0, 10);
}
