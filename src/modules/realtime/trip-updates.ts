// Turns a decoded TripUpdates feed into expected times per trip instance and stop, following the
// GTFS-Realtime reference (gtfs.org/documentation/realtime/feed-entities/trip-updates and the
// reference for TripDescriptor, StopTimeUpdate and StopTimeEvent):
// - a trip instance is trip_id + start_date (+ start_time for frequency-based trips); without a
//   start_date it is the instance, among the running ones, nearest the update's timestamp;
// - a StopTimeUpdate names its stop by stop_sequence or, failing that, stop_id (searched forward from
//   the previous update, so a loop's repeated stop resolves in order);
// - an absolute `time` beats `delay`; a missing departure takes the arrival's delay and vice versa;
// - a delay propagates to later stops until the next update; SKIPPED does not propagate (the delay
//   carries over it), NO_DATA makes this and later stops unknown until an update with times;
// - trip CANCELED (and DELETED, which boards do not show at all), and ADDED/NEW trips that are not in
//   the timetable, placed by their updates' stop_id and absolute times.
// Everything is computed here once per snapshot; answering only looks entries up.
import { parseGtfsDate, parseGtfsTime } from "../gtfs/domain/time";
import { localDate, serviceDayBase } from "../gtfs/domain/timezone";
import {
  type FeedMessage,
  has,
  optionalSeconds,
  rt,
  type StopTimeEvent,
  type StopTimeUpdate,
  type TripUpdate,
} from "./feed-message";
import type { RouteFacts, StaticSchedule, TripSchedule } from "./static-schedule";

export type StopStatus = "SCHEDULED" | "SKIPPED" | "NO_DATA" | "CANCELED" | "ADDED";
export type TripStatus = "SCHEDULED" | "CANCELED" | "DELETED" | "ADDED";

export interface StopRealtime {
  seq: number;
  stopId: string;
  /** Epoch seconds; null for a trip that is not in the timetable. */
  scheduledArr: number | null;
  scheduledDep: number | null;
  /** The scheduled departure as seconds of the service day (its GTFS time). */
  scheduledSecs: number | null;
  /** Expected epoch seconds; null when not known (NO_DATA, SKIPPED, CANCELED). */
  arrival: number | null;
  departure: number | null;
  /** Departure delay in seconds (the arrival's where there is no departure); null when not known. */
  delay: number | null;
  status: StopStatus;
  headsign: string | null;
  noPickup: boolean;
}

export interface TripInstance {
  tripId: string;
  routeId: string | null;
  headsign: string | null;
  directionId: number | null;
  serviceDate: string;
  /** Nominal start (seconds of the service day) of a frequency-based trip's instance; null otherwise. */
  startSecs: number | null;
  frequencyBased: boolean;
  exactTimes: boolean | null;
  status: TripStatus;
  /** Epoch seconds: the update's own timestamp, else the feed's. */
  updatedAt: number;
  stops: StopRealtime[];
  bySeq: Map<number, StopRealtime>;
}

export interface StopEvent {
  trip: TripInstance;
  stop: StopRealtime;
}

export interface TripUpdatesCounts {
  trip_updates: number;
  matched: number;
  unmatched: number;
  added: number;
  canceled: number;
}

export interface TripUpdatesIndex {
  feedId: number;
  timezone: string;
  /** Epoch seconds the snapshot describes (header timestamp, else when it was fetched). */
  timestamp: number;
  counts: TripUpdatesCounts;
  routes: Map<string, RouteFacts>;
  /** Instances of timetabled trips, by trip_id. */
  instances: Map<string, TripInstance[]>;
  /** Trips not in the timetable (ADDED, NEW), by trip_id. */
  added: Map<string, TripInstance>;
  /**
   * Per stop_id, sorted by expected departure: departures whose expected time differs from the
   * timetable, and added trips' stops — the ones that can enter a board's window from outside it.
   */
  byStop: Map<string, StopEvent[]>;
}

