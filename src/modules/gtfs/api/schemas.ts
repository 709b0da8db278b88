// The shapes of /v1 answers: one TypeBox schema per answer, used three ways — the route declares it
// (Elysia documents it, and Eden types the client from it), the handler's data is typed by it, and an
// answer is checked against it once, when it is built, before it is cached (src/http/contract.ts).
// Field names and meanings follow the GTFS reference; null where the feed left a field out.
import { Type as t } from "@sinclair/typebox";

const Text = t.Union([t.String(), t.Null()]);
const Int = t.Union([t.Integer(), t.Null()]);
const Cursor = t.Union([t.String(), t.Null()], {
  description: "Pass as `cursor` for the next page; null on the last page",
});

/** A page of a list: `data` and the cursor of the next page. */
const Page = <T extends ReturnType<typeof t.Object>>(item: T, description: string) =>
  t.Object({ data: t.Array(item), next_cursor: Cursor }, { description });

export const Feed = t.Object({
  id: t.Integer({ description: "Feed version id (for `import --rollback <id>`)" }),
  status: t.Union([t.Literal("active"), t.Literal("retired")]),
  active: t.Boolean(),
  publisher_name: Text,
  publisher_url: Text,
  feed_version: Text,
  feed_lang: Text,
  start_date: t.Union([t.String({ format: "date" }), t.Null()]),
  end_date: t.Union([t.String({ format: "date" }), t.Null()]),
  timezone: Text,
  row_counts: t.Union([t.Record(t.String(), t.Integer()), t.Null()], { description: "Rows read per file" }),
  imported_at: t.Union([t.String({ format: "date-time" }), t.Null()]),
  activated_at: t.Union([t.String({ format: "date-time" }), t.Null()]),
});

export const Agency = t.Object({
  agency_id: Text,
  agency_name: t.String(),
  agency_url: t.String(),
  agency_timezone: t.String(),
  agency_lang: Text,
  agency_phone: Text,
  agency_fare_url: Text,
  agency_email: Text,
});

export const Route = t.Object({
  route_id: t.String(),
  agency_id: Text,
  route_short_name: Text,
  route_long_name: Text,
  route_desc: Text,
  route_type: t.Integer({
    description: "GTFS route type (0 tram, 1 subway, 2 rail, 3 bus, …; extended types up to 1702)",
  }),
  route_url: Text,
  route_color: Text,
  route_text_color: Text,
  route_sort_order: Int,
});

export const RouteDetail = t.Composite([
  Route,
  t.Object({
    agency: t.Object({ agency_id: Text, agency_name: Text, agency_url: Text }),
    trip_count: t.Integer(),
    headsigns: t.Array(t.String(), { description: "The distinct headsigns of the route's trips" }),
  }),
]);

export const Stop = t.Object({
  stop_id: t.String(),
  stop_code: Text,
  stop_name: Text,
  stop_desc: Text,
  stop_lat: t.Union([t.Number({ minimum: -90, maximum: 90 }), t.Null()]),
  stop_lon: t.Union([t.Number({ minimum: -180, maximum: 180 }), t.Null()]),
  zone_id: Text,
  stop_url: Text,
  location_type: t.Integer({
    minimum: 0,
    maximum: 4,
    description: "0 stop/platform, 1 station, 2 entrance, 3 node, 4 boarding area",
  }),
  parent_station: Text,
  stop_timezone: Text,
  wheelchair_boarding: Int,
  platform_code: Text,
});

export const NearbyStop = t.Composite([
  Stop,
  t.Object({ distance_m: t.Number({ description: "Haversine distance, metres, 0.1 m" }) }),
]);

export const StopDetail = t.Composite([
  Stop,
  t.Object({
    parent: t.Union([Stop, t.Null()], { description: "The stop's station, or null" }),
    children: t.Array(Stop, { description: "A station's platforms, entrances, nodes and boarding areas" }),
  }),
]);

