// GeoJSON (RFC 7946) for maps: the schemas of the geometry answers, the stops of a page as a
// FeatureCollection, and the `bbox` query parameter. Positions are [longitude, latitude] (RFC 7946
// 3.1.1), there is no `crs` member (4: always WGS 84), and a feature without a location has a null
// geometry (3.2). `next_cursor` rides along as a foreign member (6.1).
import { type Static, Type as t } from "@sinclair/typebox";
import Negotiator from "negotiator";
import { invalidParameter } from "../../../http/errors";
import { Stop } from "./schemas";

export const GEOJSON = "application/geo+json";

const Position = t.Tuple([t.Number({ minimum: -180, maximum: 180 }), t.Number({ minimum: -90, maximum: 90 })], {
  description: "[longitude, latitude], WGS 84 (RFC 7946 3.1.1)",
});
const Point = t.Object({ type: t.Literal("Point"), coordinates: Position });
const LineString = t.Object({ type: t.Literal("LineString"), coordinates: t.Array(Position, { minItems: 2 }) });

const GeometrySource = t.Union([t.Literal("shapes"), t.Literal("stop_times")], {
  description: "shapes: the feed's shapes.txt; stop_times: the stops in sequence (the feed has no shape for it)",
});

const { stop_lat: _lat, stop_lon: _lon, ...stopFields } = Stop.properties;
const StopFeature = t.Object({
  type: t.Literal("Feature"),
  id: t.String({ description: "stop_id" }),
  geometry: t.Union([Point, t.Null()], { description: "null for a stop without coordinates" }),
  properties: t.Object(stopFields),
});
export const StopFeatureCollection = t.Object(
  {
    type: t.Literal("FeatureCollection"),
    features: t.Array(StopFeature),
    next_cursor: t.Union([t.String(), t.Null()], { description: "A foreign member: the next page's cursor" }),
  },
  { description: "A page of stops as GeoJSON (format=geojson or Accept: application/geo+json)" },
);

export const ShapeFeature = t.Object({
  type: t.Literal("Feature"),
  geometry: LineString,
  properties: t.Object({
    route_id: t.String(),
    shape_id: t.Union([t.String(), t.Null()], { description: "null for a line drawn through the stops" }),
    source: GeometrySource,
    trip_count: t.Integer({ description: "The route's trips that follow this line" }),
  }),
});
export const RouteShapes = t.Object(
  { type: t.Literal("FeatureCollection"), features: t.Array(ShapeFeature) },
  { description: "Each distinct line a route's trips follow" },
);

export const TripShape = t.Object(
  {
    type: t.Literal("Feature"),
    id: t.String({ description: "trip_id" }),
    geometry: t.Union([LineString, t.Null()], { description: "null when fewer than two points are known" }),
    properties: t.Object({
      trip_id: t.String(),
      route_id: t.String(),
      shape_id: t.Union([t.String(), t.Null()]),
      source: GeometrySource,
    }),
  },
  { description: "The line a trip follows" },
);

type StopRow = Static<typeof Stop>;

/** A page of stops as a FeatureCollection. */
export function stopCollection(page: { data: StopRow[]; next_cursor: string | null }) {
  return {
    type: "FeatureCollection" as const,
    features: page.data.map(({ stop_lat, stop_lon, ...properties }) => ({
      type: "Feature" as const,
      id: properties.stop_id,
      geometry:
        stop_lat === null || stop_lon === null
          ? null
          : { type: "Point" as const, coordinates: [stop_lon, stop_lat] as [number, number] },
      properties,
    })),
    next_cursor: page.next_cursor,
  };
}

/** Whether a request for stops asks for GeoJSON: `format`, else an Accept that prefers it to JSON. */
export function wantsGeoJson(format: string | undefined, accept: string | null): boolean {
  if (format !== undefined) return format === "geojson";
  if (accept === null || !accept.includes("geo+json")) return false;
  return new Negotiator({ headers: { accept } }).mediaType(["application/json", GEOJSON]) === GEOJSON;
}

export interface Bbox {
  minLon: number;
  minLat: number;
  maxLon: number;
  maxLat: number;
}

const BBOX_FORMAT = "expected minLon,minLat,maxLon,maxLat in degrees, e.g. 13.3,52.4,13.5,52.6";

/**
 * `bbox=minLon,minLat,maxLon,maxLat` (RFC 7946 5's order). A box whose minLon is greater than its
 * maxLon crosses the antimeridian (RFC 7946 5.2), e.g. 179,-20,-179,-10 around Fiji.
 */
export function parseBbox(text: string): Bbox {
  const refuse = (problem: string) => invalidParameter("bbox", `invalid query parameter 'bbox': ${problem}`, problem);
  const parts = text.split(",");
  if (parts.length !== 4 || parts.some((p) => p.trim() === "")) throw refuse(BBOX_FORMAT);
  const [minLon, minLat, maxLon, maxLat] = parts.map(Number) as [number, number, number, number];
  if (![minLon, minLat, maxLon, maxLat].every(Number.isFinite)) throw refuse(BBOX_FORMAT);
  if ([minLon, maxLon].some((lon) => lon < -180 || lon > 180)) throw refuse("longitudes must be from -180 to 180");
  if ([minLat, maxLat].some((lat) => lat < -90 || lat > 90)) throw refuse("latitudes must be from -90 to 90");
  if (minLat > maxLat) throw refuse("minLat is above maxLat");
  // -0 and 0 are one longitude; the cache key should not tell them apart.
  return { minLon: minLon || 0, minLat: minLat || 0, maxLon: maxLon || 0, maxLat: maxLat || 0 };
}
