// What a matched TripUpdate says about each stop of its trip instance, following the GTFS-Realtime
// reference for StopTimeUpdate and StopTimeEvent
// (gtfs.org/documentation/realtime/feed-entities/trip-updates):
// - an absolute `time` beats `delay`; a missing departure takes the arrival's delay and vice versa;
// - a delay propagates to later stops until the next update; SKIPPED does not propagate (the delay
//   carries over it), NO_DATA makes this and later stops unknown until an update with times;
// - trip CANCELED (and DELETED, which boards do not show at all), and ADDED/NEW trips that are not in
//   the timetable, placed by their updates' stop_id and absolute times.
// Which instance and stops an update is about is trip-matching.ts's job.
import { parseGtfsDate } from "../gtfs/domain/time";
import { localDate, serviceDayBase } from "../gtfs/domain/timezone";
import { has, optionalSeconds, rt, type StopTimeEvent, type TripUpdate } from "./feed-message";
import type { TripSchedule } from "./static-schedule";
import { matchStopTimeUpdates } from "./trip-matching";

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

const REL = rt.TripDescriptor.ScheduleRelationship;
const STOP_REL = rt.TripUpdate.StopTimeUpdate.ScheduleRelationship;

export function tripHeadsignOf(update: TripUpdate): string | null {
  const props = update.tripProperties;
  return props && has(props, "tripHeadsign") ? props.tripHeadsign! : null;
}

/** Expected time for one StopTimeEvent against its scheduled instant: `time` beats `delay`. */
function expectedOf(event: StopTimeEvent | null | undefined, scheduled: number): number | undefined {
  if (!event) return undefined;
  const time = optionalSeconds(event, "time");
  if (time !== undefined) return time;
  if (has(event, "delay")) return scheduled + event.delay!;
  return undefined;
}

/** A timetabled trip's instance on `date`, with each stop's expected times from the update. */
export function timetabledInstance(
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
  const matched = matchStopTimeUpdates(trip, update);

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
export function addedInstance(tz: string, update: TripUpdate, feedTimestamp: number, headsign: string | null) {
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
