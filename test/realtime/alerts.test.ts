// GTFS-Realtime ServiceAlerts: GET /v1/alerts with its filters, and the alerts boards and trips list,
// from a feed built with the official bindings and served by a local HTTP server (edge fixture,
// America/New_York, 2024-06-12).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRealtimeService, type RealtimeService } from "../../src/modules/realtime/service";
import { EDGE, type GtfsEnv, gtfsEnv, SLOW } from "../gtfs/helpers";
import { encodeFeed, type FeedServer, secs, startFeedServer } from "./helpers";

const NOW = secs("2024-06-12T08:05:00-04:00");
const enc = encodeURIComponent;
const period = (start: string, end: string) => ({ start: secs(start), end: secs(end) });
const text = (en: string, fr: string) => ({
  translation: [
    { text: en, language: "en" },
    { text: fr, language: "fr" },
  ],
});

const ALERTS = [
  {
    id: "detour-r1",
    alert: {
      activePeriod: [period("2024-06-12T08:00:00-04:00", "2024-06-12T09:00:00-04:00")],
      informedEntity: [{ routeId: "R1" }],
      cause: "CONSTRUCTION",
      effect: "DETOUR",
      severityLevel: "WARNING",
      headerText: text("Route 1 detour", "Déviation de la ligne 1"),
      descriptionText: text("Via Gare de l'Est", "Par la Gare de l'Est"),
      url: { translation: [{ text: "https://edge.example.org/detour" }] },
    },
  },
  {
    id: "lift-central-1",
    alert: {
      informedEntity: [{ stopId: "central-1" }],
      effect: "ACCESSIBILITY_ISSUE",
      headerText: text("Lift out of order", "Ascenseur en panne"),
    },
  },
  {
    id: "t2-late",
    alert: {
      activePeriod: [period("2024-06-12T09:00:00-04:00", "2024-06-12T10:00:00-04:00")],
      informedEntity: [{ trip: { tripId: "t2", startDate: "20240612" } }],
      effect: "SIGNIFICANT_DELAYS",
      headerText: text("Trip t2 delayed", "Course t2 retardée"),
    },
  },
  {
    id: "strike",
    alert: {
      activePeriod: [period("2024-06-12T00:00:00-04:00", "2024-06-13T00:00:00-04:00")],
      informedEntity: [{ agencyId: "EDGE" }],
      cause: "STRIKE",
      effect: "REDUCED_SERVICE",
      headerText: text("Strike", "Grève"),
    },
  },
  {
    id: "night-at-gare",
    alert: {
      informedEntity: [{ routeId: "N", stopId: "gare" }],
      headerText: text("Night stop moved", "Arrêt de nuit déplacé"),
    },
  },
];

