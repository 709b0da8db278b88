// /v1 transit endpoints as one Elysia plugin (mounted by createApp). Each answer is built once, checked
// against its documented schema, cached as JSON text and prepared as bytes (src/http/answer-cache.ts);
// a repeated request is served those bytes (with a 304 or compressed as asked), never re-serialised.
// Routes declare their answers' schemas, so the OpenAPI document and the typed client (Eden) have them.
import { Elysia, t } from "elysia";
import type { Cache } from "../../../cache/cache";
import type { Config } from "../../../config/schema";
import type { Database } from "../../../db/database";
import type { AnswerPolicy } from "../../../http/answer";
import { contract, v1Errors } from "../../../http/contract";
import { ApiError, invalidParameter } from "../../../http/errors";
import { listAlerts } from "../../realtime/alerts-api";
import { addedTrip, mergeBoard, mergeTrip, type TripAnswer as TimetableTrip } from "../../realtime/merge";
import type { RealtimeService } from "../../realtime/service";
import { isIsoDate } from "../domain/time";
import { localDate } from "../domain/timezone";
import { type AnyDb, activeFeedResolver, hotQuery } from "./active-feed";
import { departureBoard } from "./departures";
import {
  ALERTS_MAX_AGE,
  boardMaxAge,
  boardPolicy,
  boardTtl,
  createFeedAnswers,
  FEEDS,
  LOOKUP,
  LOOKUP_MAX_AGE,
  LOOKUP_TTL_SECONDS,
} from "./feed-answers";
import { GEOJSON, parseBbox, StopFeatureCollection, stopCollection, wantsGeoJson } from "./geojson";
import { geometryRoutes } from "./geometry-routes";
import { Cursor, endOfSecond, Id, Limit, NumberParam, parseAt, snap } from "./params";
import { getRoute, getStop, getTrip, listAgencies, listFeeds, listRoutes, nearbyStops, searchStops } from "./queries";
import {
  AddedTripAnswer,
  AgencyList,
  AlertList,
  BoardAnswer,
  FeedList,
  NearbyStopList,
  RouteAnswer,
  RouteList,
  StopAnswer,
  StopList,
  TripAnswer,
} from "./schemas";

/** /v1/stops is JSON or GeoJSON as Accept asks (unless `format` says): caches keep one of each. */
const STOPS: AnswerPolicy = { ...LOOKUP, vary: [...LOOKUP.vary!, "Accept"] };
const STOPS_GEOJSON: AnswerPolicy = { ...STOPS, contentType: GEOJSON };

export interface GtfsRouteDeps {
  database: Database;
  cache: Cache;
  /** GTFS-Realtime merged into boards and trips at answer time; absent: timetable only. */
  realtime?: RealtimeService;
  config: Pick<Config, "api" | "redis" | "realtime">;
}

