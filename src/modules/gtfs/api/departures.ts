// Departure boards. For the window [at, at + window) we work out, in JS, every service date whose
// departures can fall inside it (the day before for times past 24:00, more for feeds with 48h+ trips)
// and the seconds range to scan on each; Postgres then reads, per (stop, date), the few hour buckets
// of stop_departures that overlap the range (one index range scan), unnests their sorted arrays, keeps
// trips whose service runs that date, and frequency-based trips are expanded arithmetically. Absolute instants are base(date) + seconds, where
// base is "noon minus 12h" in the feed's time zone.
import { LRUCache } from "lru-cache";
import { ApiError } from "../../../http/errors";
import { BOARD_BUCKET_SECS, FREQUENCY_HOUR } from "../domain/feed-version";
import { frequencyDeparturesBetween } from "../domain/frequencies";
import { addDays, formatGtfsTime } from "../domain/time";
import { formatInZone, localDate, serviceDayBase } from "../domain/timezone";
import type { ActiveFeed, HotQuery } from "./active-feed";

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
  direction_id: number | null;
  stop_id: string;
  stop_sequence: number;
  service_date: string;
  departure_time: string;
  departure: string;
  /** A frequency-based trip's instance: its first departure (GTFS-Realtime's start_time); else null. */
  start_time: string | null;
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

/** Which trip calls at which stop: shared by scheduled candidates and frequency templates. */
interface StopCall {
  trip_idx: number;
  stop_idx: number;
  stop_sequence: number;
  stop_headsign: string | null;
  trip_id: string;
  route_id: string;
  trip_headsign: string | null;
  direction_id: number | null;
}

/** A candidate departure before enrichment: trip and route names are added for the rows kept. */
interface Candidate extends StopCall {
  day: number;
  dep: number;
  exact_times: number | null;
  /** Frequency-based: the instance's first departure. */
  start?: number;
}

interface FrequencyTemplate extends StopCall {
  service_id: string;
  offset_secs: number;
  start_secs: number;
  end_secs: number;
  headway_secs: number;
  exact_times: number;
}

interface RouteNames {
  route_short_name: string | null;
  route_long_name: string | null;
}

// Route names per feed version, loaded once: routes are few and immutable within a version. Kept per
// database connection (one HotQuery per app), since version ids are only unique within one database.
const routeNames = new WeakMap<HotQuery, Map<number, Promise<Map<string, RouteNames>>>>();

function routesOf(query: HotQuery, feed: ActiveFeed): Promise<Map<string, RouteNames>> {
  let perFeed = routeNames.get(query);
  if (!perFeed) {
    perFeed = new Map();
    routeNames.set(query, perFeed);
  }
  let hit = perFeed.get(feed.id);
  if (!hit) {
    const loading = query<RouteNames & { route_id: string }>(
      `board_routes_${feed.schema}`,
      `select route_id, route_short_name, route_long_name from "${feed.schema}".routes`,
      [],
    ).then((rows) => new Map(rows.map((r) => [r.route_id, r])));
    loading.catch(() => perFeed.delete(feed.id));
    if (perFeed.size > 4) perFeed.clear();
    perFeed.set(feed.id, loading);
    hit = loading;
  }
  return hit;
}

type StopFamily = BoardStop & { idxs: number[]; ids: string[]; has_frequencies: boolean };

// A stop's family (itself, or a station with its platforms) never changes within a version: kept per
// database connection and version, so an uncached board costs one statement less.
const families = new WeakMap<HotQuery, LRUCache<string, StopFamily>>();

