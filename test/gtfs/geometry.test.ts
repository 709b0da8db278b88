// GeoJSON for maps on a real PostgreSQL, checked against the feed files themselves: a route's shapes
// and a trip's shape as shapes.txt has them ([lon, lat], in shape_pt_sequence order), the line through
// the stops where a trip has no shape (or the feed has no shapes.txt), stops as a FeatureCollection,
// and bbox queries against a brute-force filter of stops.txt. Every GeoJSON answer also passes
// @placemarkio/check-geojson (RFC 7946 structure) and the checks it leaves out: positions in range,
// no `crs` member.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getIssues } from "@placemarkio/check-geojson";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { inBbox } from "../../src/modules/gtfs/api/geometry-queries";
import { mutatedFeed, SAMPLE_DIR, SLOW, suiteGtfsEnv } from "./helpers";

const KEY = "geometry-test-key-0123456789";

/** A CSV file of the sample feed as objects (the sample has no quoted commas). */
function csv(file: string, dir = SAMPLE_DIR): Record<string, string>[] {
  const [header, ...lines] = readFileSync(join(dir, file), "utf8").trim().split(/\r?\n/);
  const names = header!.split(",");
  return lines.map((line) => Object.fromEntries(line.split(",").map((v, i) => [names[i], v])));
}

const STOPS = csv("stops.txt");
const position = (stopId: string) => {
  const s = STOPS.find((x) => x.stop_id === stopId)!;
  return [Number(s.stop_lon), Number(s.stop_lat)];
};

/** shapes.txt's points of `shapeId`, [lon, lat], in sequence order. */
function shapeLine(shapeId: string): number[][] {
  return csv("shapes.txt")
    .filter((p) => p.shape_id === shapeId)
    .sort((a, b) => Number(a.shape_pt_sequence) - Number(b.shape_pt_sequence))
    .map((p) => [Number(p.shape_pt_lon), Number(p.shape_pt_lat)]);
}

/** stop_times.txt's stops of `tripId` in stop_sequence order, as positions. */
function stopLine(tripId: string): number[][] {
  return csv("stop_times.txt")
    .filter((st) => st.trip_id === tripId)
    .sort((a, b) => Number(a.stop_sequence) - Number(b.stop_sequence))
    .map((st) => position(st.stop_id!));
}

/** RFC 7946 beyond structure: every position [lon, lat] in range, and no `crs` member anywhere. */
function expectGeoJson(text: string) {
  expect(getIssues(text)).toEqual([]);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      if (node.length > 0 && node.every((n) => typeof n === "number")) {
        expect(node).toHaveLength(2);
        const [lon, lat] = node as number[];
        expect(lon).toBeGreaterThanOrEqual(-180);
        expect(lon).toBeLessThanOrEqual(180);
        expect(lat).toBeGreaterThanOrEqual(-90);
        expect(lat).toBeLessThanOrEqual(90);
      } else node.forEach(walk);
    } else if (node !== null && typeof node === "object") {
      expect(Object.keys(node)).not.toContain("crs");
      Object.values(node).forEach(walk);
    }
  };
  const parsed = JSON.parse(text);
  walk(parsed);
  return parsed;
}

