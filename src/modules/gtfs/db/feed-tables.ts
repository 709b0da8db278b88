// Tables of one feed version, created in that version's own schema (gtfs_f<id>) by the importer.
// A schema per version (rather than a feed_version column on every table) means: COPY goes into fresh
// unindexed tables, indexes are built once after the load without touching the served version,
// retiring a version is DROP SCHEMA (no bulk DELETE, no bloat), and queries never filter by version.
import { BOARD_BUCKET_SECS, FREQUENCY_HOUR } from "../domain/feed-version";

/** Columns loaded by COPY, in order, per table. Derived columns are filled by the importer. */
export const TABLE_COLUMNS = {
  agency: [
    "agency_id",
    "agency_name",
    "agency_url",
    "agency_timezone",
    "agency_lang",
    "agency_phone",
    "agency_fare_url",
    "agency_email",
  ],
  stops: [
    "stop_idx",
    "stop_id",
    "stop_code",
    "stop_name",
    "stop_desc",
    "stop_lat",
    "stop_lon",
    "zone_id",
    "stop_url",
    "location_type",
    "parent_station",
    "stop_timezone",
    "wheelchair_boarding",
    "level_id",
    "platform_code",
    "search_name",
    "geo",
  ],
  routes: [
    "route_id",
    "agency_id",
    "route_short_name",
    "route_long_name",
    "route_desc",
    "route_type",
    "route_url",
    "route_color",
    "route_text_color",
    "route_sort_order",
  ],
  trips: [
    "trip_idx",
    "route_id",
    "service_id",
    "trip_id",
    "trip_headsign",
    "trip_short_name",
    "direction_id",
    "block_id",
    "shape_id",
    "wheelchair_accessible",
    "bikes_allowed",
  ],
  stop_times: [
    "trip_idx",
    "arrival_secs",
    "departure_secs",
    "stop_idx",
    "stop_sequence",
    "stop_headsign",
    "pickup_type",
    "drop_off_type",
    "shape_dist_traveled",
    "timepoint",
  ],
  calendar: [
    "service_id",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "start_date",
    "end_date",
  ],
  calendar_dates: ["service_id", "date", "exception_type"],
  service_dates: ["service_id", "date"],
  frequencies: ["trip_idx", "start_secs", "end_secs", "headway_secs", "exact_times"],
  transfers: [
    "from_stop_id",
    "to_stop_id",
    "from_route_id",
    "to_route_id",
    "from_trip_id",
    "to_trip_id",
    "transfer_type",
    "min_transfer_time",
  ],
  stop_departures: ["stop_idx", "hour", "departure_secs", "trip_idx", "stop_sequence", "stop_headsign"],
  shapes: ["shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence", "shape_dist_traveled"],
  feed_info: [
    "feed_publisher_name",
    "feed_publisher_url",
    "feed_lang",
    "default_lang",
    "feed_start_date",
    "feed_end_date",
    "feed_version",
    "feed_contact_email",
    "feed_contact_url",
  ],
} as const;

export type FeedTable = keyof typeof TABLE_COLUMNS;

const q = (schema: string) => `"${schema}"`;

