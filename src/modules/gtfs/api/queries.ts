// Read queries behind /v1 (everything but departure boards). All run against the active version's schema.
import type { Static } from "@sinclair/typebox";
import { sql } from "kysely";
import { ApiError } from "../../../http/errors";
import { searchKey } from "../domain/search-key";
import { formatGtfsTime } from "../domain/time";
import { formatInZone, gtfsInstant } from "../domain/timezone";
import { type ActiveFeed, type AnyDb, table } from "./active-feed";
import { decodeCursor, page } from "./cursor";
import type { Bbox } from "./geojson";
import { inBbox } from "./geometry-queries";
import type { Agency, Feed, NearbyStop, Route, RouteDetail, Stop, StopDetail, Trip } from "./schemas";

type StopRow = Static<typeof Stop>;
type RouteRow = Static<typeof Route>;

const instantText = (d: unknown): string | null =>
  d === null || d === undefined ? null : d instanceof Date ? d.toISOString() : new Date(String(d)).toISOString();

export async function listFeeds(db: AnyDb): Promise<{ data: Static<typeof Feed>[]; next_cursor: null }> {
  const { rows } = await sql<Record<string, unknown>>`
    select id, status, publisher_name, publisher_url, feed_version, feed_lang,
      to_char(start_date, 'YYYY-MM-DD') as start_date, to_char(end_date, 'YYYY-MM-DD') as end_date,
      timezone, row_counts, imported_at, activated_at
    from gtfs_feed where status in ('active', 'retired')
    order by (status = 'active') desc, coalesce(activated_at, imported_at) desc, id desc`.execute(db);
  return {
    data: rows.map((r) => ({
      id: r.id as number,
      status: r.status as "active" | "retired",
      active: r.status === "active",
      publisher_name: r.publisher_name as string | null,
      publisher_url: r.publisher_url as string | null,
      feed_version: r.feed_version as string | null,
      feed_lang: r.feed_lang as string | null,
      start_date: r.start_date as string | null,
      end_date: r.end_date as string | null,
      timezone: r.timezone as string | null,
      row_counts: (typeof r.row_counts === "string" ? JSON.parse(r.row_counts) : r.row_counts) as Record<
        string,
        number
      > | null,
      imported_at: instantText(r.imported_at),
      activated_at: instantText(r.activated_at),
    })),
    next_cursor: null,
  };
}

export async function listAgencies(db: AnyDb, feed: ActiveFeed, limit: number, cursor?: string) {
  const after = decodeCursor(cursor, 1);
  const { rows } = await sql<Static<typeof Agency>>`
    select agency_id, agency_name, agency_url, agency_timezone, agency_lang, agency_phone, agency_fare_url, agency_email
    from ${table(feed, "agency")}
    where ${after ? sql`coalesce(agency_id, '') > ${String(after[0])}` : sql`true`}
    order by coalesce(agency_id, '') limit ${limit + 1}`.execute(db);
  return page(rows, limit, (r) => [r.agency_id ?? ""]);
}

const ROUTE_COLUMNS = sql`r.route_id, r.agency_id, r.route_short_name, r.route_long_name, r.route_desc, r.route_type,
  r.route_url, r.route_color, r.route_text_color, r.route_sort_order`;

export async function listRoutes(
  db: AnyDb,
  feed: ActiveFeed,
  limit: number,
  cursor: string | undefined,
  filter: { agency_id?: string; route_type?: number },
) {
  const after = decodeCursor(cursor, 1);
  const { rows } = await sql<RouteRow>`
    select ${ROUTE_COLUMNS} from ${table(feed, "routes")} r
    where ${after ? sql`r.route_id > ${String(after[0])}` : sql`true`}
      and ${filter.agency_id !== undefined ? sql`r.agency_id = ${filter.agency_id}` : sql`true`}
      and ${filter.route_type !== undefined ? sql`r.route_type = ${filter.route_type}` : sql`true`}
    order by r.route_id limit ${limit + 1}`.execute(db);
  return page(rows, limit, (r) => [r.route_id]);
}

