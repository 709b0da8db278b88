// Lookups (/v1 agencies, routes, stops search/nearby/detail, feeds), the Redis cache keyed by feed
// version, and the same importer and boards on embedded PGlite.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisCache } from "../../src/cache/redis-cache";
import { eventually } from "../support/app-server";
import { testRedisUrl } from "../support/services";
import { createTestApp } from "../support/test-app";
import { board, EDGE, type GtfsEnv, gtfsEnv, mutatedFeed, SAMPLE_ZIP, SLOW, suiteGtfsEnv } from "./helpers";

/** Great-circle distance in metres, as the API computes it, rounded the same way (0.1 m). */
function haversine(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const a =
    Math.sin(((lat2 - lat1) * rad) / 2) ** 2 +
    Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return Math.round(2 * 6371008.8 * Math.asin(Math.sqrt(a)) * 10) / 10;
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("nearby stops, checked against a brute-force search", () => {
  // Far from longitude 0, at high latitude, and across the antimeridian: places where a flat
  // projection of longitude distorts distances most.
  const centres = [
    { name: "sf", lat: 37.7749, lon: -122.4194 },
    { name: "oslo", lat: 59.9139, lon: 10.7522 },
    { name: "fiji", lat: -16.5, lon: 179.99 },
  ];
  const next = random(20261126);
  const stops = centres.flatMap((c) =>
    Array.from({ length: 150 }, (_, i) => {
      const lat = c.lat + (next() - 0.5) * 0.12;
      let lon = c.lon + (next() - 0.5) * 0.24;
      if (lon > 180) lon -= 360;
      return { id: `${c.name}-${i}`, lat: Number(lat.toFixed(6)), lon: Number(lon.toFixed(6)) };
    }),
  );
  const feed = mutatedFeed(EDGE, {
    "stops.txt": (text) =>
      text.replace(/\n?$/, "\n") + stops.map((s) => `${s.id},Stop ${s.id},${s.lat},${s.lon},0,,\n`).join(""),
  });
  const env = suiteGtfsEnv([feed.dir]);
  afterAll(() => feed.remove());

  it(
    "returns exactly the nearest stops within the radius, for every centre, radius and limit",
    async () => {
      for (const c of centres)
        for (const radius of [300, 1500, 6000])
          for (const limit of [1, 5, 25]) {
            const expected = stops
              .map((s) => ({ id: s.id, d: haversine(c.lat, c.lon, s.lat, s.lon) }))
              .filter((s) => s.d <= radius)
              .sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : 1))
              .slice(0, limit);
            const res = await env.get(`/v1/stops/nearby?lat=${c.lat}&lon=${c.lon}&radius=${radius}&limit=${limit}`);
            expect(res.status).toBe(200);
            const got = res.body.data.map((s: { stop_id: string; distance_m: number }) => ({
              id: s.stop_id,
              d: s.distance_m,
            }));
            expect({ c: c.name, radius, limit, got }).toEqual({ c: c.name, radius, limit, got: expected });
          }
    },
    SLOW,
  );
});

