// /v1 geometry for maps, as GeoJSON (application/geo+json): the lines a route's trips follow, and the
// line of one trip. Cached and served like every lookup (src/modules/gtfs/api/feed-answers.ts).
import { Elysia, t } from "elysia";
import type { AnswerPolicy } from "../../../http/answer";
import { contract, v1Errors } from "../../../http/contract";
import type { ActiveFeedResolver, AnyDb } from "./active-feed";
import { type FeedAnswers, LOOKUP, LOOKUP_TTL_SECONDS } from "./feed-answers";
import { GEOJSON, RouteShapes, TripShape } from "./geojson";
import { routeShapes, tripShape } from "./geometry-queries";
import { Id } from "./params";

const GEO_LOOKUP: AnswerPolicy = { ...LOOKUP, contentType: GEOJSON };

export function geometryRoutes(deps: { db: AnyDb; activeFeed: ActiveFeedResolver; feedAnswers: FeedAnswers }) {
  const { db, activeFeed } = deps;
  const { cached, feedKey } = deps.feedAnswers;
  const checked = {
    routeShapes: contract("RouteShapes", RouteShapes),
    tripShape: contract("TripShape", TripShape),
  };
  // Mounted inside the /v1 plugin (src/modules/gtfs/api/routes.ts), whose prefix applies.
  return new Elysia({ name: "gtfs-geometry" })
    .get(
      "/routes/:routeId/shapes",
      async ({ params, request, route }) => {
        const feed = await activeFeed();
        return cached(
          { request, route },
          feed,
          feedKey(feed, "route-shapes", params.routeId),
          LOOKUP_TTL_SECONDS,
          GEO_LOOKUP,
          checked.routeShapes,
          () => routeShapes(db, feed, params.routeId),
        );
      },
      {
        params: t.Object({ routeId: Id }),
        response: { 200: RouteShapes, ...v1Errors(404) },
        detail: {
          tags: ["geometry"],
          summary:
            "The lines a route's trips follow, as a GeoJSON FeatureCollection of LineStrings: each distinct shape from shapes.txt, and for trips without one each distinct sequence of stops",
          operationId: "routeShapes",
        },
      },
    )
    .get(
      "/trips/:tripId/shape",
      async ({ params, request, route }) => {
        const feed = await activeFeed();
        return cached(
          { request, route },
          feed,
          feedKey(feed, "trip-shape", params.tripId),
          LOOKUP_TTL_SECONDS,
          GEO_LOOKUP,
          checked.tripShape,
          () => tripShape(db, feed, params.tripId),
        );
      },
      {
        params: t.Object({ tripId: Id }),
        response: { 200: TripShape, ...v1Errors(404) },
        detail: {
          tags: ["geometry"],
          summary:
            "The line a trip follows, as a GeoJSON Feature: its shape from shapes.txt, else through its stops in order (properties.source says which)",
          operationId: "tripShape",
        },
      },
    );
}
