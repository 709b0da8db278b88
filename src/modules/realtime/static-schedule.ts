// What realtime matching needs from the static feed, read once per feed version and kept: the stop
// times of the trips a TripUpdates feed names (to turn a delay at one stop into expected times at the
// stops after it, and an absolute time into a delay), route facts for alerts, and which services run
// on which dates. All of it is immutable within a version, so each trip is read from the database only
// the first time a snapshot names it; later snapshots are matched in memory.
import type { ActiveFeed, HotQuery } from "../gtfs/api/active-feed";

export interface ScheduledStop {
  seq: number;
  stopId: string;
  /** Seconds of the service day (for a frequency-based trip: offsets from its first departure). */
  arr: number;
  dep: number;
  headsign: string | null;
  /** pickup_type 1: nobody boards here, so it is not a departure. */
  noPickup: boolean;
}

export interface FrequencyWindow {
  startSecs: number;
  endSecs: number;
  headwaySecs: number;
  exactTimes: boolean;
}

export interface TripSchedule {
  tripId: string;
  routeId: string;
  serviceId: string;
  headsign: string | null;
  directionId: number | null;
  /** Empty unless frequency-based. */
  frequencies: FrequencyWindow[];
  stops: ScheduledStop[];
}

export interface RouteFacts {
  agencyId: string | null;
  routeType: number;
  shortName: string | null;
  longName: string | null;
}

export interface StaticSchedule {
  readonly feed: ActiveFeed;
  /** The trips among `tripIds` that exist, with their stop times. */
  trips(tripIds: Iterable<string>): Promise<Map<string, TripSchedule>>;
  routes(): Promise<Map<string, RouteFacts>>;
  /** "service_id|YYYY-MM-DD" for each pair that runs. */
  running(pairs: Iterable<[serviceId: string, date: string]>): Promise<Set<string>>;
}

/** Trips kept per version before the memo starts over (each is a few hundred bytes). */
const MAX_TRIPS = 200_000;

const textArray = (values: string[]) => `{${values.map((v) => `"${v.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;

export function staticSchedule(query: HotQuery, feed: ActiveFeed): StaticSchedule {
  const S = `"${feed.schema}"`;
  const known = new Map<string, TripSchedule | null>();
  let routes: Promise<Map<string, RouteFacts>> | undefined;

  return {
    feed,
    async trips(tripIds) {
      const missing = [...new Set(tripIds)].filter((id) => !known.has(id));
      if (missing.length) {
        if (known.size + missing.length > MAX_TRIPS) known.clear();
        const rows = await query<{
          trip_id: string;
          route_id: string;
          service_id: string;
          trip_headsign: string | null;
          direction_id: number | null;
          seqs: number[];
          stop_ids: string[];
          arrs: (number | null)[];
          deps: (number | null)[];
          headsigns: (string | null)[];
          pickups: number[];
          freqs: [number, number, number, number][] | string;
        }>(
          `rt_trips_${feed.schema}`,
          `select t.trip_id, t.route_id, t.service_id, t.trip_headsign, t.direction_id,
             array_agg(st.stop_sequence order by st.stop_sequence) as seqs,
             array_agg(s.stop_id order by st.stop_sequence) as stop_ids,
             array_agg(st.arrival_secs order by st.stop_sequence) as arrs,
             array_agg(st.departure_secs order by st.stop_sequence) as deps,
             array_agg(st.stop_headsign order by st.stop_sequence) as headsigns,
             array_agg(coalesce(st.pickup_type, 0) order by st.stop_sequence) as pickups,
             coalesce((select json_agg(json_build_array(f.start_secs, f.end_secs, f.headway_secs, f.exact_times)
               order by f.start_secs) from ${S}.frequencies f where f.trip_idx = t.trip_idx), '[]') as freqs
           from ${S}.trips t
           join ${S}.stop_times st on st.trip_idx = t.trip_idx
           join ${S}.stops s on s.stop_idx = st.stop_idx
           where t.trip_id = any($1::text[])
           group by t.trip_idx, t.trip_id, t.route_id, t.service_id, t.trip_headsign, t.direction_id`,
          [textArray(missing)],
        );
        for (const id of missing) known.set(id, null);
        for (const r of rows) {
          const freqs = typeof r.freqs === "string" ? JSON.parse(r.freqs) : r.freqs;
          known.set(r.trip_id, {
            tripId: r.trip_id,
            routeId: r.route_id,
            serviceId: r.service_id,
            headsign: r.trip_headsign,
            directionId: r.direction_id,
            frequencies: (freqs as [number, number, number, number][]).map(
              ([startSecs, endSecs, headwaySecs, exact]) => ({
                startSecs,
                endSecs,
                headwaySecs,
                exactTimes: exact === 1,
              }),
            ),
            stops: r.seqs.map((seq, i) => {
              // Times are interpolated at import; one of the two may still be missing on its own.
              const arr = r.arrs[i] ?? r.deps[i] ?? 0;
              return {
                seq,
                stopId: r.stop_ids[i]!,
                arr,
                dep: r.deps[i] ?? arr,
                headsign: r.headsigns[i] ?? null,
                noPickup: r.pickups[i] === 1,
              };
            }),
          });
        }
      }
      const out = new Map<string, TripSchedule>();
      for (const id of tripIds) {
        const trip = known.get(id);
        if (trip) out.set(id, trip);
      }
      return out;
    },
    routes() {
      routes ??= query<{
        route_id: string;
        agency_id: string | null;
        route_type: number;
        route_short_name: string | null;
        route_long_name: string | null;
      }>(
        `rt_routes_${feed.schema}`,
        `select route_id, agency_id, route_type, route_short_name, route_long_name from ${S}.routes`,
        [],
      ).then(
        (rows) =>
          new Map(
            rows.map((r) => [
              r.route_id,
              {
                agencyId: r.agency_id,
                routeType: r.route_type,
                shortName: r.route_short_name,
                longName: r.route_long_name,
              },
            ]),
          ),
      );
      routes.catch(() => {
        routes = undefined;
      });
      return routes;
    },
    async running(pairs) {
      const services = new Set<string>();
      const dates = new Set<string>();
      for (const [service, date] of pairs) {
        services.add(service);
        dates.add(date);
      }
      if (!services.size) return new Set();
      const rows = await query<{ service_id: string; date: string }>(
        `rt_running_${feed.schema}`,
        `select service_id, to_char(date, 'YYYY-MM-DD') as date from ${S}.service_dates
         where service_id = any($1::text[]) and date = any($2::date[])`,
        [textArray([...services]), `{${[...dates].join(",")}}`],
      );
      return new Set(rows.map((r) => `${r.service_id}|${r.date}`));
    },
  };
}