/** The instance of a timetabled trip, or undefined when the snapshot says nothing about it. */
export function findInstance(
  index: TripUpdatesIndex,
  tripId: string,
  serviceDate: string,
  startSecs: number | null,
): TripInstance | undefined {
  const list = index.instances.get(tripId);
  if (!list) return undefined;
  for (const instance of list)
    if (instance.serviceDate === serviceDate && instance.startSecs === startSecs) return instance;
  return undefined;
}

const REL = rt.TripDescriptor.ScheduleRelationship;

/** Trips indexed between two yields to the event loop (about a millisecond of work). */
const YIELD_EVERY = 50;
const yieldToAnswers = () => new Promise<void>((resolve) => setImmediate(resolve));
const STOP_REL = rt.TripUpdate.StopTimeUpdate.ScheduleRelationship;

interface Resolved {
  update: TripUpdate;
  trip: TripSchedule;
  reference: number;
  dates: string[];
  explicitDate: boolean;
  /** Actual start (seconds) for a frequency-based trip; the nominal instance is derived from it. */
  startSecs: number | null;
}

export async function buildTripUpdatesIndex(
  message: FeedMessage,
  schedule: StaticSchedule,
  fetchedAtSecs: number,
): Promise<TripUpdatesIndex> {
  const feed = schedule.feed;
  const tz = feed.timezone;
  const timestamp = optionalSeconds(message.header, "timestamp") || fetchedAtSecs;
  const updates: TripUpdate[] = [];
  for (const entity of message.entity) if (entity.tripUpdate && !entity.isDeleted) updates.push(entity.tripUpdate);

  const isAdded = (u: TripUpdate) => {
    const rel = u.trip.scheduleRelationship;
    return rel === REL.ADDED || rel === REL.NEW;
  };
  const timetabled = await schedule.trips(
    updates.filter((u) => !isAdded(u) && u.trip.tripId).map((u) => u.trip.tripId!),
  );
  const routes = await schedule.routes();
  const counts: TripUpdatesCounts = { trip_updates: updates.length, matched: 0, unmatched: 0, added: 0, canceled: 0 };

  // Which service days each update may mean, then one query for which of them run.
  const resolved: Resolved[] = [];
  for (const update of updates) {
    if (isAdded(update)) continue;
    const trip = timetabled.get(update.trip.tripId ?? "");
    const rel = update.trip.scheduleRelationship ?? REL.SCHEDULED;
    if (!trip || rel === REL.DUPLICATED) {
      counts.unmatched++;
      continue;
    }
    const reference = optionalSeconds(update, "timestamp") || timestamp;
    let startSecs: number | null = null;
    if (trip.frequencies.length) {
      // The reference requires start_time for frequency-based trips: it names the instance.
      const start = has(update.trip, "startTime") ? parseGtfsTime(update.trip.startTime!) : undefined;
      if (start === undefined) {
        counts.unmatched++;
        continue;
      }
      startSecs = start;
    }
    const explicit = has(update.trip, "startDate") ? parseGtfsDate(update.trip.startDate!) : undefined;
    if (has(update.trip, "startDate") && !explicit) {
      counts.unmatched++;
      continue;
    }
    const today = localDate(tz, reference * 1000);
    const dates = explicit ? [explicit] : [shiftDate(today, -1), today, shiftDate(today, 1)];
    resolved.push({ update, trip, reference, dates, explicitDate: explicit !== undefined, startSecs });
  }
  const running = await schedule.running(
    resolved.flatMap((r) => r.dates.map((d) => [r.trip.serviceId, d] as [string, string])),
  );

  const instances = new Map<string, TripInstance[]>();
  const added = new Map<string, TripInstance>();
  const byStop = new Map<string, StopEvent[]>();
  const addEvent = (trip: TripInstance, stop: StopRealtime) => {
    let list = byStop.get(stop.stopId);
    if (!list) {
      list = [];
      byStop.set(stop.stopId, list);
    }
    list.push({ trip, stop });
  };

  let done = 0;
  for (const r of resolved) {
    // Indexing a large snapshot takes a while: let the answers waiting meanwhile go first.
    if (++done % YIELD_EVERY === 0) await yieldToAnswers();
    const { trip, update } = r;
    const nominal = r.startSecs === null ? null : nominalStart(trip, r.startSecs);
    if (r.startSecs !== null && nominal === null) {
      counts.unmatched++;
      continue;
    }
    // Frequency-based: template times are offsets from the first departure.
    const shift = r.startSecs === null ? 0 : r.startSecs - (trip.stops[0]?.dep ?? 0);
    const nominalShift = nominal === null ? 0 : nominal - (trip.stops[0]?.dep ?? 0);
    const candidates = r.dates.filter((d) => running.has(`${trip.serviceId}|${d}`));
    const date = nearestInstance(tz, trip, candidates, shift, r.reference);
    if (!date) {
      counts.unmatched++;
      continue;
    }
    const instance = timetabledInstance(tz, trip, update, date, shift, nominalShift, nominal, r.reference);
    counts.matched++;
    if (instance.status === "CANCELED" || instance.status === "DELETED") counts.canceled++;
    let list = instances.get(trip.tripId);
    if (!list) {
      list = [];
      instances.set(trip.tripId, list);
    }
    // A second update for the same instance replaces the first (the reference allows one per trip).
    const same = list.findIndex((i) => i.serviceDate === date && i.startSecs === instance.startSecs);
    if (same >= 0) list[same] = instance;
    else list.push(instance);
  }
  done = 0;
  for (const list of instances.values())
    for (const instance of list) {
      if (++done % YIELD_EVERY === 0) await yieldToAnswers();
      if (instance.status !== "SCHEDULED") continue;
      for (const stop of instance.stops)
        if (stop.departure !== null && !stop.noPickup && stop.departure !== stop.scheduledDep) addEvent(instance, stop);
    }

  for (const update of updates) {
    if (!isAdded(update)) continue;
    const instance = addedInstance(tz, update, timestamp, tripHeadsignOf(update));
    if (!instance) {
      counts.unmatched++;
      continue;
    }
    counts.added++;
    added.set(instance.tripId, instance);
    for (const stop of instance.stops) if (stop.departure !== null) addEvent(instance, stop);
  }
  done = 0;
  for (const list of byStop.values()) {
    if (++done % (YIELD_EVERY * 10) === 0) await yieldToAnswers();
    list.sort((a, b) => a.stop.departure! - b.stop.departure!);
  }
  return { feedId: feed.id, timezone: tz, timestamp, counts, routes, instances, added, byStop };
}

