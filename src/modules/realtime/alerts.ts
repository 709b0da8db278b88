// Service alerts from a decoded ServiceAlerts feed, normalised once per snapshot: enums by name, every
// translation the feed carries, active periods as instants, and informed entities as selectors.
// An EntitySelector's fields all have to hold at once ("route 5 at stop X"); an alert applies when any
// of its selectors does (GTFS-Realtime reference, EntitySelector and Alert).
import { formatInZone } from "../gtfs/domain/timezone";
import {
  type Alert,
  type EntitySelector,
  type FeedMessage,
  has,
  optionalSeconds,
  rt,
  type TranslatedString,
} from "./feed-message";

export interface Translation {
  language: string | null;
  text: string;
}

export interface Selector {
  agency_id?: string;
  route_id?: string;
  route_type?: number;
  direction_id?: number;
  trip_id?: string;
  stop_id?: string;
}

export interface AlertRecord {
  id: string;
  /** [start, end) in epoch seconds; a missing bound is open. No periods = always active. */
  periods: [number, number][];
  selectors: Selector[];
  /** The answer's fields except the active periods, which are rendered in the feed's time zone. */
  fields: {
    cause: string | null;
    effect: string | null;
    severity_level: string | null;
    informed_entities: (Selector & { trip?: Record<string, unknown> })[];
    header_text: Translation[];
    description_text: Translation[];
    url: Translation[];
    tts_header_text: Translation[];
    tts_description_text: Translation[];
    cause_detail: Translation[];
    effect_detail: Translation[];
  };
}

export interface AlertsIndex {
  timestamp: number;
  alerts: AlertRecord[];
}

/** What an answer is about: every field known about it. For a list of stops, any of them. */
export interface AlertContext {
  agency_id?: string | null;
  route_id?: string | null;
  route_type?: number | null;
  direction_id?: number | null;
  trip_id?: string | null;
  stop_ids?: ReadonlySet<string>;
}

export function buildAlertsIndex(message: FeedMessage, fetchedAtSecs: number): AlertsIndex {
  const timestamp = optionalSeconds(message.header, "timestamp") || fetchedAtSecs;
  const alerts: AlertRecord[] = [];
  for (const entity of message.entity) {
    if (!entity.alert || entity.isDeleted) continue;
    alerts.push(normalise(entity.id, entity.alert));
  }
  return { timestamp, alerts };
}

const enumName = (values: Record<number, string>, value: number | null | undefined) =>
  value === null || value === undefined ? null : (values[value] ?? String(value));

function translations(text: TranslatedString | null | undefined): Translation[] {
  return (text?.translation ?? []).map((t) => ({ language: has(t, "language") ? t.language! : null, text: t.text }));
}

function selectorOf(e: EntitySelector): Selector & { trip?: Record<string, unknown> } {
  const out: Selector & { trip?: Record<string, unknown> } = {};
  if (has(e, "agencyId")) out.agency_id = e.agencyId!;
  if (has(e, "routeId")) out.route_id = e.routeId!;
  if (has(e, "routeType")) out.route_type = e.routeType!;
  if (has(e, "directionId")) out.direction_id = e.directionId!;
  if (has(e, "stopId")) out.stop_id = e.stopId!;
  const trip = e.trip;
  if (trip) {
    const t: Record<string, unknown> = {};
    if (has(trip, "tripId")) t.trip_id = trip.tripId;
    if (has(trip, "routeId")) t.route_id = trip.routeId;
    if (has(trip, "directionId")) t.direction_id = trip.directionId;
    if (has(trip, "startDate")) t.start_date = trip.startDate;
    if (has(trip, "startTime")) t.start_time = trip.startTime;
    out.trip = t;
  }
  return out;
}

/** The selector as flat conditions: a trip descriptor's route and direction count like the selector's own. */
function conditions(s: Selector & { trip?: Record<string, unknown> }): Selector {
  const { trip, ...own } = s;
  const out: Selector = { ...own };
  if (trip?.trip_id !== undefined) out.trip_id = String(trip.trip_id);
  if (trip?.route_id !== undefined) out.route_id ??= String(trip.route_id);
  if (trip?.direction_id !== undefined) out.direction_id ??= Number(trip.direction_id);
  return out;
}

function normalise(id: string, a: Alert): AlertRecord {
  const informed = (a.informedEntity ?? []).map(selectorOf);
  return {
    id,
    periods: (a.activePeriod ?? []).map((p) => [
      optionalSeconds(p, "start") ?? Number.NEGATIVE_INFINITY,
      optionalSeconds(p, "end") || Number.POSITIVE_INFINITY,
    ]),
    selectors: informed.map(conditions),
    fields: {
      cause: has(a, "cause") ? enumName(rt.Alert.Cause as unknown as Record<number, string>, a.cause) : null,
      effect: has(a, "effect") ? enumName(rt.Alert.Effect as unknown as Record<number, string>, a.effect) : null,
      severity_level: has(a, "severityLevel")
        ? enumName(rt.Alert.SeverityLevel as unknown as Record<number, string>, a.severityLevel)
        : null,
      informed_entities: informed,
      header_text: translations(a.headerText),
      description_text: translations(a.descriptionText),
      url: translations(a.url),
      tts_header_text: translations(a.ttsHeaderText),
      tts_description_text: translations(a.ttsDescriptionText),
      cause_detail: translations(a.causeDetail),
      effect_detail: translations(a.effectDetail),
    },
  };
}

/** Active at some instant of [from, to) (epoch seconds; to = from for a single instant). */
export function activeDuring(alert: AlertRecord, from: number, to: number = from): boolean {
  if (!alert.periods.length) return true;
  const end = Math.max(to, from + 1);
  return alert.periods.some(([start, stop]) => start < end && stop > from);
}

/**
 * Whether a selector concerns what the context describes: every field the context knows must agree,
 * and at least one must name it. Fields the context does not know are not held against it, so a
 * "route 5 at stop X" alert shows for route 5 and for stop X alike, but a stop-only alert is not a
 * route's.
 */
export function selectorMatches(selector: Selector, ctx: AlertContext): boolean {
  let named = false;
  for (const key of ["agency_id", "route_id", "route_type", "direction_id", "trip_id"] as const) {
    const want = selector[key];
    if (want === undefined) continue;
    const known = ctx[key];
    if (known === undefined || known === null) continue;
    if (known !== want) return false;
    named = true;
  }
  if (selector.stop_id !== undefined && ctx.stop_ids) {
    if (!ctx.stop_ids.has(selector.stop_id)) return false;
    named = true;
  }
  return named;
}

export function alertApplies(alert: AlertRecord, contexts: AlertContext[]): boolean {
  return alert.selectors.some((s) => contexts.some((ctx) => selectorMatches(s, ctx)));
}

/** The JSON an answer carries for an alert, with its periods in the given time zone. */
export function alertJson(alert: AlertRecord, timeZone: string) {
  const at = (secs: number) => (Number.isFinite(secs) ? formatInZone(timeZone, secs * 1000) : null);
  return {
    id: alert.id,
    active_periods: alert.periods.map(([start, end]) => ({ start: at(start), end: at(end) })),
    ...alert.fields,
  };
}