describe("lookups", () => {
  const env = suiteGtfsEnv([EDGE]);

  it(
    "searches stop names case- and accent-insensitively, prefix matches first",
    async () => {
      const ids = async (q: string) =>
        (await env.get(`/v1/stops?q=${encodeURIComponent(q)}`)).body.data.map((s: { stop_id: string }) => s.stop_id);
      expect(await ids("ZURICH STRASSE")).toEqual(["zurich"]);
      expect(await ids("zür")).toEqual(["zurich"]);
      expect(await ids("praca")).toEqual(["saopaulo"]);
      // Ties sort bytewise on the normalised name: "central station track…" before "central station, main…".
      expect(await ids("central station")).toEqual(["central-1", "central-2", "central"]);
      // "track" only occurs inside names: contains-matches still found.
      expect(await ids("track 2")).toEqual(["central-2"]);
      // "far away" matches at a word start (rank 1); the others only contain an "a" (rank 2).
      expect(await ids("a")).toEqual(["far", "central-1", "central-2", "central", "gare", "saopaulo", "zurich"]);
    },
    SLOW,
  );

  it(
    "pages through search results and lists with opaque cursors",
    async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: { body: { data: { stop_id: string }[]; next_cursor: string | null } } = await env.get(
          `/v1/stops?q=a&limit=3${cursor ? `&cursor=${cursor}` : ""}`,
        );
        seen.push(...res.body.data.map((s) => s.stop_id));
        cursor = res.body.next_cursor;
      } while (cursor);
      expect(seen).toEqual(["far", "central-1", "central-2", "central", "gare", "saopaulo", "zurich"]);
      const first = await env.get("/v1/routes?limit=2");
      expect(first.body.data.map((r: { route_id: string }) => r.route_id)).toEqual(["F", "N"]);
      const second = await env.get(`/v1/routes?limit=2&cursor=${first.body.next_cursor}`);
      expect(second.body).toMatchObject({ data: [{ route_id: "R1", route_color: "0055AA" }], next_cursor: null });
      expect((await env.get("/v1/routes?cursor=bogus")).status).toBe(400);
      expect((await env.get("/v1/agencies")).body.data).toEqual([
        expect.objectContaining({ agency_id: "EDGE", agency_timezone: "America/New_York" }),
      ]);
    },
    SLOW,
  );

  it(
    "finds the nearest stops with haversine distances, sorted, within the radius",
    async () => {
      const res = await env.get("/v1/stops/nearby?lat=40.7500&lon=-73.9900&radius=1500&limit=4");
      expect(res.status).toBe(200);
      const rows = res.body.data.map((s: { stop_id: string; distance_m: number }) => [s.stop_id, s.distance_m]);
      expect(rows).toEqual([
        ["central", 0],
        ["central-1", 14],
        ["central-2", 23.8],
        ["gare", 1395],
      ]);
      const near = await env.get("/v1/stops/nearby?lat=40.7500&lon=-73.9900&radius=20&limit=10");
      expect(near.body.data.map((s: { stop_id: string }) => s.stop_id)).toEqual(["central", "central-1"]);
      const outOfRange = await env.get("/v1/stops/nearby?lat=91&lon=0");
      expect(outOfRange.status).toBe(400);
      expect(outOfRange.body.error).toEqual({
        code: "INVALID_REQUEST",
        message: "invalid query parameter 'lat': must be a number from -90 to 90",
        details: [{ field: "lat", message: "must be a number from -90 to 90" }],
      });
      const missing = await env.get("/v1/stops/nearby?lon=0");
      expect(missing.status).toBe(400);
      expect(missing.body.error.details).toEqual([{ field: "lat", message: "must be a number from -90 to 90" }]);
      const radius = await env.get("/v1/stops/nearby?lat=0&lon=0&radius=0");
      expect(radius.body.error.message).toBe(
        "invalid query parameter 'radius': must be a number above 0 and at most 20000",
      );
    },
    SLOW,
  );

  it(
    "returns a stop with its parent station and children, and a route with its agency",
    async () => {
      const station = (await env.get("/v1/stops/central")).body.data;
      expect(station.children.map((c: { stop_id: string }) => c.stop_id)).toEqual(["central-1", "central-2"]);
      expect(station.parent).toBeNull();
      const platform = (await env.get("/v1/stops/central-2")).body.data;
      expect(platform.parent).toMatchObject({ stop_id: "central", stop_name: "Central Station, Main Hall" });
      expect(platform.children).toEqual([]);
      const route = (await env.get("/v1/routes/N")).body.data;
      expect(route).toMatchObject({ route_id: "N", trip_count: 2, agency: { agency_name: "Edge Case Transit" } });
      expect(route.headsigns.sort()).toEqual(["DST Special", "Night Owl"]);
      expect((await env.get("/v1/routes/nope")).body.error).toEqual({
        code: "NOT_FOUND",
        message: "route nope not found",
      });
    },
    SLOW,
  );

  it(
    "shows a frequency trip's first instance with its windows",
    async () => {
      const trip = (await env.get("/v1/trips/f1?date=2024-06-13")).body.data;
      expect(trip.frequencies).toEqual([
        {
          start_time: "06:00:00",
          end_time: "07:00:00",
          headway_secs: 1200,
          exact_times: true,
          first_departure: "2024-06-13T06:00:00-04:00",
        },
      ]);
      expect(trip.stop_times.map((s: { stop_id: string; departure: string }) => [s.stop_id, s.departure])).toEqual([
        ["central-2", "2024-06-13T06:00:00-04:00"],
        ["gare", "2024-06-13T06:05:00-04:00"],
      ]);
    },
    SLOW,
  );
});

