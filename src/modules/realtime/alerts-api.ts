// GET /v1/alerts: the current ServiceAlerts snapshot, filtered by what the alerts apply to and when.
import type { ActiveFeed, HotQuery } from "../gtfs/api/active-feed";
import { type AlertContext, activeDuring, alertJson, selectorMatches } from "./alerts";
import type { RealtimeView } from "./merge";

export interface AlertFilters {
  route_id?: string;
  stop_id?: string;
  trip_id?: string;
  /** Epoch ms. */
  at: number;
}

/**
 * Alerts active at `at` that apply to every given filter: a route (alerts for it, its agency, its
 * route type, and its trips), a stop (alerts for it, its station or its platforms), a trip (alerts for
 * it, its route, its agency). With no filter, every alert active at `at`.
 */
export async function listAlerts(query: HotQuery, feed: ActiveFeed, view: RealtimeView, f: AlertFilters) {
  const S = `"${feed.schema}"`;
  const contexts: AlertContext[] = [];
  if (f.route_id !== undefined) {
    const route = view.routes?.get(f.route_id);
    contexts.push({ route_id: f.route_id, agency_id: route?.agencyId, route_type: route?.routeType });
  }
  if (f.stop_id !== undefined) {
    const rows = await query<{ stop_id: string }>(
      `alerts_stop_family_${feed.schema}`,
      `select stop_id from ${S}.stops where stop_id = $1 or parent_station = $1
         or stop_id = (select parent_station from ${S}.stops where stop_id = $1)`,
      [f.stop_id],
    );
    contexts.push({ stop_ids: new Set([f.stop_id, ...rows.map((r) => r.stop_id)]) });
  }
  if (f.trip_id !== undefined) {
    const rows = await query<{ route_id: string; direction_id: number | null }>(
      `alerts_trip_${feed.schema}`,
      `select route_id, direction_id from ${S}.trips where trip_id = $1`,
      [f.trip_id],
    );
    const added = view.tripUpdates?.added.get(f.trip_id);
    const routeId = rows[0]?.route_id ?? added?.routeId ?? undefined;
    const route = routeId ? view.routes?.get(routeId) : undefined;
    contexts.push({
      trip_id: f.trip_id,
      route_id: routeId,
      direction_id: rows[0]?.direction_id ?? added?.directionId ?? undefined,
      agency_id: route?.agencyId,
      route_type: route?.routeType,
    });
  }
  const at = f.at / 1000;
  const data = (view.alerts ?? [])
    .filter((a) => activeDuring(a, at) && contexts.every((ctx) => a.selectors.some((s) => selectorMatches(s, ctx))))
    .map((a) => alertJson(a, feed.timezone));
  return { data, next_cursor: null, realtime_sources: { alerts: view.sources.alerts } };
}