export async function getRoute(
  db: AnyDb,
  feed: ActiveFeed,
  routeId: string,
): Promise<{ data: Static<typeof RouteDetail> }> {
  const { rows } = await sql<
    RouteRow & { agency_name: string | null; agency_url: string | null; trip_count: number; headsigns: string[] }
  >`
    select ${ROUTE_COLUMNS}, a.agency_name, a.agency_url,
      (select count(*)::int from ${table(feed, "trips")} t where t.route_id = r.route_id) as trip_count,
      (select coalesce(array_agg(distinct t.trip_headsign), '{}') from ${table(feed, "trips")} t
        where t.route_id = r.route_id and t.trip_headsign is not null) as headsigns
    from ${table(feed, "routes")} r
    left join ${table(feed, "agency")} a on a.agency_id is not distinct from r.agency_id
    where r.route_id = ${routeId}`.execute(db);
  const r = rows[0];
  if (!r) throw new ApiError(404, "NOT_FOUND", `route ${routeId} not found`);
  const { agency_name, agency_url, ...route } = r;
  return { data: { ...route, agency: { agency_id: r.agency_id, agency_name, agency_url } } };
}

const STOP_COLUMNS = sql`s.stop_id, s.stop_code, s.stop_name, s.stop_desc, s.stop_lat, s.stop_lon, s.zone_id,
  s.stop_url, s.location_type, s.parent_station, s.stop_timezone, s.wheelchair_boarding, s.platform_code`;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Name search, case- and accent-insensitive on a normalised key computed at import: names starting
 * with the query first, then names containing it at a word start, then anywhere. Without a query,
 * all stops by id. Keyset pagination over (rank, key, stop_id).
 */
export async function searchStops(
  db: AnyDb,
  feed: ActiveFeed,
  q: string | undefined,
  limit: number,
  cursor?: string,
  bbox?: Bbox,
) {
  const key = q === undefined ? "" : searchKey(q);
  const within = bbox ? inBbox(bbox) : sql`true`;
  if (!key) {
    const after = decodeCursor(cursor, 1);
    const { rows } = await sql<StopRow>`
      select ${STOP_COLUMNS} from ${table(feed, "stops")} s
      where ${after ? sql`s.stop_id > ${String(after[0])}` : sql`true`} and ${within}
      order by s.stop_id limit ${limit + 1}`.execute(db);
    return page(rows, limit, (r) => [r.stop_id]);
  }
  const after = decodeCursor(cursor, 3);
  const like = escapeLike(key);
  const { rows } = await sql<StopRow & { rank: number; search_name: string }>`
    select * from (
      select ${STOP_COLUMNS}, s.search_name,
        case when s.search_name like ${`${like}%`} then 0 when s.search_name like ${`% ${like}%`} then 1 else 2 end as rank
      from ${table(feed, "stops")} s
      where s.search_name like ${`%${like}%`} and s.location_type in (0, 1) and ${within}
    ) m
    where ${after ? sql`(m.rank, m.search_name, m.stop_id) > (${Number(after[0])}, ${String(after[1])}, ${String(after[2])})` : sql`true`}
    order by m.rank, m.search_name, m.stop_id limit ${limit + 1}`.execute(db);
  const result = page(rows, limit, (r) => [r.rank, r.search_name, r.stop_id]);
  return { ...result, data: result.data.map(({ rank: _r, search_name: _s, ...stop }) => stop) };
}

/**
 * Nearest stops and stations within `radius` metres, by haversine distance (what is reported).
 * The GiST index on geo = (lon·cos(lat), lat) narrows the search to a box that holds every point
 * within the radius; the box is exact, not a KNN guess: that projection's distances drift with the
 * longitude (away from 0° they are off by a factor of 0.5–2), so its nearest points are not the
 * nearest stops.
 */