export function createTablesSql(schema: string): string[] {
  const s = q(schema);
  // Ids compare bytewise (collate "C"): faster index builds and lookups, and ids are not prose.
  const id = 'text collate "C"';
  return [
    `create schema ${s}`,
    `create table ${s}.agency (agency_id ${id}, agency_name text not null, agency_url text not null,
      agency_timezone text not null, agency_lang text, agency_phone text, agency_fare_url text, agency_email text)`,
    // stop_idx / trip_idx: dense integer keys given by the importer, so the big stop_times table and its
    // indexes hold integers instead of text ids.
    `create table ${s}.stops (stop_idx integer not null, stop_id ${id} not null, stop_code text, stop_name text,
      stop_desc text, stop_lat double precision, stop_lon double precision, zone_id text, stop_url text,
      location_type smallint not null default 0, parent_station ${id}, stop_timezone text,
      wheelchair_boarding smallint, level_id text, platform_code text,
      search_name text collate "C" not null default '', geo point,
      has_frequencies boolean not null default false)`,
    `create table ${s}.routes (route_id ${id} not null, agency_id ${id}, route_short_name text, route_long_name text,
      route_desc text, route_type integer not null, route_url text, route_color text, route_text_color text,
      route_sort_order integer)`,
    `create table ${s}.trips (trip_idx integer not null, route_id ${id} not null, service_id ${id} not null,
      trip_id ${id} not null, trip_headsign text, trip_short_name text, direction_id smallint, block_id text,
      shape_id text, wheelchair_accessible smallint, bikes_allowed smallint,
      frequency_based boolean not null default false)`,
    // stop_times: stopTimesTableSql(), created in the transaction that loads it.
    stopDeparturesTableSql(schema),
    // Boards look rows up by the (stop_idx, hour) key alone; ANALYZE of this table is on the import's critical path.
    `alter table ${s}.stop_departures alter column stop_idx set statistics 10, alter column hour set statistics 10`,
    `create table ${s}.calendar (service_id ${id} not null, monday smallint not null, tuesday smallint not null,
      wednesday smallint not null, thursday smallint not null, friday smallint not null, saturday smallint not null,
      sunday smallint not null, start_date date not null, end_date date not null)`,
    `create table ${s}.calendar_dates (service_id ${id} not null, date date not null, exception_type smallint not null)`,
    `create table ${s}.service_dates (service_id ${id} not null, date date not null)`,
    `create table ${s}.frequencies (trip_idx integer not null, start_secs integer not null, end_secs integer not null,
      headway_secs integer not null, exact_times smallint not null default 0)`,
    `create table ${s}.transfers (from_stop_id ${id}, to_stop_id ${id}, from_route_id ${id}, to_route_id ${id},
      from_trip_id ${id}, to_trip_id ${id}, transfer_type smallint not null, min_transfer_time integer)`,
    `create table ${s}.shapes (shape_id ${id} not null, shape_pt_lat double precision not null,
      shape_pt_lon double precision not null, shape_pt_sequence integer not null, shape_dist_traveled double precision)`,
    `create table ${s}.feed_info (feed_publisher_name text, feed_publisher_url text, feed_lang text, default_lang text,
      feed_start_date date, feed_end_date date, feed_version text, feed_contact_email text, feed_contact_url text)`,
  ];
}

/**
 * stop_times, created by the importer in the same transaction as its COPY (LoadSession.copy's
 * `create`), which lets PostgreSQL write the rows already frozen.
 */
export function stopTimesTableSql(schema: string): string[] {
  const s = q(schema);
  return [
    `create table ${s}.stop_times (trip_idx integer not null, arrival_secs integer, departure_secs integer,
      stop_idx integer not null, stop_sequence integer not null, stop_headsign text, pickup_type smallint,
      drop_off_type smallint, shape_dist_traveled double precision, timepoint smallint)`,
    // The planner needs only coarse statistics here; a small target keeps ANALYZE of millions of rows quick.
    `alter table ${s}.stop_times alter column trip_idx set statistics 20, alter column stop_idx set statistics 20`,
  ];
}

/**
 * Departure boards: per stop and hour of the service day, the departures (pickup possible, not
 * frequency-based) as parallel arrays sorted by time; and per stop one row with hour = FREQUENCY_HOUR
 * holding frequency-based trips' stop times as offsets. Built by the importer (import/board-buckets.ts).
 */
export function stopDeparturesTableSql(schema: string): string {
  return `create table ${q(schema)}.stop_departures (stop_idx integer not null, hour smallint not null,
    departure_secs integer[] not null, trip_idx integer[] not null, stop_sequence integer[] not null,
    stop_headsign text[])`;
}

export function stopDeparturesIndexSql(schema: string): string {
  return `create unique index stop_departures_pk on ${q(schema)}.stop_departures (stop_idx, hour) with (fillfactor = 100)`;
}

/**
 * stop_departures from stop_times in SQL: for feeds whose times the importer interpolated in the
 * database (the in-memory build only sees times given in the file) and for feeds imported before
 * LAYOUT 2. Same rows as BoardCollector's (ties beyond (departure_secs, trip_idx) may be ordered differently).
 */
