// Realtime merged into answers built from the timetable, at answer time and in memory: the timetable
// part (cached per feed version, shared by every replica) never changes, and the current snapshot is
// looked up per departure. A departure keeps its scheduled fields and gains `realtime`; the board adds
// departures that realtime moves into its window (late or early) and trips not in the timetable.
import type { Board, Departure } from "../gtfs/api/departures";
import { formatGtfsTime } from "../gtfs/domain/time";
import { formatInZone } from "../gtfs/domain/timezone";
import { type AlertContext, type AlertRecord, activeDuring, alertApplies, alertJson } from "./alerts";
import type { StopRealtime, TripInstance } from "./delay-propagation";
import type { RouteFacts } from "./static-schedule";
import { findInstance, type TripUpdatesIndex } from "./trip-updates";
import type { VehicleIndex } from "./vehicles";

export type SourceState = "current" | "stale" | "unavailable" | "disabled";

export interface SourceStatus {
  status: SourceState;
  /** When the snapshot was produced (its header timestamp), ISO 8601; null without one. */
  updated_at: string | null;
}

/** What answers are merged with: the usable parts of the current snapshots, and how they stand. */
export interface RealtimeView {
  /** Changes whenever anything below does (a new snapshot, a source turning stale). */
  key: string;
  tripUpdates?: TripUpdatesIndex;
  alerts?: AlertRecord[];
  /** Vehicle positions by trip, when that optional source is configured and current. */
  vehicles?: VehicleIndex;
  /** The active feed version's routes (agency and route type, for alerts; names, for added trips). */
  routes?: Map<string, RouteFacts>;
  sources: { trip_updates: SourceStatus; alerts: SourceStatus };
}

export interface DepartureRealtime {
  departure: string | null;
  delay_seconds: number | null;
  status: string;
  updated_at: string;
}

type MergedDeparture = Omit<Departure, "departure_time" | "departure"> & {
  departure_time: string | null;
  departure: string | null;
  realtime: DepartureRealtime | null;
};

const instant = (tz: string, secs: number | null) => (secs === null ? null : formatInZone(tz, secs * 1000));

function departureRealtime(tz: string, trip: TripInstance, stop: StopRealtime): DepartureRealtime {
  return {
    departure: instant(tz, stop.departure),
    delay_seconds: stop.delay,
    status: stop.status,
    updated_at: instant(tz, trip.updatedAt)!,
  };
}

/**
 * The board with realtime: each departure's `realtime` (null when the snapshot says nothing about its
 * trip), DELETED trips left out, departures that realtime moves into [at, at + window) added, ordered
 * by expected time (scheduled where none), cut to `limit`; plus the alerts that apply and how the
 * sources stand.
 */