export const Departure = t.Object({
  trip_id: t.String(),
  route_id: t.String(),
  route_short_name: Text,
  route_long_name: Text,
  headsign: Text,
  stop_id: t.String({ description: "The stop (or, on a station's board, the platform) it departs from" }),
  stop_sequence: t.Integer(),
  service_date: t.String({ format: "date", description: "The service day the trip belongs to" }),
  direction_id: Int,
  departure_time: t.Union([t.String(), t.Null()], {
    description: "GTFS time on the service day; may exceed 24:00:00. Null only for a trip realtime added",
  }),
  departure: t.Union([t.String({ format: "date-time" }), t.Null()], {
    description: "The scheduled instant, with the feed's UTC offset at it; null only for a trip realtime added",
  }),
  start_time: t.Union([t.String(), t.Null()], {
    description: "A frequency-based trip's instance: its first departure (GTFS-Realtime's start_time)",
  }),
  frequency_based: t.Boolean(),
  exact_times: t.Union([t.Boolean(), t.Null()], { description: "Frequency-based trips: whether times are exact" }),
  realtime: t.Optional(
    t.Union(
      [
        t.Object({
          departure: t.Union([t.String({ format: "date-time" }), t.Null()], { description: "Expected" }),
          delay_seconds: Int,
          status: t.String({ description: "SCHEDULED, SKIPPED, NO_DATA or ADDED" }),
          updated_at: t.String({ format: "date-time" }),
        }),
        t.Null(),
      ],
      { description: "What the TripUpdates snapshot says; null when it says nothing about this trip" },
    ),
  ),
});

const Translation = t.Object({ language: Text, text: t.String() });
const Selector = t.Object({
  agency_id: t.Optional(t.String()),
  route_id: t.Optional(t.String()),
  route_type: t.Optional(t.Integer()),
  direction_id: t.Optional(t.Integer()),
  trip_id: t.Optional(t.String()),
  stop_id: t.Optional(t.String()),
});

/** A GTFS-Realtime service alert with every translation (names as in gtfs-realtime.proto). */
export const Alert = t.Object({
  id: t.String(),
  active_periods: t.Array(
    t.Object({
      start: t.Union([t.String({ format: "date-time" }), t.Null()]),
      end: t.Union([t.String({ format: "date-time" }), t.Null()]),
    }),
  ),
  cause: Text,
  effect: Text,
  severity_level: Text,
  informed_entities: t.Array(Selector),
  header_text: t.Array(Translation),
  description_text: t.Array(Translation),
  url: t.Array(Translation),
  tts_header_text: t.Array(Translation),
  tts_description_text: t.Array(Translation),
  cause_detail: t.Array(Translation),
  effect_detail: t.Array(Translation),
});

const SourceStatus = t.Object({
  status: t.Union([t.Literal("current"), t.Literal("stale"), t.Literal("unavailable"), t.Literal("disabled")]),
  updated_at: t.Union([t.String({ format: "date-time" }), t.Null()], {
    description: "When the snapshot was produced (its header timestamp)",
  }),
});
const RealtimeSources = t.Object(
  { trip_updates: SourceStatus, alerts: SourceStatus },
  { description: "How the realtime sources stand; absent where the server runs without realtime" },
);

export const Board = t.Object({
  stop: t.Object({ stop_id: t.String(), stop_name: Text, location_type: t.Integer(), parent_station: Text }),
  stop_ids: t.Array(t.String(), { description: "The stops whose departures are listed (a station's platforms too)" }),
  at: t.String({ format: "date-time" }),
  window_minutes: t.Integer(),
  timezone: t.String(),
  departures: t.Array(Departure),
  alerts: t.Optional(t.Array(Alert, { description: "Alerts for the board's stops or its departures" })),
  realtime_sources: t.Optional(RealtimeSources),
});

