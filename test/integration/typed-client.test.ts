// The typed client (src/client, Eden treaty) against the real service listening on a port, with the
// sample feed imported into PostgreSQL. The answers' fields are used as their types say: tsc (npm test
// runs it over test/) fails this file if an answer were typed as a bare Response or as `any`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Client, createClient } from "../../src/client";
import { SAMPLE_DIR, SLOW } from "../gtfs/helpers";
import { type AppServer, runMain, startAppServer } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/services";

const KEY = "client-key-0123456789";

describe("the typed client", () => {
  let db: TestDatabase;
  let server: AppServer;
  let client: Client;

  beforeAll(async () => {
    db = await createTestDatabase("client");
    for (const args of [["migrate"], ["import", SAMPLE_DIR]]) {
      const run = runMain(args, { DATABASE_URL: db.url, LOG_LEVEL: "warn" });
      expect(await run.exited, run.output()).toBe(0);
    }
    server = await startAppServer({ env: { DATABASE_URL: db.url, API_KEYS: `client:${KEY}`, LOG_LEVEL: "warn" } });
    client = createClient(server.url, { apiKey: KEY });
  }, SLOW);
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  }, SLOW);

  it("reads feeds, stops and a departure board with typed answers", async () => {
    const feeds = await client.v1.feeds.get();
    expect(feeds.status).toBe(200);
    const feed = feeds.data!.data[0]!;
    const id: number = feed.id;
    const active: boolean = feed.active;
    expect(active).toBe(true);
    expect(id).toBeGreaterThan(0);
    // @ts-expect-error: not a field of a feed (the answer is typed, not `any`)
    expect(feed.no_such_field).toBeUndefined();

    // /v1/stops answers a JSON page, or GeoJSON when asked: the type is the union, narrowed here.
    const stops = await client.v1.stops.get({ query: { q: "airport", limit: 5 } });
    const page = stops.data!;
    if (!("data" in page)) throw new Error(`expected the JSON page, got ${page.type}`);
    const names: (string | null)[] = page.data.map((s) => s.stop_name);
    expect(names).toContain("International Airport (ABC)");
    const next: string | null = page.next_cursor;
    expect(next === null || typeof next === "string").toBe(true);

    const geojson = await client.v1.stops.get({ query: { q: "airport", format: "geojson" } });
    const collection = geojson.data!;
    if (!("features" in collection)) throw new Error("expected a FeatureCollection");
    const [lon, lat] = collection.features[0]!.geometry!.coordinates;
    expect([lon, lat]).toEqual([13.511, 52.365]);

    const board = await client.v1
      .stops({ stopId: "airport" })
      .departures.get({ query: { at: "2019-03-31T01:30:00+01:00", window: 120 } });
    expect(board.status).toBe(200);
    const { stop, departures, window_minutes } = board.data!.data;
    const minutes: number = window_minutes;
    expect(minutes).toBe(120);
    expect(stop.stop_id).toBe("airport");
    expect(departures.length).toBeGreaterThan(0);
    for (const d of departures) {
      // null only for a trip that a realtime feed added (none here).
      const at: string | null = d.departure;
      const frequencyBased: boolean = d.frequency_based;
      expect(Date.parse(at ?? "")).toBeGreaterThanOrEqual(Date.parse("2019-03-31T01:30:00+01:00"));
      expect(typeof frequencyBased).toBe("boolean");
    }
  });

  it("gives the error envelope typed by status, and public operations without a key", async () => {
    const missing = await client.v1.trips({ tripId: "no-such-trip" }).get();
    expect(missing.data).toBeNull();
    expect(missing.status).toBe(404);
    if (missing.error?.status !== 404) throw new Error(`expected a 404, got ${missing.status}`);
    const code: string = missing.error.value.error.code;
    expect(code).toBe("NOT_FOUND");

    const anonymous = createClient(server.url);
    const refused = await anonymous.v1.feeds.get();
    if (refused.error?.status !== 401) throw new Error(`expected a 401, got ${refused.status}`);
    expect(refused.error.value.error.code).toBe("UNAUTHORIZED");

    const health = await anonymous.health.get();
    const status: "healthy" = health.data!.status;
    expect(status).toBe("healthy");
  });
});
