// Turns a decoded TripUpdates feed into expected times per trip instance and stop, once per snapshot,
// so answering only looks entries up: each update is matched to its trip instance (trip-matching.ts),
// its times are propagated along the instance's stops (delay-propagation.ts), and the departures that
// can enter a board's window from outside it are indexed by stop. Large snapshots are indexed in
// batches that yield to the answers waiting meanwhile.
import {
  addedInstance,
  type StopRealtime,
  type TripInstance,
  timetabledInstance,
  tripHeadsignOf,
} from "./delay-propagation";
import { type FeedMessage, optionalSeconds, rt, type TripUpdate } from "./feed-message";
import type { RouteFacts, StaticSchedule } from "./static-schedule";
import { matchInstance, type Resolved, resolveUpdate } from "./trip-matching";

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
    const r = trip && rel !== REL.DUPLICATED ? resolveUpdate(update, trip, timestamp, tz) : undefined;
    if (r) resolved.push(r);
    else counts.unmatched++;
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
    const match = matchInstance(r, running, tz);
    if (!match) {
      counts.unmatched++;
      continue;
    }
    const { date, shift, nominalShift, nominal } = match;
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
