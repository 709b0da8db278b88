// The box that narrows /v1/stops/nearby to the GiST index (queries.ts searchBox): every point within the
// radius must be inside it (a stop outside it is never found), and it must stay close to the circle
// (a box much wider than the circle would read far more of the index than the answer needs).
import { describe, expect, it } from "vitest";
import { searchBox } from "../../src/modules/gtfs/api/queries";

const R = 6371008.8; // mean Earth radius, the one the query's haversine distance uses
const DEG = Math.PI / 180;

/**
 * The point `distance` metres from (lat, lon) along the initial bearing `bearing` (degrees), on a
 * sphere: the "destination point given distance and bearing" formula (Chris Veness, Movable Type
 * Scripts, "Calculate distance, bearing and more between Latitude/Longitude points").
 */
function destination(lat: number, lon: number, bearing: number, distance: number): { lat: number; lon: number } {
  const d = distance / R;
  const p1 = lat * DEG;
  const t = bearing * DEG;
  const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(t));
  const l2 =
    lon * DEG + Math.atan2(Math.sin(t) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
  const lonOut = ((((l2 / DEG + 180) % 360) + 360) % 360) - 180;
  return { lat: p2 / DEG, lon: lonOut };
}

/** Points on the circle of radius `r` and halfway in, every degree of bearing. */
function circle(lat: number, lon: number, r: number) {
  const out: { lat: number; lon: number }[] = [];
  for (let b = 0; b < 360; b += 1) out.push(destination(lat, lon, b, r), destination(lat, lon, b, r / 2));
  return out;
}

const x = (p: { lat: number; lon: number }) => p.lon * Math.cos(p.lat * DEG);

// centre lat, lon, radius in metres
const CENTRES: [number, number, number][] = [
  [0, 0, 1000],
  [52.52, 13.405, 5000],
  [-33.87, 151.21, 20_000],
  [40.76, -73.98, 500],
  [-45, -120, 50_000],
  [64.1, -21.9, 300_000],
];

describe("nearby stops: the search box", () => {
  it("holds every point within the radius, in the stored (lon·cos(lat), lat) plane", () => {
    const edges: [number, number, number][] = [
      ...CENTRES,
      [89.99, 0, 5000], // reaches the north pole
      [-89.95, 45, 20_000], // the south pole
      [0.5, 179.99, 5000], // crosses the antimeridian
      [60, -179.95, 10_000],
      [45, 90, 2_000_000],
      [0.01, 30, 5000], // straddles the equator
      [-0.01, -30, 5000],
      [0, 100, 20_000], // far from longitude 0 across the equator: cos(lat) is largest at 0°, inside the band
      [-0.1, 150, 20_000],
      [47, 8, 0], // radius 0: the point itself
    ];
    for (const [lat, lon, r] of edges) {
      const box = searchBox(lat, lon, r);
      for (const p of circle(lat, lon, r)) {
        const where = `centre ${lat},${lon} r ${r}: point ${p.lat},${p.lon}`;
        expect(p.lat, where).toBeGreaterThanOrEqual(box.latMin);
        expect(p.lat, where).toBeLessThanOrEqual(box.latMax);
        expect(x(p), where).toBeGreaterThanOrEqual(box.xMin);
        expect(x(p), where).toBeLessThanOrEqual(box.xMax);
      }
      expect(box.latMin).toBeGreaterThanOrEqual(-90);
      expect(box.latMax).toBeLessThanOrEqual(90);
    }
  });

  it("is barely wider than the circle where the circle reaches no pole and no antimeridian", () => {
    for (const [lat, lon, r] of CENTRES) {
      const box = searchBox(lat, lon, r);
      const points = circle(lat, lon, r);
      const lats = points.map((p) => p.lat);
      const latSpan = Math.max(...lats) - Math.min(...lats);
      const where = `centre ${lat},${lon} r ${r}`;
      // latitudes: the circle's own extent, plus the 0.1 % margin against rounding
      expect(box.latMax - box.latMin, where).toBeLessThan(latSpan * 1.002 + 1e-6);
      expect(box.latMax - Math.max(...lats), where).toBeLessThan(latSpan * 0.001 + 1e-6);
      expect(Math.min(...lats) - box.latMin, where).toBeLessThan(latSpan * 0.001 + 1e-6);
      // x: the box of the circle's latitude × longitude rectangle in the stored plane, whose extremes
      // are at its corners (and at the equator, where cos(lat) is 1, when the band straddles it)
      const lons = points.map((p) => p.lon);
      const bandLats = [Math.min(...lats), Math.max(...lats)];
      if (bandLats[0]! <= 0 && bandLats[1]! >= 0) bandLats.push(0);
      const corners = bandLats.flatMap((la) =>
        [Math.min(...lons), Math.max(...lons)].map((lo) => x({ lat: la, lon: lo })),
      );
      const [cMin, cMax] = [Math.min(...corners), Math.max(...corners)];
      const slack = (cMax - cMin) * 0.002 + 1e-6;
      expect(box.xMin, where).toBeLessThanOrEqual(cMin);
      expect(box.xMax, where).toBeGreaterThanOrEqual(cMax);
      expect(cMin - box.xMin, where).toBeLessThan(slack);
      expect(box.xMax - cMax, where).toBeLessThan(slack);
    }
  });

  it("takes every longitude when the circle reaches a pole or crosses the antimeridian", () => {
    for (const [lat, lon, r] of [
      [89.99, 0, 5000],
      [0.5, 179.99, 5000],
      [0.5, -179.99, 5000],
    ] as const) {
      const box = searchBox(lat, lon, r);
      const band = Math.max(Math.cos(box.latMin * DEG), Math.cos(box.latMax * DEG));
      const cosMax = box.latMin <= 0 && box.latMax >= 0 ? 1 : band;
      expect(box.xMin).toBeCloseTo(-180 * cosMax, 9);
      expect(box.xMax).toBeCloseTo(180 * cosMax, 9);
    }
  });
});