describe("values the database or the text protocol cannot carry", () => {
  const env = suiteGtfsEnv([EDGE]);

  it(
    "answer 400 in the error envelope, never 500, in every parameter of every route",
    async () => {
      // Each route with each of its parameters in turn set to the hostile value (the others valid).
      const templates = [
        "/v1/feeds?x={}",
        "/v1/agencies?cursor={}",
        "/v1/routes?agency_id={}",
        "/v1/routes?cursor={}",
        "/v1/routes/{}",
        "/v1/stops?q={}",
        "/v1/stops?cursor={}",
        "/v1/stops/nearby?lat=40.75&lon=-73.99&radius={}",
        "/v1/stops/{}",
        "/v1/stops/{}/departures",
        "/v1/stops/central/departures?at={}",
        "/v1/trips/{}",
        "/v1/trips/f1?date={}",
      ];
      const hostile = ["%00", "a%00b", "%25%00", "%C0%80", "%ED%A0%80", "%FF", "%E0%A4%A", "%", "%zz"];
      const seen: string[] = [];
      for (const template of templates)
        for (const value of hostile) {
          const path = template.replace("{}", value);
          const res = await env.get(path);
          seen.push(`${res.status} ${path}`);
          expect(res.body.error, path).toMatchObject({ code: "INVALID_REQUEST", message: expect.any(String) });
        }
      expect(seen.filter((line) => !line.startsWith("400 "))).toEqual([]);
      // A parameter given twice is ambiguous (the router would keep one, or pass an array): refused.
      const twice = await env.get("/v1/stops/nearby?lat=0&lat=1&lon=0");
      expect([twice.status, twice.body.error.message]).toEqual([400, "query parameter 'lat' is given more than once"]);
      // A subnormal number is in range but not a float8 PostgreSQL accepts ("underflow").
      expect((await env.get("/v1/stops/nearby?lat=-5e-324&lon=0")).status).toBe(200);
      expect((await env.get("/v1/stops/nearby?lat=40.75&lon=-73.99&radius=1e-320")).status).toBe(200);
      // A number past the database column's range is refused by its bounds, not by the database.
      const huge = await env.get("/v1/routes?route_type=99999999999999999999");
      expect(huge.status).toBe(400);
      expect(huge.body.error.details).toEqual([
        { field: "route_type", message: "must be a whole number from 0 to 2147483647" },
      ]);
    },
    SLOW,
  );
});

