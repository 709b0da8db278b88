// Departure boards. For the window [at, at + window) we work out, in JS, every service date whose
// departures can fall inside it (the day before for times past 24:00, more for feeds with 48h+ trips)
// and the seconds range to scan on each; Postgres then does one bounded index range scan per
// (stop, date) on stop_times (stop_idx, departure_secs), keeps trips whose service runs that date, and
// expands frequency-based trips arithmetically. Absolute instants are base(date) + seconds, where
// base is "noon minus 12h" in the feed's time zone.
import { sql } from "kysely";
import { ApiError } from "../../../http/errors";
import { addDays, formatGtfsTime } from "../time";
import { formatInZone, localDate, serviceDayBase } from "../timezone";
import { type ActiveFeed, type AnyDb, table } from "./active-feed";

export interface ServiceDayRange {
  date: string;
  /** Epoch seconds of the day's reference point (noon minus 12h). */
  base: number;
  lo: number;
  hi: number;
}

/** Service dates whose departures (0 … maxSecs) can fall in [fromMs, toMs), with the seconds range for each. */
export function serviceDayRanges(timeZone: string, fromMs: number, toMs: number, maxSecs: number): ServiceDayRange[] {
  const first = addDays(localDate(timeZone, fromMs), -Math.ceil(maxSecs / 86_400) - 1);
  const last = addDays(localDate(timeZone, toMs), 1);
  const out: ServiceDayRange[] = [];
  for (let d = first; d <= last; d = addDays(d, 1)) {
    const base = serviceDayBase(timeZone, d) / 1000;
    const lo = Math.max(0, Math.ceil(fromMs / 1000 - base));
    const hi = Math.min(maxSecs, Math.ceil(toMs / 1000 - base) - 1);
    if (lo <= hi) out.push({ date: d, base, lo, hi });
  }
  return out;
}

export interface Departure {
  trip_id: string;
  route_id: string;
  route_short_name: string | null;
  route_long_name: string | null;
  headsign: string | null;
  stop_id: string;
  stop_sequence: number;
  service_date: string;
  departure_time: string;
  departure: string;
  frequency_based: boolean;
  exact_times: boolean | null;
}

export interface BoardStop {
  stop_id: string;
  stop_name: string | null;
  location_type: number;
  parent_station: string | null;
}

export interface Board {
  stop: BoardStop;
  /** Stops whose departures are listed (the stop itself, plus platforms for a station). */
  stop_ids: string[];
  at: string;
  window_minutes: number;
  timezone: string;
  departures: Departure[];
}

interface BoardRow {
  trip_id: string;
  route_id: string;
  route_short_name: string | null;
  route_long_name: string | null;
  trip_headsign: string | null;
  stop_headsign: string | null;
  stop_id: string;
  stop_sequence: number;
  service_date: string | Date;
  base: string | number;
  dep: number;
  frequency_based: boolean;
  exact_times: number | null;
}

export async function departureBoard(
  db: AnyDb,
  feed: ActiveFeed,
  stopId: string,
  atMs: number,
  windowMinutes: number,
  limit: number,
): Promise<Board> {
  const stops = table(feed, "stops");
  const { rows: stopRows } = await sql<BoardStop & { idxs: number[]; ids: string[] }>`
    with recursive s as (select * from ${stops} where stop_id = ${stopId}),
    family as (
      select stop_idx, stop_id, 0 as depth from s
      union all
      select c.stop_idx, c.stop_id, f.depth + 1 from ${stops} c join family f on c.parent_station = f.stop_id
      where f.depth < 2 and (select location_type from s) = 1
    )
    select s.stop_id, s.stop_name, s.location_type, s.parent_station,
      (select array_agg(stop_idx order by stop_idx) from family) as idxs,
      (select array_agg(stop_id order by stop_id) from family) as ids
    from s`.execute(db);
  const stop = stopRows[0];
  if (!stop) throw new ApiError(404, "NOT_FOUND", `stop ${stopId} not found`);

  const toMs = atMs + windowMinutes * 60_000;
  const days = serviceDayRanges(feed.timezone, atMs, toMs, feed.maxDepartureSecs);
  const departures = days.length === 0 ? [] : await boardRows(db, feed, stop.idxs, days, limit);
  return {
    stop: {
      stop_id: stop.stop_id,
      stop_name: stop.stop_name,
      location_type: stop.location_type,
      parent_station: stop.parent_station,
    },
    stop_ids: stop.ids,
    at: formatInZone(feed.timezone, atMs),
    window_minutes: windowMinutes,
    timezone: feed.timezone,
    departures: departures.map((r) => toDeparture(feed, r)),
  };
}