describe("service alerts", () => {
  let server: FeedServer;
  let env: GtfsEnv;
  let realtime: RealtimeService;

  beforeAll(async () => {
    server = await startFeedServer();
    env = await gtfsEnv({
      env: { GTFS_RT_ALERTS_URL: server.url("/alerts") },
      realtime: (deps) => createRealtimeService({ ...deps, now: () => NOW * 1000 }),
    });
    realtime = env.app.realtime!;
    await env.import(EDGE);
    server.set({ kind: "feed", bytes: encodeFeed(NOW, ALERTS) }, "/alerts");
    expect(await realtime.pollNow("alerts")).toBe("published");
  }, SLOW);
  afterAll(async () => {
    await env?.close();
    await server?.close();
  }, SLOW);

  const ids = async (query: string) => {
    const res = await env.get(`/v1/alerts?${query}`);
    expect(res.status).toBe(200);
    return res.body.data.map((a: { id: string }) => a.id);
  };
  const at = (iso: string) => `at=${enc(iso)}`;

  it(
    "lists the alerts active at `at`, with every translation and the enums by name",
    async () => {
      expect(await ids(at("2024-06-12T08:30:00-04:00"))).toEqual([
        "detour-r1",
        "lift-central-1",
        "strike",
        "night-at-gare",
      ]);
      expect(await ids(at("2024-06-12T09:30:00-04:00"))).toEqual([
        "lift-central-1",
        "t2-late",
        "strike",
        "night-at-gare",
      ]);
      const res = await env.get(`/v1/alerts?${at("2024-06-12T08:30")}&route_id=R1`);
      expect(res.body.realtime_sources).toEqual({
        alerts: { status: "current", updated_at: "2024-06-12T08:05:00-04:00" },
      });
      expect(res.body.data[0]).toEqual({
        id: "detour-r1",
        active_periods: [{ start: "2024-06-12T08:00:00-04:00", end: "2024-06-12T09:00:00-04:00" }],
        cause: "CONSTRUCTION",
        effect: "DETOUR",
        severity_level: "WARNING",
        informed_entities: [{ route_id: "R1" }],
        header_text: [
          { language: "en", text: "Route 1 detour" },
          { language: "fr", text: "Déviation de la ligne 1" },
        ],
        description_text: [
          { language: "en", text: "Via Gare de l'Est" },
          { language: "fr", text: "Par la Gare de l'Est" },
        ],
        url: [{ language: null, text: "https://edge.example.org/detour" }],
        tts_header_text: [],
        tts_description_text: [],
        cause_detail: [],
        effect_detail: [],
      });
    },
    SLOW,
  );

  it(
    "filters by route (with its agency's alerts), stop (with its station and platforms) and trip (with its route's)",
    async () => {
      const when = at("2024-06-12T08:30:00-04:00");
      expect(await ids(`${when}&route_id=R1`)).toEqual(["detour-r1", "strike"]);
      expect(await ids(`${when}&route_id=N`)).toEqual(["strike", "night-at-gare"]);
      expect(await ids(`${when}&stop_id=central`)).toEqual(["lift-central-1"]);
      expect(await ids(`${when}&stop_id=gare`)).toEqual(["night-at-gare"]);
      expect(await ids(`${at("2024-06-12T09:30:00-04:00")}&trip_id=t2`)).toEqual(["t2-late", "strike"]);
      expect(await ids(`${at("2024-06-12T09:30:00-04:00")}&trip_id=t1`)).toEqual(["strike"]);
      expect(await ids(`${when}&route_id=N&stop_id=gare`)).toEqual(["night-at-gare"]);
      expect(await ids(`${when}&stop_id=unknown-stop`)).toEqual([]);
    },
    SLOW,
  );

  it(
    "boards and trips list the alerts that apply to them",
    async () => {
      const board = await env.get(`/v1/stops/gare/departures?${at("2024-06-12T08:00:00-04:00")}&window=60`);
      expect(board.body.data.alerts.map((a: { id: string }) => a.id)).toEqual(["detour-r1", "strike", "night-at-gare"]);
      expect(board.body.data.realtime_sources.alerts.status).toBe("current");
      const trip = await env.get("/v1/trips/t2?date=2024-06-12");
      expect(trip.body.data.alerts.map((a: { id: string }) => a.id)).toEqual(["t2-late", "strike"]);
      const t1 = await env.get("/v1/trips/t1?date=2024-06-12");
      expect(t1.body.data.alerts.map((a: { id: string }) => a.id)).toEqual(["detour-r1", "lift-central-1", "strike"]);
    },
    SLOW,
  );

  it(
    "refuses bad parameters with 400 INVALID_REQUEST naming the field",
    async () => {
      for (const [query, field] of [
        ["at=yesterday", "at"],
        ["at=2024-06-12T25:00", "at"],
        ["route_id=", "route_id"],
        [`stop_id=${"x".repeat(256)}`, "stop_id"],
        ["trip_id=", "trip_id"],
      ] as const) {
        const res = await env.get(`/v1/alerts?${query}`);
        expect([query, res.status, res.body.error.code]).toEqual([query, 400, "INVALID_REQUEST"]);
        expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
      }
    },
    SLOW,
  );

  it(
    "refuses a NUL byte, an undecodable escape or a repeated filter, as on every /v1 path",
    async () => {
      for (const [query, message] of [
        ["stop_id=central%00", /NUL byte/],
        ["trip_id=t%00", /NUL byte/],
        ["route_id=%FF", /percent-escape/],
        ["at=2024-06-12T08%3A00%E0%A4", /percent-escape/],
        ["route_id=R1&route_id=N", /'route_id' is given more than once/],
      ] as const) {
        const res = await env.get(`/v1/alerts?${query}`);
        expect([query, res.status, res.body.error.code]).toEqual([query, 400, "INVALID_REQUEST"]);
        expect(res.body.error.message).toMatch(message);
      }
    },
    SLOW,
  );

  it(
    "alerts and a board with them are validated per Alerts snapshot: a new one changes the ETag, the old tag gets the new answer",
    async () => {
      const paths = [
        `/v1/alerts?${at("2024-06-12T08:30:00-04:00")}`,
        `/v1/stops/gare/departures?${at("2024-06-12T08:00:00-04:00")}`,
      ];
      const tags: string[] = [];
      for (const path of paths) {
        const first = await env.app.fetch(path);
        expect(first.status).toBe(200);
        // No older than a poll of the source (30 s by default) may be kept.
        expect(first.headers.get("cache-control")).toBe("public, max-age=30");
        tags.push(first.headers.get("etag")!);
        expect((await env.app.fetch(path, { headers: { "if-none-match": tags.at(-1)! } })).status).toBe(304);
      }
      server.set({ kind: "feed", bytes: encodeFeed(NOW, ALERTS.slice(1)) }, "/alerts");
      expect(await realtime.pollNow("alerts")).toBe("published");
      for (const [i, path] of paths.entries()) {
        const res = await env.app.fetch(path, { headers: { "if-none-match": tags[i]! } });
        expect(res.status, path).toBe(200);
        expect(res.headers.get("etag")).not.toBe(tags[i]);
        const body = await res.json();
        const alerts = (body.data.alerts ?? body.data).map((a: { id: string }) => a.id);
        expect(alerts).not.toContain("detour-r1");
      }
      server.set({ kind: "feed", bytes: encodeFeed(NOW, ALERTS) }, "/alerts");
      expect(await realtime.pollNow("alerts")).toBe("published");
    },
    SLOW,
  );

  it(
    "ignores an alerts snapshot older than max_age and says so",
    async () => {
      server.set({ kind: "feed", bytes: encodeFeed(NOW - 301, ALERTS) }, "/alerts");
      expect(await realtime.pollNow("alerts")).toBe("published");
      const res = await env.get(`/v1/alerts?${at("2024-06-12T08:30:00-04:00")}`);
      expect(res.body).toEqual({
        data: [],
        next_cursor: null,
        realtime_sources: { alerts: { status: "stale", updated_at: "2024-06-12T07:59:59-04:00" } },
      });
      const board = await env.get(`/v1/stops/gare/departures?${at("2024-06-12T08:00:00-04:00")}`);
      expect(board.body.data.alerts).toEqual([]);
      expect(board.body.data.realtime_sources.alerts.status).toBe("stale");
    },
    SLOW,
  );
});