const StopTimeRealtime = t.Object(
  {
    arrival: t.Union([t.String({ format: "date-time" }), t.Null()]),
    departure: t.Union([t.String({ format: "date-time" }), t.Null()]),
    delay_seconds: Int,
    status: t.String({ description: "SCHEDULED, SKIPPED, NO_DATA or ADDED" }),
    updated_at: t.String({ format: "date-time" }),
  },
  { description: "Expected times from the TripUpdates snapshot" },
);
const TripRealtime = t.Union(
  [t.Object({ status: t.String(), updated_at: t.Union([t.String({ format: "date-time" }), t.Null()]) }), t.Null()],
  { description: "The trip's realtime status (SCHEDULED, CANCELED, DELETED, ADDED); null without news of it" },
);
const Vehicle = t.Union(
  [
    t.Object({
      vehicle_id: Text,
      label: Text,
      latitude: t.Number(),
      longitude: t.Number(),
      bearing: t.Union([t.Number(), t.Null()]),
      speed: t.Union([t.Number(), t.Null()]),
      stop_id: Text,
      current_stop_sequence: Int,
      timestamp: t.Union([t.String({ format: "date-time" }), t.Null()]),
    }),
    t.Null(),
  ],
  { description: "Where the vehicle serving the trip was last seen (VehiclePositions)" },
);

export const TripStopTime = t.Object({
  stop_id: t.String(),
  stop_name: Text,
  stop_sequence: t.Integer(),
  arrival_time: Text,
  departure_time: Text,
  arrival: t.Union([t.String({ format: "date-time" }), t.Null()]),
  departure: t.Union([t.String({ format: "date-time" }), t.Null()]),
  stop_headsign: Text,
  pickup_type: Int,
  drop_off_type: Int,
  realtime: t.Optional(t.Union([StopTimeRealtime, t.Null()])),
});

export const Trip = t.Object({
  trip_id: t.String(),
  route_id: t.String(),
  service_id: t.String(),
  trip_headsign: Text,
  trip_short_name: Text,
  direction_id: Int,
  block_id: Text,
  shape_id: Text,
  wheelchair_accessible: Int,
  bikes_allowed: Int,
  frequency_based: t.Boolean(),
  route_short_name: Text,
  route_long_name: Text,
  route_type: t.Integer(),
  service_date: t.String({ format: "date" }),
  timezone: t.String(),
  frequencies: t.Array(
    t.Object({
      start_time: t.String(),
      end_time: t.String(),
      headway_secs: t.Integer(),
      exact_times: t.Boolean(),
      first_departure: t.Union([t.String({ format: "date-time" }), t.Null()]),
    }),
  ),
  stop_times: t.Array(TripStopTime, { description: "A frequency-based trip's first instance" }),
  realtime: t.Optional(TripRealtime),
  vehicle: t.Optional(Vehicle),
  alerts: t.Optional(t.Array(Alert)),
  realtime_sources: t.Optional(RealtimeSources),
});

export const FeedList = Page(Feed, "Active and retained feed versions, active first");
export const AgencyList = Page(Agency, "A page of agencies");
export const RouteList = Page(Route, "A page of routes");
export const StopList = Page(Stop, "A page of stops");
export const NearbyStopList = Page(NearbyStop, "Stops and stations, nearest first (one page)");
export const RouteAnswer = t.Object({ data: RouteDetail });
export const StopAnswer = t.Object({ data: StopDetail });
export const BoardAnswer = t.Object({ data: Board });
/** A trip that only the realtime feed knows (GTFS-Realtime ADDED / NEW): no timetable, expected times. */
export const AddedTrip = t.Object({
  trip_id: t.String(),
  route_id: Text,
  route_short_name: Text,
  route_long_name: Text,
  route_type: Int,
  trip_headsign: Text,
  direction_id: Int,
  service_date: t.String({ format: "date" }),
  timezone: t.String(),
  frequencies: t.Array(t.Never()),
  realtime: TripRealtime,
  stop_times: t.Array(
    t.Object({
      stop_id: t.String(),
      stop_sequence: t.Integer(),
      arrival_time: t.Null(),
      departure_time: t.Null(),
      arrival: t.Null(),
      departure: t.Null(),
      realtime: t.Union([StopTimeRealtime, t.Null()]),
    }),
  ),
  vehicle: Vehicle,
  alerts: t.Array(Alert),
  realtime_sources: RealtimeSources,
});
export const TripAnswer = t.Object({ data: Trip });
export const AddedTripAnswer = t.Object({ data: AddedTrip });
export const AlertList = t.Object(
  { data: t.Array(Alert), next_cursor: t.Null(), realtime_sources: t.Object({ alerts: SourceStatus }) },
  { description: "Alerts active at `at`, filtered" },
);