function tripHeadsignOf(update: TripUpdate): string | null {
  const props = update.tripProperties;
  return props && has(props, "tripHeadsign") ? props.tripHeadsign! : null;
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

/** Expected time for one StopTimeEvent against its scheduled instant: `time` beats `delay`. */
function expectedOf(event: StopTimeEvent | null | undefined, scheduled: number): number | undefined {
  if (!event) return undefined;
  const time = optionalSeconds(event, "time");
  if (time !== undefined) return time;
  if (has(event, "delay")) return scheduled + event.delay!;
  return undefined;
}

function timetabledInstance(
  tz: string,
  trip: TripSchedule,
  update: TripUpdate,
  date: string,
  shift: number,
  nominalShift: number,
  nominal: number | null,
  reference: number,
): TripInstance {
  const base = serviceDayBase(tz, date) / 1000;
  const rel = update.trip.scheduleRelationship ?? REL.SCHEDULED;
  const status: TripStatus = rel === REL.CANCELED ? "CANCELED" : rel === REL.DELETED ? "DELETED" : "SCHEDULED";
  // The StopTimeUpdates matched to the timetable's stops, in order.
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

  // Before the first update, the trip-level delay (if any) is the best estimate; otherwise unknown.
  let carried: number | null = has(update, "delay") ? update.delay! : null;
  const stops: StopRealtime[] = trip.stops.map((s, i) => {
    const scheduledArr = base + s.arr + nominalShift;
    const scheduledDep = base + s.dep + nominalShift;
    // Arithmetic runs on the instance's own schedule (for exact_times=0 its actual start).
    const ownArr = base + s.arr + shift;
    const ownDep = base + s.dep + shift;
    const out: StopRealtime = {
      seq: s.seq,
      stopId: s.stopId,
      scheduledArr,
      scheduledDep,
      scheduledSecs: s.dep + nominalShift,
      arrival: null,
      departure: null,
      delay: null,
      status: "NO_DATA",
      headsign: s.headsign,
      noPickup: s.noPickup,
    };
    if (status !== "SCHEDULED") {
      out.status = "CANCELED";
      return out;
    }
    const stu = matched[i];
    const stopRel = stu?.scheduleRelationship ?? STOP_REL.SCHEDULED;
    if (stu && stopRel === STOP_REL.SKIPPED) {
      out.status = "SKIPPED";
      return out;
    }
    if (stu && stopRel === STOP_REL.NO_DATA) {
      carried = null;
      return out;
    }
    let arrival: number | undefined;
    let departure: number | undefined;
    if (stu) {
      arrival = expectedOf(stu.arrival, ownArr);
      departure = expectedOf(stu.departure, ownDep);
      if (arrival === undefined && departure === undefined) {
        // An update with neither time: the reference reads it as "delay unknown" from here on.
        carried = null;
        return out;
      }
      if (departure === undefined) departure = Math.max(arrival!, ownDep + (arrival! - ownArr));
      if (arrival === undefined) arrival = Math.min(departure, ownArr + (departure - ownDep));
      carried = departure - ownDep;
    } else {
      if (carried === null) return out;
      arrival = ownArr + carried;
      departure = ownDep + carried;
    }
    out.arrival = arrival;
    out.departure = departure;
    out.delay = departure - ownDep;
    out.status = "SCHEDULED";
    return out;
  });
  return {
    tripId: trip.tripId,
    routeId: trip.routeId,
    headsign: trip.headsign,
    directionId: trip.directionId,
    serviceDate: date,
    startSecs: nominal,
    frequencyBased: trip.frequencies.length > 0,
    exactTimes: trip.frequencies.length ? trip.frequencies[0]!.exactTimes : null,
    status,
    updatedAt: reference,
    stops,
    bySeq: new Map(stops.map((s) => [s.seq, s])),
  };
}

/** A trip that is not in the timetable: its stops are the updates' stop_ids at their absolute times. */
function addedInstance(tz: string, update: TripUpdate, feedTimestamp: number, headsign: string | null) {
  const tripId = update.trip.tripId;
  if (!tripId) return undefined;
  const reference = optionalSeconds(update, "timestamp") || feedTimestamp;
  const stops: StopRealtime[] = [];
  (update.stopTimeUpdate ?? []).forEach((stu, i) => {
    if (!has(stu, "stopId")) return;
    const arrival = optionalSeconds(stu.arrival, "time") ?? null;
    const departure = optionalSeconds(stu.departure, "time") ?? arrival;
    const skipped = stu.scheduleRelationship === STOP_REL.SKIPPED;
    stops.push({
      seq: has(stu, "stopSequence") ? stu.stopSequence! : i + 1,
      stopId: stu.stopId!,
      scheduledArr: null,
      scheduledDep: null,
      scheduledSecs: null,
      arrival: skipped ? null : (arrival ?? departure),
      departure: skipped ? null : departure,
      delay: null,
      status: skipped ? "SKIPPED" : departure === null ? "NO_DATA" : "ADDED",
      headsign: null,
      noPickup: false,
    });
  });
  if (!stops.length) return undefined;
  const firstTime = stops.find((s) => s.departure !== null)?.departure ?? reference;
  const date = has(update.trip, "startDate") ? parseGtfsDate(update.trip.startDate!) : localDate(tz, firstTime * 1000);
  if (!date) return undefined;
  const instance: TripInstance = {
    tripId,
    routeId: has(update.trip, "routeId") ? update.trip.routeId! : null,
    headsign,
    directionId: has(update.trip, "directionId") ? update.trip.directionId! : null,
    serviceDate: date,
    startSecs: null,
    frequencyBased: false,
    exactTimes: null,
    status: "ADDED",
    updatedAt: reference,
    stops,
    bySeq: new Map(stops.map((s) => [s.seq, s])),
  };
  return instance;
}