describe("cache (Redis), keyed by feed version", () => {
  let env: GtfsEnv;
  let redis: Redis;
  const prefix = `tapi-gtfs-test-${randomBytes(4).toString("hex")}:`;
  let redisUrl: string;

  beforeAll(async () => {
    redisUrl = await testRedisUrl();
    const cache = createRedisCache(
      { url: redisUrl, commandTimeoutMs: 2000, keyPrefix: prefix },
      pino({ level: "silent" }),
    );
    redis = new Redis(redisUrl);
    // ioredis connects in the background; the first commands must not race it.
    await eventually(async () => cache.ping(500).then(() => true), 10_000, "the cache to reach Redis");
    env = await gtfsEnv({ cache });
    await env.import(EDGE);
  }, SLOW);
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await env?.close();
  }, SLOW);

  it(
    "serves a repeated board from Redis with a TTL no longer than the window",
    async () => {
      const path = `/v1/stops/central/departures?at=${encodeURIComponent("2024-06-13T06:00:00-04:00")}&window=20`;
      const miss = await env.app.fetch(path);
      expect(miss.headers.get("x-cache")).toBe("miss");
      const body = await miss.text();
      const hit = await env.app.fetch(path);
      expect(hit.headers.get("x-cache")).toBe("hit");
      expect(await hit.text()).toBe(body);
      // Another replica (its own in-process layer, the same Redis) is served from Redis.
      const replica = await createTestApp(
        { DATABASE_URL: env.db!.url },
        {
          cache: createRedisCache(
            { url: redisUrl, commandTimeoutMs: 2000, keyPrefix: prefix },
            pino({ level: "silent" }),
          ),
        },
      );
      try {
        const shared = await replica.fetch(path);
        expect(shared.headers.get("x-cache")).toBe("hit");
        expect(await shared.text()).toBe(body);
      } finally {
        await replica.close();
      }
      const keys = await redis.keys(`${prefix}gtfs:*:board:*`);
      expect(keys).toHaveLength(1);
      const ttl = await redis.pttl(keys[0]!);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(20 * 60 * 1000);
    },
    SLOW,
  );

  it(
    "a new import switches the version, so cached answers of the old one are never served",
    async () => {
      const path = `/v1/stops/central/departures?at=${encodeURIComponent("2024-06-15T00:20:00-04:00")}`;
      await env.app.fetch(path);
      expect((await env.app.fetch(path)).headers.get("x-cache")).toBe("hit");
      const changed = mutatedFeed(EDGE, {
        "trips.txt": (t) => t.replace("n1,N,NIGHT,Night Owl", "n1,N,NIGHT,Owl Express"),
      });
      try {
        await env.import(changed.dir);
      } finally {
        changed.remove();
      }
      // The switch reaches this server through PostgreSQL's NOTIFY, a moment after the import's commit
      // (as it reaches every other replica): wait for it on another endpoint, then ask for the board.
      await eventually(
        async () => (await env.get("/v1/trips/n1?date=2024-06-14")).body.data.trip_headsign === "Owl Express",
        30_000,
        "the server to serve the new feed version",
      );
      const after = await env.app.fetch(path);
      expect(after.headers.get("x-cache")).toBe("miss");
      expect((await after.json()).data.departures[0].headsign).toBe("Owl Express");
    },
    SLOW,
  );
});

describe("embedded PGlite", () => {
  const env = suiteGtfsEnv([EDGE], { embedded: true });

  it(
    "imports with the same importer and gives the same exact boards",
    async () => {
      expect(await board(env, "central", "2024-06-15T00:20:00-04:00")).toEqual([
        { trip: "n1", stop: "central", date: "2024-06-14", time: "24:30:00", at: "2024-06-15T00:30:00-04:00" },
      ]);
      expect(await board(env, "central-1", "2024-03-09T23:00:00-05:00")).toEqual([
        { trip: "f2", stop: "central-1", date: "2024-03-09", time: "23:07:00", at: "2024-03-09T23:07:00-05:00" },
        { trip: "n2", stop: "central-1", date: "2024-03-10", time: "00:30:00", at: "2024-03-09T23:30:00-05:00" },
      ]);
      const nearby = await env.get("/v1/stops/nearby?lat=40.75&lon=-73.99&radius=30");
      expect(nearby.body.data.map((s: { stop_id: string }) => s.stop_id)).toEqual([
        "central",
        "central-1",
        "central-2",
      ]);
    },
    SLOW,
  );

  it(
    "a broken feed changes nothing there either",
    async () => {
      const before = (await env.get("/v1/feeds")).body;
      const broken = mutatedFeed(SAMPLE_ZIP.replace("gtfs.zip", "gtfs"), {
        "stop_times.txt": (t) => t.replace("airport-1,3", "nowhere,3"),
      });
      try {
        await expect(env.import(broken.dir)).rejects.toThrow(/stop_times.txt:2 \[stop_id\]: unknown stop_id/);
      } finally {
        broken.remove();
      }
      expect((await env.get("/v1/feeds")).body).toEqual(before);
      expect(await board(env, "central", "2024-06-15T00:20:00-04:00")).toHaveLength(1);
    },
    SLOW,
  );
});