async function boardRows(
  db: AnyDb,
  feed: ActiveFeed,
  stopIdxs: number[],
  days: ServiceDayRange[],
  limit: number,
): Promise<BoardRow[]> {
  const st = table(feed, "stop_times");
  const trips = table(feed, "trips");
  const sd = table(feed, "service_dates");
  const freq = table(feed, "frequencies");
  const idxs = `{${stopIdxs.join(",")}}`;
  const dates = `{${days.map((d) => d.date).join(",")}}`;
  const bases = `{${days.map((d) => d.base).join(",")}}`;
  const los = `{${days.map((d) => d.lo).join(",")}}`;
  const his = `{${days.map((d) => d.hi).join(",")}}`;
  const { rows } = await sql<BoardRow>`
    with days as (
      select * from unnest(${dates}::date[], ${bases}::bigint[], ${los}::int[], ${his}::int[]) as d(service_date, base, lo, hi)
    ),
    cand as (
      select st.trip_idx, st.stop_idx, st.stop_sequence, st.stop_headsign, st.departure_secs as dep,
             d.service_date, d.base, null::smallint as exact_times
      from days d
      join ${st} st on st.stop_idx = any(${idxs}::int[]) and st.departure_secs between d.lo and d.hi
      join ${trips} t on t.trip_idx = st.trip_idx
      where not t.frequency_based and st.pickup_type is distinct from 1
        and exists (select 1 from ${sd} x where x.service_id = t.service_id and x.date = d.service_date)
      union all
      select st.trip_idx, st.stop_idx, st.stop_sequence, st.stop_headsign,
             f.start_secs + k * f.headway_secs + (st.departure_secs - first.dep) as dep,
             d.service_date, d.base, f.exact_times
      from days d
      cross join ${freq} f
      join ${trips} t on t.trip_idx = f.trip_idx
      join ${st} st on st.trip_idx = f.trip_idx and st.stop_idx = any(${idxs}::int[]) and st.pickup_type is distinct from 1
      cross join lateral (
        select x.departure_secs as dep from ${st} x where x.trip_idx = f.trip_idx order by x.stop_sequence limit 1
      ) first
      cross join lateral generate_series(
        greatest(0, ceil((d.lo - (st.departure_secs - first.dep) - f.start_secs)::numeric / f.headway_secs)::int),
        least(
          ceil((f.end_secs - f.start_secs)::numeric / f.headway_secs)::int - 1,
          floor((d.hi - (st.departure_secs - first.dep) - f.start_secs)::numeric / f.headway_secs)::int
        )
      ) as k
      where exists (select 1 from ${sd} x where x.service_id = t.service_id and x.date = d.service_date)
    ),
    top as (
      select * from cand order by base + dep, trip_idx, stop_idx limit ${limit}
    )
    select t.trip_id, t.route_id, r.route_short_name, r.route_long_name, t.trip_headsign, c.stop_headsign,
           s.stop_id, c.stop_sequence, to_char(c.service_date, 'YYYY-MM-DD') as service_date, c.base, c.dep,
           t.frequency_based, c.exact_times
    from top c
    join ${trips} t on t.trip_idx = c.trip_idx
    join ${table(feed, "routes")} r on r.route_id = t.route_id
    join ${table(feed, "stops")} s on s.stop_idx = c.stop_idx
    order by c.base + c.dep, t.trip_id, s.stop_id`.execute(db);
  return rows;
}

function toDeparture(feed: ActiveFeed, r: BoardRow): Departure {
  const instantMs = (Number(r.base) + r.dep) * 1000;
  return {
    trip_id: r.trip_id,
    route_id: r.route_id,
    route_short_name: r.route_short_name,
    route_long_name: r.route_long_name,
    headsign: r.stop_headsign ?? r.trip_headsign,
    stop_id: r.stop_id,
    stop_sequence: r.stop_sequence,
    service_date: typeof r.service_date === "string" ? r.service_date : r.service_date.toISOString().slice(0, 10),
    departure_time: formatGtfsTime(r.dep),
    departure: formatInZone(feed.timezone, instantMs),
    frequency_based: r.frequency_based,
    exact_times: r.exact_times === null ? null : r.exact_times === 1,
  };
}