/** The stop, and for a station its platforms (and their boarding areas), as integer keys. */
async function stopFamily(query: HotQuery, feed: ActiveFeed, stopId: string): Promise<StopFamily | undefined> {
  let known = families.get(query);
  if (!known) {
    known = new LRUCache<string, StopFamily>({ max: 50_000 });
    families.set(query, known);
  }
  const key = `${feed.id}|${stopId}`;
  const hit = known.get(key);
  if (hit) return hit;
  const S = `"${feed.schema}"`;
  const rows = await query<BoardStop & { idxs: number[]; ids: string[]; has_frequencies: boolean }>(
    `board_stop_${feed.schema}`,
    `with recursive s as (select * from ${S}.stops where stop_id = $1),
      family as (
        select stop_idx, stop_id, has_frequencies, 0 as depth from s
        union all
        select c.stop_idx, c.stop_id, c.has_frequencies, f.depth + 1 from ${S}.stops c
        join family f on c.parent_station = f.stop_id
        where f.depth < 2 and (select location_type from s) = 1
      )
      select s.stop_id, s.stop_name, s.location_type, s.parent_station,
        (select array_agg(stop_idx order by stop_idx) from family) as idxs,
        (select array_agg(stop_id order by stop_idx) from family) as ids,
        (select bool_or(has_frequencies) from family) as has_frequencies
      from s`,
    [stopId],
  );
  const family = rows[0];
  if (family) known.set(key, family);
  return family;
}

/**
 * Builds the board with small, individually planned statements (planning one big UNION query cost
 * more than running it): the stop family, the scheduled candidates for all candidate service days in
 * one bounded index scan, and — only if a frequency-based trip serves these stops — the frequency
 * templates, expanded here with the same arithmetic the unit tests pin down.
 */
export async function departureBoard(
  query: HotQuery,
  feed: ActiveFeed,
  stopId: string,
  atMs: number,
  windowMinutes: number,
  limit: number,
): Promise<Board> {
  const S = `"${feed.schema}"`;
  const stop = await stopFamily(query, feed, stopId);
  if (!stop) throw new ApiError(404, "NOT_FOUND", `stop ${stopId} not found`);
  const stopIds = new Map(stop.idxs.map((idx, i) => [idx, stop.ids[i]!]));

  const toMs = atMs + windowMinutes * 60_000;
  const days = serviceDayRanges(feed.timezone, atMs, toMs, feed.maxDepartureSecs);
  let candidates: Candidate[] = [];
  if (days.length) {
    const idxs = pgArray(stop.idxs);
    candidates = await query<Candidate>(
      `board_${feed.schema}`,
      `select x.trip_idx, b.stop_idx, x.stop_sequence, x.stop_headsign, t.trip_id, t.route_id, t.trip_headsign,
              t.direction_id, d.day::int as day, x.dep, null::int as exact_times
       from unnest($2::date[], $3::bigint[], $4::int[], $5::int[]) with ordinality as d(service_date, base, lo, hi, day)
       join ${S}.stop_departures b on b.stop_idx = any($1::int[]) and b.hour between d.lo / ${BOARD_BUCKET_SECS} and d.hi / ${BOARD_BUCKET_SECS}
       cross join lateral unnest(b.departure_secs, b.trip_idx, b.stop_sequence, b.stop_headsign)
         as x(dep, trip_idx, stop_sequence, stop_headsign)
       join ${S}.trips t on t.trip_idx = x.trip_idx
       where x.dep between d.lo and d.hi
         and exists (select 1 from ${S}.service_dates y where y.service_id = t.service_id and y.date = d.service_date)
       order by d.base + x.dep, x.trip_idx, b.stop_idx
       limit $6`,
      [
        idxs,
        pgArray(days.map((d) => d.date)),
        pgArray(days.map((d) => d.base)),
        pgArray(days.map((d) => d.lo)),
        pgArray(days.map((d) => d.hi)),
        limit,
      ],
    );
    if (stop.has_frequencies) candidates.push(...(await frequencyCandidates(query, feed, idxs, days)));
  }
  const routes = await routesOf(query, feed);
  const instant = (c: Candidate) => days[c.day - 1]!.base + c.dep;
  candidates.sort((a, b) => instant(a) - instant(b) || a.trip_idx - b.trip_idx || a.stop_idx - b.stop_idx);
  return {
    stop: {
      stop_id: stop.stop_id,
      stop_name: stop.stop_name,
      location_type: stop.location_type,
      parent_station: stop.parent_station,
    },
    stop_ids: [...stop.ids].sort(),
    at: formatInZone(feed.timezone, atMs),
    window_minutes: windowMinutes,
    timezone: feed.timezone,
    departures: candidates.slice(0, limit).map((c) => {
      const route = routes.get(c.route_id);
      return {
        trip_id: c.trip_id,
        route_id: c.route_id,
        route_short_name: route?.route_short_name ?? null,
        route_long_name: route?.route_long_name ?? null,
        headsign: c.stop_headsign ?? c.trip_headsign,
        direction_id: c.direction_id,
        stop_id: stopIds.get(c.stop_idx)!,
        stop_sequence: c.stop_sequence,
        service_date: days[c.day - 1]!.date,
        departure_time: formatGtfsTime(c.dep),
        departure: formatInZone(feed.timezone, instant(c) * 1000),
        start_time: c.start === undefined ? null : formatGtfsTime(c.start),
        frequency_based: c.exact_times !== null,
        exact_times: c.exact_times === null ? null : c.exact_times === 1,
      };
    }),
  };
}