export function mergeBoard(board: Board, view: RealtimeView, atMs: number, windowMinutes: number, limit: number) {
  const tz = board.timezone;
  const index = view.tripUpdates;
  const from = atMs / 1000;
  const to = from + windowMinutes * 60;
  const rows: { d: MergedDeparture; sortKey: number; order: number }[] = [];
  const seen = new Set<string>();
  board.departures.forEach((d, order) => {
    const startSecs = d.start_time == null ? null : parseTime(d.start_time);
    const trip = index ? findInstance(index, d.trip_id, d.service_date, startSecs) : undefined;
    const stop = trip?.bySeq.get(d.stop_sequence);
    if (trip?.status === "DELETED") return;
    seen.add(`${d.trip_id}|${d.service_date}|${startSecs ?? ""}|${d.stop_sequence}`);
    const scheduled = Date.parse(d.departure) / 1000;
    rows.push({
      d: { ...d, realtime: trip && stop ? departureRealtime(tz, trip, stop) : null },
      sortKey: stop?.departure ?? scheduled,
      order,
    });
  });
  if (index) {
    const routes = view.routes ?? index.routes;
    for (const stopId of board.stop_ids) {
      const events = index.byStop.get(stopId);
      if (!events) continue;
      // Sorted by expected departure: the events inside the window are one contiguous run.
      for (let i = lowerBound(events, from); i < events.length; i++) {
        const { trip, stop } = events[i]!;
        if (stop.departure! >= to) break;
        if (stop.scheduledDep !== null && stop.scheduledDep >= from && stop.scheduledDep < to) continue; // on the board already
        const key = `${trip.tripId}|${trip.serviceDate}|${trip.startSecs ?? ""}|${stop.seq}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const route = trip.routeId ? routes.get(trip.routeId) : undefined;
        rows.push({
          d: {
            trip_id: trip.tripId,
            route_id: trip.routeId ?? "",
            route_short_name: route?.shortName ?? null,
            route_long_name: route?.longName ?? null,
            headsign: stop.headsign ?? trip.headsign,
            direction_id: trip.directionId,
            stop_id: stop.stopId,
            stop_sequence: stop.seq,
            service_date: trip.serviceDate,
            departure_time: stop.scheduledSecs === null ? null : formatGtfsTime(stop.scheduledSecs),
            departure: instant(tz, stop.scheduledDep),
            start_time: trip.startSecs === null ? null : formatGtfsTime(trip.startSecs),
            frequency_based: trip.frequencyBased,
            exact_times: trip.exactTimes,
            realtime: departureRealtime(tz, trip, stop),
          },
          sortKey: stop.departure!,
          order: Number.MAX_SAFE_INTEGER,
        });
      }
    }
  }
  rows.sort((a, b) => a.sortKey - b.sortKey || a.order - b.order || a.d.trip_id.localeCompare(b.d.trip_id));
  const departures = rows.slice(0, limit).map((r) => r.d);
  return {
    ...board,
    departures,
    alerts: boardAlerts(view, tz, board.stop_ids, departures, from, to),
    realtime_sources: view.sources,
  };
}

function lowerBound(events: { stop: StopRealtime }[], from: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid]!.stop.departure! < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function parseTime(text: string): number | null {
  const m = /^(\d+):(\d\d):(\d\d)$/.exec(text);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null;
}

function boardAlerts(
  view: RealtimeView,
  tz: string,
  stopIds: string[],
  departures: MergedDeparture[],
  from: number,
  to: number,
) {
  if (!view.alerts?.length) return [];
  const routes = view.routes;
  const contexts: AlertContext[] = [{ stop_ids: new Set(stopIds) }];
  for (const d of departures) {
    const route = routes?.get(d.route_id);
    contexts.push({
      agency_id: route?.agencyId,
      route_id: d.route_id,
      route_type: route?.routeType,
      direction_id: d.direction_id,
      trip_id: d.trip_id,
      stop_ids: new Set([d.stop_id]),
    });
  }
  return view.alerts.filter((a) => activeDuring(a, from, to) && alertApplies(a, contexts)).map((a) => alertJson(a, tz));
}

interface TripStopTime {
  stop_id: string;
  stop_sequence: number;
  arrival: string | null;
  departure: string | null;
  [field: string]: unknown;
}

export interface TripAnswer {
  trip_id: string;
  route_id: string;
  direction_id?: number | null;
  route_type?: number;
  service_date: string;
  timezone: string;
  frequencies: { start_time: string }[];
  stop_times: TripStopTime[];
  [field: string]: unknown;
}

function stopTimeRealtime(tz: string, trip: TripInstance, stop: StopRealtime | undefined) {
  if (!stop) return null;
  return {
    arrival: instant(tz, stop.arrival),
    departure: instant(tz, stop.departure),
    delay_seconds: stop.delay,
    status: stop.status,
    updated_at: instant(tz, trip.updatedAt)!,
  };
}

/**
 * A trip on a service date with realtime: per stop time the same `realtime` as on boards (plus the
 * expected arrival), the trip's own status, and the alerts that apply to it while it runs. A
 * frequency-based trip shows its first instance, so the realtime is that instance's.
 */
export function mergeTrip(trip: TripAnswer, view: RealtimeView) {
  const tz = trip.timezone;
  const index = view.tripUpdates;
  const start = trip.frequencies[0] ? parseTime(trip.frequencies[0].start_time) : null;
  const instance = index ? findInstance(index, trip.trip_id, trip.service_date, start) : undefined;
  const times = trip.stop_times.flatMap((s) => [s.arrival, s.departure]).filter((t): t is string => t !== null);
  const from = times.length ? Date.parse(times[0]!) / 1000 : 0;
  const to = times.length ? Date.parse(times.at(-1)!) / 1000 : from;
  return {
    ...trip,
    realtime: instance ? { status: instance.status, updated_at: instant(tz, instance.updatedAt) } : null,
    stop_times: trip.stop_times.map((s) => ({
      ...s,
      realtime: instance ? stopTimeRealtime(tz, instance, instance.bySeq.get(s.stop_sequence)) : null,
    })),
    vehicle: vehicleOf(view, tz, trip.trip_id, trip.service_date),
    alerts: tripAlerts(view, tz, trip.trip_id, trip.route_id, trip.direction_id ?? null, trip.stop_times, from, to),
    realtime_sources: view.sources,
  };
}

/** Where the vehicle serving this trip instance was last seen (VehiclePositions), or null. */
function vehicleOf(view: RealtimeView, tz: string, tripId: string, serviceDate: string) {
  const date = serviceDate.replaceAll("-", "");
  const fix = view.vehicles?.byTrip.get(tripId)?.find((v) => v.start_date === null || v.start_date === date);
  if (!fix) return null;
  const { start_date: _date, timestamp, ...rest } = fix;
  return { ...rest, timestamp: instant(tz, timestamp) };
}

/** A trip that only the realtime feed knows (ADDED / NEW), shaped like a timetabled trip's answer. */
export function addedTrip(view: RealtimeView, tripId: string, timezone: string) {
  const instance = view.tripUpdates?.added.get(tripId);
  if (!instance) return undefined;
  const route = instance.routeId ? (view.routes ?? view.tripUpdates!.routes).get(instance.routeId) : undefined;
  const stopTimes = instance.stops.map((s) => ({
    stop_id: s.stopId,
    stop_sequence: s.seq,
    arrival_time: null,
    departure_time: null,
    arrival: null,
    departure: null,
    realtime: stopTimeRealtime(timezone, instance, s),
  }));
  const times = instance.stops.flatMap((s) => [s.arrival, s.departure]).filter((t): t is number => t !== null);
  return {
    trip_id: instance.tripId,
    route_id: instance.routeId,
    route_short_name: route?.shortName ?? null,
    route_long_name: route?.longName ?? null,
    route_type: route?.routeType ?? null,
    trip_headsign: instance.headsign,
    direction_id: instance.directionId,
    service_date: instance.serviceDate,
    timezone,
    frequencies: [],
    realtime: { status: instance.status, updated_at: instant(timezone, instance.updatedAt) },
    stop_times: stopTimes,
    vehicle: vehicleOf(view, timezone, instance.tripId, instance.serviceDate),
    alerts: tripAlerts(
      view,
      timezone,
      instance.tripId,
      instance.routeId ?? "",
      instance.directionId,
      stopTimes,
      times.length ? Math.min(...times) : instance.updatedAt,
      times.length ? Math.max(...times) : instance.updatedAt,
    ),
    realtime_sources: view.sources,
  };
}

function tripAlerts(
  view: RealtimeView,
  tz: string,
  tripId: string,
  routeId: string,
  directionId: number | null,
  stopTimes: { stop_id: string }[],
  from: number,
  to: number,
) {
  if (!view.alerts?.length) return [];
  const route = view.routes?.get(routeId);
  const contexts: AlertContext[] = [
    {
      agency_id: route?.agencyId,
      route_id: routeId,
      route_type: route?.routeType,
      direction_id: directionId,
      trip_id: tripId,
      stop_ids: new Set(stopTimes.map((s) => s.stop_id)),
    },
  ];
  return view.alerts.filter((a) => activeDuring(a, from, to) && alertApplies(a, contexts)).map((a) => alertJson(a, tz));
}
