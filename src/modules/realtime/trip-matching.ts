// Which timetabled trip instance, and which of its stops, a TripUpdate is about, following the
// GTFS-Realtime reference (gtfs.org/documentation/realtime/feed-entities/trip-updates, TripDescriptor
// and StopTimeUpdate):
// - a trip instance is trip_id + start_date (+ start_time for frequency-based trips, where it is
//   required); without a start_date it is the instance, among the running ones, nearest the update's
//   timestamp;
// - a StopTimeUpdate names its stop by stop_sequence or, failing that, stop_id (searched forward from
//   the previous update, so a loop's repeated stop resolves in order).
// What the matched updates then say about each stop's time is delay-propagation.ts's job.
import { parseGtfsDate, parseGtfsTime } from "../gtfs/domain/time";
import { localDate, serviceDayBase } from "../gtfs/domain/timezone";
import { has, optionalSeconds, type StopTimeUpdate, type TripUpdate } from "./feed-message";
import type { TripSchedule } from "./static-schedule";

/** An update whose trip is in the timetable, with the service days it may mean. */
export interface Resolved {
  update: TripUpdate;
  trip: TripSchedule;
  reference: number;
  dates: string[];
  explicitDate: boolean;
  /** Actual start (seconds) for a frequency-based trip; the nominal instance is derived from it. */
  startSecs: number | null;
}

/**
 * The service days `update` (about timetabled `trip`) may mean; undefined when it cannot name an
 * instance (a frequency-based trip without start_time, a start_date that is not a date).
 */
export function resolveUpdate(
  update: TripUpdate,
  trip: TripSchedule,
  timestamp: number,
  tz: string,
): Resolved | undefined {
  const reference = optionalSeconds(update, "timestamp") || timestamp;
  let startSecs: number | null = null;
  if (trip.frequencies.length) {
    // The reference requires start_time for frequency-based trips: it names the instance.
    const start = has(update.trip, "startTime") ? parseGtfsTime(update.trip.startTime!) : undefined;
    if (start === undefined) return undefined;
    startSecs = start;
  }
  const explicit = has(update.trip, "startDate") ? parseGtfsDate(update.trip.startDate!) : undefined;
  if (has(update.trip, "startDate") && !explicit) return undefined;
  const today = localDate(tz, reference * 1000);
  const dates = explicit ? [explicit] : [shiftDate(today, -1), today, shiftDate(today, 1)];
  return { update, trip, reference, dates, explicitDate: explicit !== undefined, startSecs };
}

/** The instance a resolved update means, given which (service_id|date) run; undefined when none. */
export function matchInstance(
  r: Resolved,
  running: Set<string>,
  tz: string,
): { date: string; shift: number; nominalShift: number; nominal: number | null } | undefined {
  const { trip } = r;
  const nominal = r.startSecs === null ? null : nominalStart(trip, r.startSecs);
  if (r.startSecs !== null && nominal === null) return undefined;
  // Frequency-based: template times are offsets from the first departure.
  const shift = r.startSecs === null ? 0 : r.startSecs - (trip.stops[0]?.dep ?? 0);
  const nominalShift = nominal === null ? 0 : nominal - (trip.stops[0]?.dep ?? 0);
  const candidates = r.dates.filter((d) => running.has(`${trip.serviceId}|${d}`));
  const date = nearestInstance(tz, trip, candidates, shift, r.reference);
  return date ? { date, shift, nominalShift, nominal } : undefined;
}

/** The update's StopTimeUpdates at the timetable's stops, by index (undefined: no update there). */
export function matchStopTimeUpdates(trip: TripSchedule, update: TripUpdate): (StopTimeUpdate | undefined)[] {
  const matched = new Array<StopTimeUpdate | undefined>(trip.stops.length);
  let from = 0;
  for (const stu of update.stopTimeUpdate ?? []) {
    let at = -1;
    if (has(stu, "stopSequence")) {
      for (let i = from; i < trip.stops.length; i++)
        if (trip.stops[i]!.seq === stu.stopSequence) {
          at = i;
          break;
        }
      if (at < 0) at = trip.stops.findIndex((s) => s.seq === stu.stopSequence);
    } else if (has(stu, "stopId")) {
      for (let i = from; i < trip.stops.length; i++)
        if (trip.stops[i]!.stopId === stu.stopId) {
          at = i;
          break;
        }
    }
    if (at < 0) continue; // names no stop of this trip: ignored
    matched[at] = stu;
    from = at + 1;
  }
  return matched;
}

function shiftDate(iso: string, days: number): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The nominal instance start an update's start_time names: for exact_times=1 it must be one of the
 * window's starts; for exact_times=0 the start may be anything and means the nearest nominal instance.
 */
function nominalStart(trip: TripSchedule, start: number): number | null {
  for (const w of trip.frequencies) {
    const last = w.startSecs + (Math.ceil((w.endSecs - w.startSecs) / w.headwaySecs) - 1) * w.headwaySecs;
    if (w.exactTimes) {
      if (start >= w.startSecs && start <= last && (start - w.startSecs) % w.headwaySecs === 0) return start;
      continue;
    }
    if (start < w.startSecs - w.headwaySecs / 2 || start > last + w.headwaySecs / 2) continue;
    const k = Math.round((start - w.startSecs) / w.headwaySecs);
    return w.startSecs + Math.min(Math.max(k, 0), (last - w.startSecs) / w.headwaySecs) * w.headwaySecs;
  }
  return null;
}

/** The candidate date whose instance runs nearest the reference instant. */
function nearestInstance(tz: string, trip: TripSchedule, dates: string[], shift: number, reference: number) {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const first = (trip.stops[0]?.dep ?? 0) + shift;
  const last = (trip.stops.at(-1)?.arr ?? 0) + shift;
  for (const date of dates) {
    const base = serviceDayBase(tz, date) / 1000;
    const distance = Math.max(0, base + first - reference, reference - (base + last));
    if (distance < bestDistance) {
      best = date;
      bestDistance = distance;
    }
  }
  return best;
}