/** Frequency-based trips at these stops: templates from the database, instances computed here. */
async function frequencyCandidates(
  query: HotQuery,
  feed: ActiveFeed,
  idxs: string,
  days: ServiceDayRange[],
): Promise<Candidate[]> {
  const S = `"${feed.schema}"`;
  const templates = await query<FrequencyTemplate>(
    `board_freq_${feed.schema}`,
    // The stop's row of frequency-based trips in the board table: offsets from each trip's first departure.
    `select x.trip_idx, b.stop_idx, x.stop_sequence, x.stop_headsign, t.trip_id, t.route_id, t.trip_headsign,
            t.direction_id, t.service_id, x.offset_secs, f.start_secs, f.end_secs, f.headway_secs, f.exact_times
     from ${S}.stop_departures b
     cross join lateral unnest(b.departure_secs, b.trip_idx, b.stop_sequence, b.stop_headsign)
       as x(offset_secs, trip_idx, stop_sequence, stop_headsign)
     join ${S}.frequencies f on f.trip_idx = x.trip_idx
     join ${S}.trips t on t.trip_idx = x.trip_idx
     where b.stop_idx = any($1::int[]) and b.hour = ${FREQUENCY_HOUR}`,
    [idxs],
  );
  if (!templates.length) return [];
  const running = await query<{ service_id: string; date: string }>(
    `board_freq_days_${feed.schema}`,
    `select service_id, to_char(date, 'YYYY-MM-DD') as date from ${S}.service_dates
     where service_id = any($1::text[]) and date = any($2::date[])`,
    [pgTextArray([...new Set(templates.map((t) => t.service_id))]), pgArray(days.map((d) => d.date))],
  );
  const runs = new Set(running.map((r) => `${r.service_id}|${r.date}`));
  const out: Candidate[] = [];
  days.forEach((day, i) => {
    for (const t of templates) {
      if (!runs.has(`${t.service_id}|${day.date}`)) continue;
      const window = {
        startSecs: t.start_secs,
        endSecs: t.end_secs,
        headwaySecs: t.headway_secs,
        exactTimes: t.exact_times === 1,
      };
      for (const dep of frequencyDeparturesBetween(window, t.offset_secs, day.lo, day.hi))
        out.push({ ...t, day: i + 1, dep, exact_times: t.exact_times, start: dep - t.offset_secs });
    }
  });
  return out;
}

const pgArray = (values: (string | number)[]) => `{${values.join(",")}}`;
/** Text array literal with every element quoted (ids may contain commas, quotes, braces). */
const pgTextArray = (values: string[]) => `{${values.map((v) => `"${v.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;