export function buildStopDeparturesSql(schema: string): string {
  const s = q(schema);
  const order = "order by departure_secs, trip_idx, stop_sequence";
  const offsets = "order by trip_idx, stop_sequence";
  const headsigns = (o: string) =>
    `case when bool_or(stop_headsign is not null) then array_agg(stop_headsign ${o}) end`;
  // Joins rather than correlated subqueries: this may run before stop_times has any index.
  return `insert into ${s}.stop_departures (${TABLE_COLUMNS.stop_departures.join(", ")})
    with frequency_trips as (select distinct trip_idx from ${s}.frequencies),
    boardable as (
      select st.stop_idx, st.departure_secs, st.trip_idx, st.stop_sequence, st.stop_headsign,
        ft.trip_idx is not null as frequency_based
      from ${s}.stop_times st left join frequency_trips ft on ft.trip_idx = st.trip_idx
      where st.departure_secs is not null and st.pickup_type is distinct from 1
    ),
    first_departures as (
      select distinct on (st.trip_idx) st.trip_idx, st.departure_secs as first_secs
      from ${s}.stop_times st join frequency_trips ft on ft.trip_idx = st.trip_idx
      order by st.trip_idx, st.stop_sequence
    )
    select stop_idx, (departure_secs / ${BOARD_BUCKET_SECS})::smallint, array_agg(departure_secs ${order}),
      array_agg(trip_idx ${order}), array_agg(stop_sequence ${order}), ${headsigns(order)}
    from boardable where not frequency_based
    group by stop_idx, departure_secs / ${BOARD_BUCKET_SECS}
    union all
    select stop_idx, ${FREQUENCY_HOUR}::smallint, array_agg(offset_secs ${offsets}), array_agg(trip_idx ${offsets}),
      array_agg(stop_sequence ${offsets}), ${headsigns(offsets)}
    from (
      select b.*, b.departure_secs - f.first_secs as offset_secs
      from boardable b join first_departures f on f.trip_idx = b.trip_idx
      where b.frequency_based
    ) f
    group by stop_idx
    order by 1, 2`;
}

export interface FeedIndexes {
  /** Tables loaded before stop_times: built while stop_times loads. */
  referenceTables: string[];
  /** stop_times and the data derived after it. */
  afterLoad: string[];
  /** The departure boards table, once loaded. */
  boards: string[];
}

/**
 * Indexes, built after each table's bulk load, on separate connections where there are several.
 * A version never changes after its load, so its btrees are packed full where they are big.
 */
export function createIndexesSql(schema: string, options: { stopTimesInTripOrder: boolean }): FeedIndexes {
  const s = q(schema);
  return {
    referenceTables: [
      `create unique index trips_pk on ${s}.trips (trip_id)`,
      `create unique index trips_idx on ${s}.trips (trip_idx)`,
      `create unique index stops_pk on ${s}.stops (stop_id)`,
      `create unique index stops_idx on ${s}.stops (stop_idx)`,
      `create index stops_parent on ${s}.stops (parent_station) where parent_station is not null`,
      `create index stops_geo on ${s}.stops using gist (geo)`,
      `create index stops_search on ${s}.stops (search_name)`,
      `create unique index routes_pk on ${s}.routes (route_id)`,
      `create index routes_agency on ${s}.routes (agency_id)`,
      `create index frequencies_trip on ${s}.frequencies (trip_idx)`,
      `create index shapes_pk on ${s}.shapes (shape_id, shape_pt_sequence)`,
      `create index calendar_dates_service on ${s}.calendar_dates (service_id, date)`,
    ],
    afterLoad: [
      // A trip's stop times. When the file listed each trip's stops together, trips in trips.txt order
      // and sequences increasing (checked while loading, so no duplicates), rows are physically in trip
      // order and a tiny BRIN index finds them; otherwise a unique btree, which also rejects duplicate
      // (trip_id, stop_sequence).
      options.stopTimesInTripOrder
        ? `create index stop_times_trip on ${s}.stop_times using brin (trip_idx) with (pages_per_range = 4)`
        : `create unique index stop_times_trip on ${s}.stop_times (trip_idx, stop_sequence) with (fillfactor = 100)`,
      `create unique index service_dates_pk on ${s}.service_dates (service_id, date)`,
    ],
    // The departure boards table arrives nearly sorted by its key (two streams, each sorted).
    boards: [stopDeparturesIndexSql(schema)],
  };
}