describe("geometry of the sample feed", () => {
  const env = suiteGtfsEnv([SAMPLE_DIR], { env: { API_KEY: KEY } });
  const get = (path: string, headers: Record<string, string> = {}) =>
    env.app.fetch(path, { headers: { "x-api-key": KEY, ...headers } });
  async function geo(path: string, headers: Record<string, string> = {}) {
    const res = await get(path, headers);
    expect(res.status, path).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/geo+json");
    expect(res.headers.get("etag")).toMatch(/^W\//);
    return expectGeoJson(await res.text());
  }

  it(
    "a route's shapes are shapes.txt's lines, [lon, lat] in sequence order, in a closed FeatureCollection",
    async () => {
      const body = await geo("/v1/routes/A/shapes");
      expect(body.type).toBe("FeatureCollection");
      expect(Object.keys(body)).toEqual(["type", "features"]);
      expect(body.features).toEqual(
        ["a-downtown-all-day-s0", "a-outbound-all-day-s0"].map((shapeId) => ({
          type: "Feature",
          geometry: { type: "LineString", coordinates: shapeLine(shapeId) },
          properties: { route_id: "A", shape_id: shapeId, source: "shapes", trip_count: 1 },
        })),
      );
      // The sample lies near 13.5° E, 52.4° N: lon first.
      expect(body.features[0].geometry.coordinates[0]).toEqual([13.510294914, 52.364833832]);
    },
    SLOW,
  );

  it(
    "a route whose trips have no shape gets one line per distinct sequence of stops",
    async () => {
      const body = await geo("/v1/routes/B/shapes");
      const downtown = stopLine("b-downtown-on-weekends");
      const outbound = stopLine("b-outbound-on-weekends");
      expect(stopLine("b-downtown-on-working-days")).toEqual(downtown);
      expect(body.features.map((f: { geometry: { coordinates: number[][] } }) => f.geometry.coordinates)).toEqual(
        expect.arrayContaining([downtown, outbound]),
      );
      expect(body.features).toHaveLength(2);
      for (const f of body.features)
        expect(f.properties).toEqual({ route_id: "B", shape_id: null, source: "stop_times", trip_count: 2 });
    },
    SLOW,
  );

  it(
    "a trip's shape from shapes.txt, else through its stops in order; unknown ones are 404",
    async () => {
      const shaped = await geo("/v1/trips/a-downtown-all-day/shape");
      expect(shaped).toEqual({
        type: "Feature",
        id: "a-downtown-all-day",
        geometry: { type: "LineString", coordinates: shapeLine("a-downtown-all-day-s0") },
        properties: {
          trip_id: "a-downtown-all-day",
          route_id: "A",
          shape_id: "a-downtown-all-day-s0",
          source: "shapes",
        },
      });
      const unshaped = await geo("/v1/trips/b-outbound-on-weekends/shape");
      expect(unshaped.geometry).toEqual({ type: "LineString", coordinates: stopLine("b-outbound-on-weekends") });
      expect(unshaped.properties).toMatchObject({ shape_id: null, source: "stop_times" });
      for (const path of ["/v1/trips/nope/shape", "/v1/routes/nope/shapes"]) {
        const res = await get(path);
        expect(res.status).toBe(404);
        expect((await res.json()).error.code).toBe("NOT_FOUND");
      }
    },
    SLOW,
  );

  it(
    "stops as a FeatureCollection of Points, by format=geojson or by Accept: application/geo+json",
    async () => {
      const body = await geo("/v1/stops?format=geojson&limit=100");
      expect(body.type).toBe("FeatureCollection");
      expect(body.next_cursor).toBeNull();
      expect(body.features).toHaveLength(STOPS.length);
      for (const f of body.features) {
        expect(f.type).toBe("Feature");
        expect(f.geometry).toEqual({ type: "Point", coordinates: position(f.id) });
        expect(f.properties.stop_id).toBe(f.id);
        expect(f.properties).not.toHaveProperty("stop_lat");
      }
      // Negotiated: the same URL answers JSON or GeoJSON as Accept asks, again and again (the fast
      // path included), and says it varies by Accept.
      for (let i = 0; i < 2; i++) {
        const geoRes = await get("/v1/stops?limit=100", { accept: "application/geo+json" });
        expect(geoRes.headers.get("content-type")).toBe("application/geo+json");
        expect(geoRes.headers.get("vary")).toContain("Accept");
        expect(expectGeoJson(await geoRes.text())).toEqual(body);
        const json = await get("/v1/stops?limit=100", { accept: "application/json" });
        expect(json.headers.get("content-type")).toContain("application/json");
        expect((await json.json()).data).toHaveLength(STOPS.length);
      }
    },
    SLOW,
  );

  it(
    "bbox selects exactly the stops a brute-force filter of stops.txt selects, across the antimeridian too",
    async () => {
      const inside = ([minLon, minLat, maxLon, maxLat]: number[], s: Record<string, string>) => {
        const lon = Number(s.stop_lon);
        const lat = Number(s.stop_lat);
        const lonIn = minLon! <= maxLon! ? lon >= minLon! && lon <= maxLon! : lon >= minLon! || lon <= maxLon!;
        return lonIn && lat >= minLat! && lat <= maxLat!;
      };
      const boxes = [
        [13.5, 52.36, 13.52, 52.37], // the airport's platforms and entrances
        [13, 52, 13.5, 52.5], // edges on "lake" (13, 52) and "center" (13.5, 52.5): inclusive
        [13.44, 52.44, 13.45, 52.45], // the museum alone
        [-180, -90, 180, 90],
        [0, 0, 1, 1], // nothing
        [13.45, 52.3, -170, 52.6], // across the antimeridian: from 13.45° E eastwards to 170° W
        [179, -20, -179, -10], // across it, and empty
      ];
      for (const box of boxes) {
        const expected = STOPS.filter((s) => inside(box, s))
          .map((s) => s.stop_id)
          .sort();
        const res = await get(`/v1/stops?limit=100&bbox=${box.join(",")}`);
        expect(res.status, box.join(",")).toBe(200);
        const ids = (await res.json()).data.map((s: { stop_id: string }) => s.stop_id).sort();
        expect(ids, box.join(",")).toEqual(expected);
        const features = await geo(`/v1/stops?limit=100&format=geojson&bbox=${box.join(",")}`);
        expect(features.features.map((f: { id: string }) => f.id).sort()).toEqual(expected);
      }
      // With a name too: both apply.
      const platforms = await get("/v1/stops?q=platform&bbox=13.5,52.36,13.5087,52.37");
      expect((await platforms.json()).data.map((s: { stop_id: string }) => s.stop_id)).toEqual(["airport-1"]);
    },
    SLOW,
  );

  it(
    "finds a bbox's stops through the stops' GiST index, one box or two across the antimeridian",
    async () => {
      const db = env.app.database.db;
      const { rows } = await sql<{ schema_name: string }>`
        select schema_name from gtfs_feed where status = 'active'`.execute(db);
      const stops = sql.raw(`"${rows[0]!.schema_name}".stops`);
      for (const box of [
        { minLon: 13.5, minLat: 52.36, maxLon: 13.52, maxLat: 52.37 },
        { minLon: 13.45, minLat: 52.3, maxLon: -170, maxLat: 52.6 },
      ]) {
        const plan = await db.transaction().execute(async (trx) => {
          // Ten stops: the planner would rightly scan them; the question is whether it can use the index.
          await sql`set local enable_seqscan = off`.execute(trx);
          const explained = await sql<{ "QUERY PLAN": unknown }>`
            explain (format json) select stop_id from ${stops} s where ${inBbox(box)}`.execute(trx);
          return JSON.stringify(explained.rows[0]!["QUERY PLAN"]);
        });
        expect(plan).toContain('"Index Name":"stops_geo"');
        expect(plan).not.toContain("Seq Scan");
      }
    },
    SLOW,
  );

  it(
    "refuses a bad bbox or format with 400 INVALID_REQUEST naming the parameter",
    async () => {
      for (const [query, message] of [
        ["bbox=1,2,3", /minLon,minLat,maxLon,maxLat/],
        ["bbox=a,b,c,d", /minLon,minLat,maxLon,maxLat/],
        ["bbox=1,2,3,", /minLon,minLat,maxLon,maxLat/],
        ["bbox=0,0,1,1e400", /minLon,minLat,maxLon,maxLat/],
        ["bbox=-181,0,0,1", /longitudes must be from -180 to 180/],
        ["bbox=0,-91,1,1", /latitudes must be from -90 to 90/],
        ["bbox=0,10,1,5", /minLat is above maxLat/],
        ["format=kml", /json or geojson/],
      ] as const) {
        const res = await get(`/v1/stops?${query}`);
        expect(res.status, query).toBe(400);
        const { error } = await res.json();
        expect(error.code).toBe("INVALID_REQUEST");
        expect(error.details, query).toEqual([{ field: query.split("=")[0], message: expect.stringMatching(message) }]);
      }
    },
    SLOW,
  );
});

describe("geometry of a feed without shapes.txt", () => {
  const feed = mutatedFeed(SAMPLE_DIR, {
    "shapes.txt": null,
    "trips.txt": (text) => text.replace(/,a-(downtown|outbound)-all-day-s0,/g, ",,"),
  });
  const env = suiteGtfsEnv([feed.dir]);
  afterAll(() => feed.remove());

  it(
    "draws every route and trip through its stops",
    async () => {
      const route = await env.app.fetch("/v1/routes/A/shapes");
      const body = expectGeoJson(await route.text());
      expect(body.features.map((f: { geometry: { coordinates: number[][] } }) => f.geometry.coordinates)).toEqual(
        expect.arrayContaining([stopLine("a-downtown-all-day"), stopLine("a-outbound-all-day")]),
      );
      for (const f of body.features) expect(f.properties.source).toBe("stop_times");
      const trip = expectGeoJson(await (await env.app.fetch("/v1/trips/a-downtown-all-day/shape")).text());
      expect(trip.geometry.coordinates).toEqual(stopLine("a-downtown-all-day"));
      expect(trip.properties).toMatchObject({ shape_id: null, source: "stop_times" });
    },
    SLOW,
  );
});
