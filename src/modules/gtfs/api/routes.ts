// /v1 transit endpoints as one Elysia plugin (mounted by createApp). Responses are JSON strings built
// once: the same string is cached and served, so a cache hit never re-serialises.
import { Elysia, t } from "elysia";
import { LRUCache } from "lru-cache";
import type { Cache } from "../../../cache/cache";
import type { Database } from "../../../db/database";
import { ApiError, invalidParameter } from "../../../http/errors";
import { listAlerts } from "../../realtime/alerts-api";
import { addedTrip, mergeBoard, mergeTrip, type TripAnswer } from "../../realtime/merge";
import type { RealtimeService } from "../../realtime/service";
import { isIsoDate } from "../domain/time";
import { localDate, zonedTimeToEpoch } from "../domain/timezone";
import { type ActiveFeed, type AnyDb, activeFeedResolver, hotQuery } from "./active-feed";
import { departureBoard } from "./departures";
import { getRoute, getStop, getTrip, listAgencies, listFeeds, listRoutes, nearbyStops, searchStops } from "./queries";

/** Bytes of realtime-merged answers kept in process, per (timetable answer, realtime snapshot). */
const MERGED_CACHE_BYTES = 16 * 1024 * 1024;

export interface GtfsRouteDeps {
  database: Database;
  cache: Cache;
  /** GTFS-Realtime merged into boards and trips at answer time; absent: timetable only. */
  realtime?: RealtimeService;
}

/** Bytes of answers kept in process (in front of Redis). */
const LOCAL_CACHE_BYTES = 32 * 1024 * 1024;

/** Lookups are immutable within a feed version (the key carries it); the TTL only bounds memory. */
const LOOKUP_TTL_SECONDS = 3600;
/** Boards are cached no longer than their own window, and at most 10 minutes. */
const boardTtl = (windowMinutes: number) => Math.min(windowMinutes * 60, 600);

const json = (body: string, cached: boolean) =>
  new Response(body, {
    headers: { "content-type": "application/json; charset=utf-8", "x-cache": cached ? "hit" : "miss" },
  });

/**
 * A numeric query parameter whose errors name it. Elysia checks a decoded number against its bounds
 * without the parameter's key, so the schema carries the field and the rule (src/app.ts reports them).
 */
const NumberParam = (
  field: string,
  range: { minimum?: number; exclusiveMinimum?: number; maximum?: number; whole?: boolean },
  description?: string,
) => {
  const { whole, ...bounds } = range;
  const { minimum: min, exclusiveMinimum: above, maximum: max } = bounds;
  const rule =
    min !== undefined && max !== undefined
      ? `from ${min} to ${max}`
      : above !== undefined && max !== undefined
        ? `above ${above} and at most ${max}`
        : min !== undefined
          ? `of ${min} or more`
          : "";
  const message = `must be a ${whole ? "whole number" : "number"}${rule ? ` ${rule}` : ""}`;
  return t.Numeric({
    ...bounds,
    ...(whole ? { multipleOf: 1 } : {}),
    ...(description ? { description } : {}),
    error: () => ({ field, message }),
  });
};
const Limit = (max: number) => t.Optional(NumberParam("limit", { minimum: 1, maximum: max, whole: true }));
const Cursor = t.Optional(t.String({ maxLength: 500 }));
const Id = t.String({ minLength: 1, maxLength: 255 });

/** `x` rounded to 1/`per` (and never -0). */
const snap = (x: number, per: number) => Math.round(x * per) / per || 0;