export async function nearbyStops(
  db: AnyDb,
  feed: ActiveFeed,
  lat: number,
  lon: number,
  radius: number,
  limit: number,
) {
  const box = searchBox(lat, lon, radius);
  const { rows } = await sql<Static<typeof NearbyStop>>`
    select * from (
      select ${STOP_COLUMNS},
        round((2 * ${sql.lit(EARTH_RADIUS_M)} * asin(sqrt(
          power(sin(radians(s.stop_lat - ${lat}) / 2), 2) +
          cos(radians(${lat})) * cos(radians(s.stop_lat)) * power(sin(radians(s.stop_lon - ${lon}) / 2), 2)
        )))::numeric, 1)::float8 as distance_m
      from ${table(feed, "stops")} s
      where s.location_type in (0, 1)
        and s.geo <@ box(point(${box.xMin}::float8, ${box.latMin}::float8), point(${box.xMax}::float8, ${box.latMax}::float8))
    ) c
    where c.distance_m <= ${radius}
    order by c.distance_m, c.stop_id limit ${limit}`.execute(db);
  return { data: rows, next_cursor: null };
}

const EARTH_RADIUS_M = 6371008.8;
const DEG = Math.PI / 180;

/**
 * A box in the stored (lon·cos(lat), lat) plane holding every point within `radius` metres of
 * (lat, lon). Latitudes: ± the radius as an angle. Longitudes: ± the widest longitude difference
 * on that circle; all of them when it reaches a pole or crosses the antimeridian. x = lon·cos(lat)
 * is then bounded at the corners, with cos(lat) at its largest where the band is nearest the equator.
 */
export function searchBox(lat: number, lon: number, radius: number) {
  // A little wider than exact, so rounding never drops a point on the circle.
  const angle = (radius / EARTH_RADIUS_M) * 1.001 + 1e-9;
  const latMin = Math.max(-90, lat - angle / DEG);
  const latMax = Math.min(90, lat + angle / DEG);
  const reach = Math.sin(angle) / Math.cos(lat * DEG);
  let lonMin = -180;
  let lonMax = 180;
  if (latMin > -90 && latMax < 90 && reach < 1) {
    const dLon = Math.asin(reach) / DEG;
    if (lon - dLon >= -180 && lon + dLon <= 180) [lonMin, lonMax] = [lon - dLon, lon + dLon];
  }
  const cosMin = Math.min(Math.cos(latMin * DEG), Math.cos(latMax * DEG));
  const cosMax = latMin <= 0 && latMax >= 0 ? 1 : Math.max(Math.cos(latMin * DEG), Math.cos(latMax * DEG));
  return {
    latMin,
    latMax,
    xMin: Math.min(lonMin * cosMin, lonMin * cosMax),
    xMax: Math.max(lonMax * cosMin, lonMax * cosMax),
  };
}

export async function getStop(
  db: AnyDb,
  feed: ActiveFeed,
  stopId: string,
): Promise<{ data: Static<typeof StopDetail> }> {
  const stops = table(feed, "stops");
  const { rows } = await sql<StopRow>`select ${STOP_COLUMNS} from ${stops} s where s.stop_id = ${stopId}`.execute(db);
  const stop = rows[0];
  if (!stop) throw new ApiError(404, "NOT_FOUND", `stop ${stopId} not found`);
  const parent = stop.parent_station
    ? ((await sql<StopRow>`select ${STOP_COLUMNS} from ${stops} s where s.stop_id = ${stop.parent_station}`.execute(db))
        .rows[0] ?? null)
    : null;
  const { rows: children } = await sql<StopRow>`
    select ${STOP_COLUMNS} from ${stops} s where s.parent_station = ${stopId} order by s.stop_id`.execute(db);
  return { data: { ...stop, parent, children } };
}

