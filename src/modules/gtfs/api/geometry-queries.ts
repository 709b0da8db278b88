// The lines routes and trips follow, from shapes.txt (imported into `shapes`, points by shape_id and
// sequence), or through their stops in stop_sequence order when the feed has no shape for them; and
// the bbox condition on stops, narrowed by the GiST index on their projected point like nearbyStops.
import { type RawBuilder, sql } from "kysely";
import { ApiError } from "../../../http/errors";
import { type ActiveFeed, type AnyDb, table } from "./active-feed";
import type { Bbox } from "./geojson";

type Position = [number, number];

/** json_agg text → positions (the driver may or may not parse json; text is the same on both). */
const positions = (text: string): Position[] => JSON.parse(text) as Position[];

/** The `shapes`/`stops` points of a line, [lon, lat], in order. */
const LINE_OF_SHAPE = sql`json_agg(json_build_array(sh.shape_pt_lon, sh.shape_pt_lat) order by sh.shape_pt_sequence)::text`;
const LINE_OF_STOPS = sql`json_agg(json_build_array(s.stop_lon, s.stop_lat) order by st.stop_sequence)::text`;

export async function routeShapes(db: AnyDb, feed: ActiveFeed, routeId: string) {
  const route = await sql`select 1 from ${table(feed, "routes")} where route_id = ${routeId}`.execute(db);
  if (route.rows.length === 0) throw new ApiError(404, "NOT_FOUND", `route ${routeId} not found`);
  const shaped = await sql<{ shape_id: string; trip_count: number; line: string }>`
    select t.shape_id, t.trip_count, (select ${LINE_OF_SHAPE} from ${table(feed, "shapes")} sh
      where sh.shape_id = t.shape_id) as line
    from (select shape_id, count(*)::int as trip_count from ${table(feed, "trips")}
      where route_id = ${routeId} and shape_id is not null group by shape_id) t
    order by t.shape_id`.execute(db);
  // Trips without a shape (none named, or one shapes.txt does not have): one line per stop pattern.
  const unshaped = await sql<{ line: string; trip_count: number }>`
    select p.line, count(*)::int as trip_count from (
      select ${LINE_OF_STOPS} as line
      from ${table(feed, "trips")} t
      join ${table(feed, "stop_times")} st on st.trip_idx = t.trip_idx
      join ${table(feed, "stops")} s on s.stop_idx = st.stop_idx
      where t.route_id = ${routeId} and s.stop_lat is not null
        and not exists (select 1 from ${table(feed, "shapes")} x where x.shape_id = t.shape_id)
      group by t.trip_idx
    ) p group by p.line order by count(*) desc, p.line`.execute(db);
  const feature = (line: Position[], shapeId: string | null, tripCount: number) => ({
    type: "Feature" as const,
    geometry: { type: "LineString" as const, coordinates: line },
    properties: {
      route_id: routeId,
      shape_id: shapeId,
      source: shapeId === null ? ("stop_times" as const) : ("shapes" as const),
      trip_count: tripCount,
    },
  });
  const features = [
    ...shaped.rows
      .filter((r) => r.line !== null)
      .map((r) => feature(positions(r.line), r.shape_id, r.trip_count))
      .filter((f) => f.geometry.coordinates.length >= 2),
    ...unshaped.rows
      .map((r) => feature(positions(r.line), null, r.trip_count))
      .filter((f) => f.geometry.coordinates.length >= 2),
  ];
  return { type: "FeatureCollection" as const, features };
}

export async function tripShape(db: AnyDb, feed: ActiveFeed, tripId: string) {
  const { rows } = await sql<{ trip_idx: number; route_id: string; shape_id: string | null; line: string | null }>`
    select t.trip_idx, t.route_id, t.shape_id, (select ${LINE_OF_SHAPE} from ${table(feed, "shapes")} sh
      where sh.shape_id = t.shape_id) as line
    from ${table(feed, "trips")} t where t.trip_id = ${tripId}`.execute(db);
  const trip = rows[0];
  if (!trip) throw new ApiError(404, "NOT_FOUND", `trip ${tripId} not found`);
  let line = trip.line === null ? [] : positions(trip.line);
  const fromShape = line.length >= 2;
  if (!fromShape) {
    const stops = await sql<{ line: string | null }>`
      select ${LINE_OF_STOPS} as line
      from ${table(feed, "stop_times")} st join ${table(feed, "stops")} s on s.stop_idx = st.stop_idx
      where st.trip_idx = ${Number(trip.trip_idx)} and s.stop_lat is not null`.execute(db);
    line = stops.rows[0]?.line ? positions(stops.rows[0].line) : [];
  }
  return {
    type: "Feature" as const,
    id: tripId,
    geometry: line.length >= 2 ? { type: "LineString" as const, coordinates: line } : null,
    properties: {
      trip_id: tripId,
      route_id: trip.route_id,
      shape_id: fromShape ? trip.shape_id : null,
      source: fromShape ? ("shapes" as const) : ("stop_times" as const),
    },
  };
}

/**
 * Stops (alias `s`) inside `bbox`: the GiST index on geo = (lon·cos(lat), lat) finds those in a box of
 * that plane holding the bbox (two boxes across the antimeridian), the exact test on the coordinates
 * decides. The plane's box: x = lon·cos(lat) is extreme at the band's corners, cos(lat) largest where
 * the band is nearest the equator.
 */
export function inBbox(b: Bbox): RawBuilder<unknown> {
  const spans: [number, number][] =
    b.minLon <= b.maxLon
      ? [[b.minLon, b.maxLon]]
      : [
          [b.minLon, 180],
          [-180, b.maxLon],
        ];
  const DEG = Math.PI / 180;
  const cosA = Math.cos(b.minLat * DEG);
  const cosB = Math.cos(b.maxLat * DEG);
  const cosMin = Math.min(cosA, cosB);
  const cosMax = b.minLat <= 0 && b.maxLat >= 0 ? 1 : Math.max(cosA, cosB);
  const slack = 1e-9; // rounding never drops a stop on the edge: the exact test is what decides
  const boxes = spans.map(([lo, hi]) => {
    const xMin = Math.min(lo * cosMin, lo * cosMax) - slack;
    const xMax = Math.max(hi * cosMin, hi * cosMax) + slack;
    return sql`s.geo <@ box(point(${xMin}::float8, ${b.minLat - slack}::float8), point(${xMax}::float8, ${b.maxLat + slack}::float8))`;
  });
  const lons = spans.map(([lo, hi]) => sql`s.stop_lon between ${lo}::float8 and ${hi}::float8`);
  return sql`(${sql.join(boxes, sql` or `)}) and s.stop_lat between ${b.minLat}::float8 and ${b.maxLat}::float8
    and (${sql.join(lons, sql` or `)})`;
}