const ISO_INSTANT = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** ISO 8601 instant; without an offset it is wall-clock time in the feed's time zone. */
export function parseAt(at: string | undefined, timeZone: string): number {
  if (at === undefined || at === "") return Date.now();
  const m = ISO_INSTANT.exec(at);
  if (!m || !isIsoDate(m[1]!) || Number(m[2]) > 23 || Number(m[3]) > 59 || Number(m[4] ?? 0) > 59)
    throw invalidParameter(
      "at",
      "invalid query parameter 'at': expected ISO 8601 like 2024-03-10T08:00:00-05:00",
      "expected ISO 8601 like 2024-03-10T08:00:00-05:00",
    );
  if (m[6]) {
    const ms = Date.parse(m[6].length === 5 ? `${at.slice(0, -5)}${m[6].slice(0, 3)}:${m[6].slice(3)}` : at);
    if (Number.isNaN(ms)) throw invalidParameter("at", "invalid query parameter 'at'", "not a valid instant");
    return ms;
  }
  const seconds = Number(m[4] ?? 0) + Number(m[5] ?? 0);
  return zonedTimeToEpoch(timeZone, m[1]!, Number(m[2]), Number(m[3])) + Math.round(seconds * 1000);
}

export function gtfsRoutes(deps: GtfsRouteDeps) {
  const db = deps.database.db as unknown as AnyDb;
  const hot = hotQuery(deps.database);
  const activeFeed = activeFeedResolver(deps.database, hot);
  const cache = deps.cache;

  // A small in-process layer in front of the shared cache: keys carry the feed version and values
  // never change within one, so a local copy is never stale; it only saves the Redis round trip for
  // the hottest answers. Bounded by total size, and by the same TTL as the shared entry.
  const local = new LRUCache<string, string>({
    maxSize: LOCAL_CACHE_BYTES,
    sizeCalculation: (v, k) => v.length + k.length,
    ttlAutopurge: false,
  });

  /** Serves `key` from the caches or computes, stores and serves it. */
  // With no Redis the shared cache is already in-process: a second copy would only double the memory.
  const layered = cache.kind !== "memory";

  async function cachedBody(key: string, ttl: number, load: () => Promise<unknown>): Promise<[string, boolean]> {
    const near = layered ? local.get(key) : undefined;
    if (near !== undefined) return [near, true];
    const hit = await cache.get(key);
    if (hit !== undefined) {
      if (layered) local.set(key, hit, { ttl: ttl * 1000 });
      return [hit, true];
    }
    const body = JSON.stringify(await load());
    await cache.set(key, body, ttl);
    if (layered) local.set(key, body, { ttl: ttl * 1000 });
    return [body, false];
  }

  async function cached(key: string, ttl: number, load: () => Promise<unknown>): Promise<Response> {
    const [body, hit] = await cachedBody(key, ttl, load);
    return json(body, hit);
  }

  // Realtime is merged into the cached timetable answer per request, never stored with it: the shared
  // cache stays per feed version, and a new snapshot needs no invalidation. The merged answer is kept
  // per (key, snapshot) so a busy board is merged once per snapshot, not once per request.
  const realtime = deps.realtime;
  const merged = new LRUCache<string, { view: string; body: string }>({
    maxSize: MERGED_CACHE_BYTES,
    sizeCalculation: (v, k) => v.body.length + k.length,
  });

  async function withRealtime<T>(
    feed: ActiveFeed,
    key: string,
    ttl: number,
    load: () => Promise<{ data: T }>,
    merge: (data: T, view: ReturnType<RealtimeService["view"]>) => unknown,
  ): Promise<Response> {
    const [body, hit] = await cachedBody(key, ttl, load);
    if (!realtime) return json(body, hit);
    const preparing = realtime.prepare(feed);
    if (preparing) await preparing;
    const view = realtime.view(feed);
    const memo = merged.get(key);
    if (memo?.view === view.key) return json(memo.body, hit);
    const { data } = JSON.parse(body) as { data: T };
    const out = JSON.stringify({ data: merge(data, view) });
    merged.set(key, { view: view.key, body: out }, { ttl: ttl * 1000 });
    return json(out, hit);
  }

  const feedKey = (feed: ActiveFeed, ...parts: (string | number | undefined)[]) =>
    `gtfs:v${feed.id}:${parts.map((p) => encodeURIComponent(String(p ?? ""))).join(":")}`;

  return new Elysia({ name: "gtfs", prefix: "/v1" })
    .get("/feeds", async () => json(JSON.stringify(await listFeeds(db)), false), {
      detail: { tags: ["transit"], summary: "Active and retained feed versions" },
    })
    .get(
      "/agencies",
      async ({ query }) => {
        const feed = await activeFeed();
        const limit = query.limit ?? 100;
        return cached(feedKey(feed, "agencies", limit, query.cursor), LOOKUP_TTL_SECONDS, () =>
          listAgencies(db, feed, limit, query.cursor),
        );
      },
      {
        query: t.Object({ limit: Limit(500), cursor: Cursor }),
        detail: { tags: ["transit"], summary: "Agencies of the active feed" },
      },
    )
    .get(
      "/routes",
      async ({ query }) => {
        const feed = await activeFeed();
        const limit = query.limit ?? 100;
        return cached(
          feedKey(feed, "routes", limit, query.cursor, query.agency_id, query.route_type),
          LOOKUP_TTL_SECONDS,
          () => listRoutes(db, feed, limit, query.cursor, { agency_id: query.agency_id, route_type: query.route_type }),
        );
      },
      {
        query: t.Object({
          limit: Limit(500),
          cursor: Cursor,
          agency_id: t.Optional(Id),
          // GTFS route types are small (0–12, extended ones up to 1702); the column is a 32-bit integer.
          route_type: t.Optional(NumberParam("route_type", { minimum: 0, maximum: 2_147_483_647, whole: true })),
        }),
        detail: { tags: ["transit"], summary: "Routes of the active feed" },
      },
    )
    .get(
      "/routes/:routeId",
      async ({ params }) => {
        const feed = await activeFeed();
        return cached(feedKey(feed, "route", params.routeId), LOOKUP_TTL_SECONDS, () =>
          getRoute(db, feed, params.routeId),
        );
      },
      { params: t.Object({ routeId: Id }), detail: { tags: ["transit"], summary: "One route with its agency" } },
    )
    .get(
      "/stops",
      async ({ query }) => {
        const feed = await activeFeed();
        const limit = query.limit ?? 20;
        return cached(feedKey(feed, "stops", query.q, limit, query.cursor), LOOKUP_TTL_SECONDS, () =>
          searchStops(db, feed, query.q, limit, query.cursor),
        );
      },
      {
        query: t.Object({ q: t.Optional(t.String({ maxLength: 200 })), limit: Limit(100), cursor: Cursor }),
        detail: {
          tags: ["transit"],
          summary: "Stops by name (case- and accent-insensitive; prefix matches first, then contains)",
        },
      },
    )
    .get(
      "/stops/nearby",
      async ({ query }) => {
        const feed = await activeFeed();
        // Snapped to what the answer can depend on (and the cache key says): 1e-6° is 11 cm, and a
        // subnormal like 5e-324 is not a number PostgreSQL accepts (float8 underflow).
        const lat = snap(query.lat, 1e6);
        const lon = snap(query.lon, 1e6);
        const radius = Math.max(0.01, snap(query.radius ?? 500, 100));
        const limit = query.limit ?? 10;
        return cached(feedKey(feed, "nearby", lat, lon, radius, limit), LOOKUP_TTL_SECONDS, async () => {
          const { data } = await nearbyStops(db, feed, lat, lon, radius, limit);
          return { data, next_cursor: null };
        });
      },
      {
        query: t.Object({
          lat: NumberParam("lat", { minimum: -90, maximum: 90 }),
          lon: NumberParam("lon", { minimum: -180, maximum: 180 }),
          radius: t.Optional(NumberParam("radius", { exclusiveMinimum: 0, maximum: 20_000 }, "metres")),
          limit: Limit(100),
        }),
        detail: { tags: ["transit"], summary: "Nearest stops and stations with distance_m, nearest first" },
      },
    )
    .get(
      "/stops/:stopId",
      async ({ params }) => {
        const feed = await activeFeed();
        return cached(feedKey(feed, "stop", params.stopId), LOOKUP_TTL_SECONDS, () => getStop(db, feed, params.stopId));
      },
      {
        params: t.Object({ stopId: Id }),
        detail: { tags: ["transit"], summary: "One stop with its parent station and children" },
      },
    )
    .get(
      "/stops/:stopId/departures",
      async ({ params, query }) => {
        const feed = await activeFeed();
        const at = parseAt(query.at, feed.timezone);
        const window = query.window ?? 60;
        const limit = query.limit ?? 50;
        const key = feedKey(feed, "board", params.stopId, Math.floor(at / 1000), window, limit);
        return withRealtime(
          feed,
          key,
          boardTtl(window),
          async () => ({ data: await departureBoard(hot, feed, params.stopId, at, window, limit) }),
          (board, view) => mergeBoard(board, view, at, window, limit),
        );
      },
      {
        params: t.Object({ stopId: Id }),
        query: t.Object({
          at: t.Optional(t.String({ maxLength: 40, description: "ISO 8601; without offset: feed-local time" })),
          window: t.Optional(NumberParam("window", { minimum: 1, maximum: 1440, whole: true }, "minutes")),
          limit: Limit(500),
        }),
        detail: {
          tags: ["transit"],
          summary: "Departure board from `at` (default now) for `window` minutes; stations include their platforms",
        },
      },
    )
    .get(
      "/alerts",
      async ({ query }) => {
        const feed = await activeFeed();
        const at = parseAt(query.at, feed.timezone);
        const preparing = realtime?.prepare(feed);
        if (preparing) await preparing;
        const view = realtime?.view(feed) ?? {
          key: "",
          sources: {
            trip_updates: { status: "disabled" as const, updated_at: null },
            alerts: { status: "disabled" as const, updated_at: null },
          },
        };
        const body = await listAlerts(hot, feed, view, {
          route_id: query.route_id,
          stop_id: query.stop_id,
          trip_id: query.trip_id,
          at,
        });
        return new Response(JSON.stringify(body), {
          headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
        });
      },
      {
        query: t.Object({
          route_id: t.Optional(Id),
          stop_id: t.Optional(Id),
          trip_id: t.Optional(Id),
          at: t.Optional(t.String({ maxLength: 40, description: "ISO 8601; without offset: feed-local time" })),
        }),
        detail: {
          tags: ["transit"],
          summary:
            "GTFS-Realtime service alerts active at `at` (default now), for a route, stop and/or trip, with every translation",
        },
      },
    )
    .get(
      "/trips/:tripId",
      async ({ params, query }) => {
        const feed = await activeFeed();
        const date = query.date ?? localDate(feed.timezone, Date.now());
        if (!isIsoDate(date))
          throw invalidParameter("date", "invalid query parameter 'date': expected YYYY-MM-DD", "expected YYYY-MM-DD");
        const load = () => getTrip(db, feed, params.tripId, date) as unknown as Promise<{ data: TripAnswer }>;
        try {
          return await withRealtime(
            feed,
            feedKey(feed, "trip", params.tripId, date),
            LOOKUP_TTL_SECONDS,
            load,
            mergeTrip,
          );
        } catch (err) {
          // A trip only the realtime feed knows (ADDED / NEW) has no timetable to cache.
          if (!(err instanceof ApiError && err.code === "NOT_FOUND" && realtime)) throw err;
          await realtime.prepare(feed);
          const added = addedTrip(realtime.view(feed), params.tripId, feed.timezone);
          if (!added || (query.date !== undefined && added.service_date !== date)) throw err;
          return json(JSON.stringify({ data: added }), false);
        }
      },
      {
        params: t.Object({ tripId: Id }),
        query: t.Object({ date: t.Optional(t.String({ maxLength: 10, description: "service date YYYY-MM-DD" })) }),
        detail: { tags: ["transit"], summary: "A trip's stop times on a service date, with absolute times" },
      },
    );
}