interface TripStopRow {
  stop_id: string;
  stop_name: string | null;
  stop_sequence: number;
  arrival_secs: number | null;
  departure_secs: number | null;
  stop_headsign: string | null;
  pickup_type: number | null;
  drop_off_type: number | null;
}

/** A trip's stop times on one service date, with absolute instants (first instance for frequency trips). */
type TripFields = Omit<Static<typeof Trip>, "service_date" | "timezone" | "frequencies" | "stop_times">;

export async function getTrip(
  db: AnyDb,
  feed: ActiveFeed,
  tripId: string,
  date: string,
): Promise<{ data: Static<typeof Trip> }> {
  const { rows } = await sql<TripFields & { trip_idx: number; runs: boolean }>`
    select t.trip_idx, t.trip_id, t.route_id, t.service_id, t.trip_headsign, t.trip_short_name, t.direction_id,
      t.block_id, t.shape_id, t.wheelchair_accessible, t.bikes_allowed, t.frequency_based,
      r.route_short_name, r.route_long_name, r.route_type,
      exists (select 1 from ${table(feed, "service_dates")} x where x.service_id = t.service_id and x.date = ${date}::date) as runs
    from ${table(feed, "trips")} t join ${table(feed, "routes")} r on r.route_id = t.route_id
    where t.trip_id = ${tripId}`.execute(db);
  const trip = rows[0];
  if (!trip) throw new ApiError(404, "NOT_FOUND", `trip ${tripId} not found`);
  if (!trip.runs)
    throw new ApiError(404, "NOT_RUNNING", `trip ${tripId} does not run on ${date}`, { trip_id: tripId, date });
  const { rows: stopTimes } = await sql<TripStopRow>`
    select s.stop_id, s.stop_name, st.stop_sequence, st.arrival_secs, st.departure_secs, st.stop_headsign,
      st.pickup_type, st.drop_off_type
    from ${table(feed, "stop_times")} st join ${table(feed, "stops")} s on s.stop_idx = st.stop_idx
    where st.trip_idx = ${Number(trip.trip_idx)} order by st.stop_sequence`.execute(db);
  const { rows: windows } = await sql<{
    start_secs: number;
    end_secs: number;
    headway_secs: number;
    exact_times: number;
  }>`
    select start_secs, end_secs, headway_secs, exact_times from ${table(feed, "frequencies")}
    where trip_idx = ${Number(trip.trip_idx)} order by start_secs`.execute(db);

  // Frequency trips: template times are offsets from the first departure; show the first instance.
  const firstDep = stopTimes[0]?.departure_secs ?? 0;
  const shift = windows.length ? windows[0]!.start_secs - firstDep : 0;
  const at = (secs: number | null) => (secs === null ? null : secs + shift);
  const instant = (secs: number | null) =>
    secs === null ? null : formatInZone(feed.timezone, gtfsInstant(feed.timezone, date, secs));
  const { trip_idx: _idx, runs: _runs, ...fields } = trip;
  return {
    data: {
      ...fields,
      service_date: date,
      timezone: feed.timezone,
      frequencies: windows.map((w) => ({
        start_time: formatGtfsTime(w.start_secs),
        end_time: formatGtfsTime(w.end_secs),
        headway_secs: w.headway_secs,
        exact_times: w.exact_times === 1,
        first_departure: instant(w.start_secs),
      })),
      stop_times: stopTimes.map((st) => ({
        stop_id: st.stop_id,
        stop_name: st.stop_name,
        stop_sequence: st.stop_sequence,
        arrival_time: at(st.arrival_secs) === null ? null : formatGtfsTime(at(st.arrival_secs)!),
        departure_time: at(st.departure_secs) === null ? null : formatGtfsTime(at(st.departure_secs)!),
        arrival: instant(at(st.arrival_secs)),
        departure: instant(at(st.departure_secs)),
        stop_headsign: st.stop_headsign,
        pickup_type: st.pickup_type,
        drop_off_type: st.drop_off_type,
      })),
    },
  };
}