export function gtfsRoutes(deps: GtfsRouteDeps) {
  const db = deps.database.db as unknown as AnyDb;
  const hot = hotQuery(deps.database);
  const activeFeed = activeFeedResolver(deps.database, hot);
  const realtime = deps.realtime;
  const feedAnswers = createFeedAnswers({ ...deps, activeFeed });
  const { answers, recent, cached, withRealtime, livePolicy, feedKey } = feedAnswers;

  const checked = {
    feeds: contract("FeedList", FeedList),
    agencies: contract("AgencyList", AgencyList),
    routes: contract("RouteList", RouteList),
    route: contract("RouteAnswer", RouteAnswer),
    stops: contract("StopList", StopList),
    stopFeatures: contract("StopFeatureCollection", StopFeatureCollection),
    nearby: contract("NearbyStopList", NearbyStopList),
    stop: contract("StopAnswer", StopAnswer),
    board: contract("BoardAnswer", BoardAnswer),
    trip: contract("TripAnswer", TripAnswer),
    added: contract("AddedTripAnswer", AddedTripAnswer),
    alerts: contract("AlertList", AlertList),
  };

  const plugin = new Elysia({ name: "gtfs", prefix: "/v1" })
    .get(
      "/feeds",
      async ({ request }) =>
        answers.prepare(JSON.stringify(checked.feeds(await listFeeds(db))), FEEDS).serve(request, false),
      {
        response: { 200: FeedList, ...v1Errors() },
        detail: { tags: ["transit"], summary: "Active and retained feed versions", operationId: "listFeeds" },
      },
    )
    .get(
      "/agencies",
      async ({ query, request, route }) => {
        const feed = await activeFeed();
        const limit = query.limit ?? 100;
        return cached(
          { request, route },
          feed,
          feedKey(feed, "agencies", limit, query.cursor),
          LOOKUP_TTL_SECONDS,
          LOOKUP,
          checked.agencies,
          () => listAgencies(db, feed, limit, query.cursor),
        );
      },
      {
        query: t.Object({ limit: Limit(500, 100), cursor: Cursor }),
        response: { 200: AgencyList, ...v1Errors() },
        detail: { tags: ["transit"], summary: "Agencies of the active feed", operationId: "listAgencies" },
      },
    )
    .get(
      "/routes",
      async ({ query, request, route }) => {
        const feed = await activeFeed();
        const limit = query.limit ?? 100;
        return cached(
          { request, route },
          feed,
          feedKey(feed, "routes", limit, query.cursor, query.agency_id, query.route_type),
          LOOKUP_TTL_SECONDS,
          LOOKUP,
          checked.routes,
          () => listRoutes(db, feed, limit, query.cursor, { agency_id: query.agency_id, route_type: query.route_type }),
        );
      },
      {
        query: t.Object({
          limit: Limit(500, 100),
          cursor: Cursor,
          agency_id: t.Optional(Id),
          // GTFS route types are small (0–12, extended ones up to 1702); the column is a 32-bit integer.
          route_type: t.Optional(NumberParam("route_type", { minimum: 0, maximum: 2_147_483_647, whole: true })),
        }),
        response: { 200: RouteList, ...v1Errors() },
        detail: { tags: ["transit"], summary: "Routes of the active feed", operationId: "listRoutes" },
      },
    )
    .get(
      "/routes/:routeId",
      async ({ params, request, route }) => {
        const feed = await activeFeed();
        return cached(
          { request, route },
          feed,
          feedKey(feed, "route", params.routeId),
          LOOKUP_TTL_SECONDS,
          LOOKUP,
          checked.route,
          () => getRoute(db, feed, params.routeId),
        );
      },
      {
        params: t.Object({ routeId: Id }),
        response: { 200: RouteAnswer, ...v1Errors(404) },
        detail: { tags: ["transit"], summary: "One route with its agency", operationId: "getRoute" },
      },
    )
    .get(
      "/stops",
      async ({ query, request, route }) => {
        const feed = await activeFeed();
        const limit = query.limit ?? 20;
        const bbox = query.bbox === undefined ? undefined : parseBbox(query.bbox);
        const geo = wantsGeoJson(query.format, request.headers.get("accept"));
        const load = () => searchStops(db, feed, query.q, limit, query.cursor, bbox);
        const key = feedKey(feed, "stops", query.q, limit, query.cursor, bbox && Object.values(bbox).join(","));
        // Without `format`, the answer is negotiated from Accept: the fast path keys it by Accept too.
        const ctx = { request, route, accept: query.format === undefined };
        return geo
          ? cached(ctx, feed, `${key}:geojson`, LOOKUP_TTL_SECONDS, STOPS_GEOJSON, checked.stopFeatures, async () =>
              stopCollection(await load()),
            )
          : cached(ctx, feed, key, LOOKUP_TTL_SECONDS, STOPS, checked.stops, load);
      },
      {
        query: t.Object({
          q: t.Optional(t.String({ maxLength: 200 })),
          limit: Limit(100, 20),
          cursor: Cursor,
          bbox: t.Optional(
            t.String({
              maxLength: 200,
              description:
                "minLon,minLat,maxLon,maxLat (RFC 7946 order): only stops inside; minLon > maxLon crosses the antimeridian",
            }),
          ),
          format: t.Optional(
            t.Union([t.Literal("json"), t.Literal("geojson")], {
              description: "geojson: a FeatureCollection (as Accept: application/geo+json asks)",
              error: () => ({ field: "format", message: "must be json or geojson" }),
            }),
          ),
        }),
        response: { 200: t.Union([StopList, StopFeatureCollection]), ...v1Errors() },
        detail: {
          tags: ["transit"],
          summary:
            "Stops by name (case- and accent-insensitive; prefix matches first, then contains) and/or inside a bbox; JSON or GeoJSON",
          operationId: "searchStops",
        },
      },
    )
    .get(
      "/stops/nearby",
      async ({ query, request, route }) => {
        const feed = await activeFeed();
        // Snapped to what the answer can depend on (and the cache key says): 1e-6° is 11 cm, and a
        // subnormal like 5e-324 is not a number PostgreSQL accepts (float8 underflow).
        const lat = snap(query.lat, 1e6);
        const lon = snap(query.lon, 1e6);
        const radius = Math.max(0.01, snap(query.radius ?? 500, 100));
        const limit = query.limit ?? 10;
        return cached(
          { request, route },
          feed,
          feedKey(feed, "nearby", lat, lon, radius, limit),
          LOOKUP_TTL_SECONDS,
          LOOKUP,
          checked.nearby,
          () => nearbyStops(db, feed, lat, lon, radius, limit),
        );
      },
      {
        query: t.Object({
          lat: NumberParam("lat", { minimum: -90, maximum: 90 }),
          lon: NumberParam("lon", { minimum: -180, maximum: 180 }),
          radius: t.Optional(NumberParam("radius", { exclusiveMinimum: 0, maximum: 20_000, default: 500 }, "metres")),
          limit: Limit(100, 10),
        }),
        response: { 200: NearbyStopList, ...v1Errors() },
        detail: {
          tags: ["transit"],
          summary: "Nearest stops and stations with distance_m, nearest first",
          operationId: "nearbyStops",
        },
      },
    )
    .get(
      "/stops/:stopId",
      async ({ params, request, route }) => {
        const feed = await activeFeed();
        return cached(
          { request, route },
          feed,
          feedKey(feed, "stop", params.stopId),
          LOOKUP_TTL_SECONDS,
          LOOKUP,
          checked.stop,
          () => getStop(db, feed, params.stopId),
        );
      },
      {
        params: t.Object({ stopId: Id }),
        response: { 200: StopAnswer, ...v1Errors(404) },
        detail: { tags: ["transit"], summary: "One stop with its parent station and children", operationId: "getStop" },
      },
    )
    .get(
      "/stops/:stopId/departures",
      async ({ params, query, request, route }) => {
        const feed = await activeFeed();
        const now = Date.now();
        const at = parseAt(query.at, feed.timezone, now);
        const window = query.window ?? 60;
        const limit = query.limit ?? 50;
        return withRealtime(
          { request, route },
          feed,
          feedKey(feed, "board", params.stopId, Math.floor(at / 1000), window, limit),
          boardTtl(window),
          { timetable: boardPolicy(window), live: livePolicy(boardMaxAge(window)) },
          { timetable: checked.board, merged: checked.board },
          async () => ({ data: await departureBoard(hot, feed, params.stopId, at, window, limit) }),
          (board, view) => mergeBoard(board, view, at, window, limit),
          query.at === undefined || query.at === "" ? endOfSecond(now) : undefined,
        );
      },
      {
        params: t.Object({ stopId: Id }),
        query: t.Object({
          at: t.Optional(t.String({ maxLength: 40, description: "ISO 8601; without offset: feed-local time" })),
          window: t.Optional(NumberParam("window", { minimum: 1, maximum: 1440, whole: true, default: 60 }, "minutes")),
          limit: Limit(500, 50),
        }),
        response: { 200: BoardAnswer, ...v1Errors(404) },
        detail: {
          tags: ["transit"],
          summary: "Departure board from `at` (default now) for `window` minutes; stations include their platforms",
          operationId: "departures",
        },
      },
    )
    .get(
      "/alerts",
      async ({ query, request }) => {
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
        // Built per request (filters and `at` vary freely); a 304 still saves the body.
        return answers.prepare(JSON.stringify(checked.alerts(body)), livePolicy(ALERTS_MAX_AGE)).serve(request, false);
      },
      {
        query: t.Object({
          route_id: t.Optional(Id),
          stop_id: t.Optional(Id),
          trip_id: t.Optional(Id),
          at: t.Optional(t.String({ maxLength: 40, description: "ISO 8601; without offset: feed-local time" })),
        }),
        response: { 200: AlertList, ...v1Errors() },
        detail: {
          tags: ["transit"],
          operationId: "listAlerts",
          summary:
            "GTFS-Realtime service alerts active at `at` (default now), for a route, stop and/or trip, with every translation",
        },
      },
    )
    .get(
      "/trips/:tripId",
      async ({ params, query, request, route }) => {
        const feed = await activeFeed();
        const now = Date.now();
        const date = query.date ?? localDate(feed.timezone, now);
        if (!isIsoDate(date))
          throw invalidParameter("date", "invalid query parameter 'date': expected YYYY-MM-DD", "expected YYYY-MM-DD");
        const key = feedKey(feed, "trip", params.tripId, date);
        const until = query.date === undefined ? endOfSecond(now) : undefined;
        try {
          return await withRealtime(
            { request, route },
            feed,
            key,
            LOOKUP_TTL_SECONDS,
            { timetable: LOOKUP, live: livePolicy(LOOKUP_MAX_AGE) },
            { timetable: checked.trip, merged: checked.trip },
            () => getTrip(db, feed, params.tripId, date),
            (trip, view) => mergeTrip(trip as unknown as TimetableTrip, view),
            until,
          );
        } catch (err) {
          // A trip only the realtime feed knows (ADDED / NEW) has no timetable to cache.
          if (!(err instanceof ApiError && err.code === "NOT_FOUND" && realtime)) throw err;
          await realtime.prepare(feed);
          const added = addedTrip(realtime.view(feed), params.tripId, feed.timezone);
          if (!added || (query.date !== undefined && added.service_date !== date)) throw err;
          const text = JSON.stringify(checked.added({ data: added }));
          return answers.prepare(text, livePolicy(LOOKUP_MAX_AGE)).serve(request, false);
        }
      },
      {
        params: t.Object({ tripId: Id }),
        query: t.Object({ date: t.Optional(t.String({ maxLength: 10, description: "service date YYYY-MM-DD" })) }),
        response: { 200: t.Union([TripAnswer, AddedTripAnswer]), ...v1Errors(404) },
        detail: {
          tags: ["transit"],
          summary: "A trip's stop times on a service date, with absolute times",
          operationId: "getTrip",
        },
      },
    );
  return { plugin: plugin.use(geometryRoutes({ db, activeFeed, feedAnswers })), recent };
}
