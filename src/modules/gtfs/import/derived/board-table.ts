// stop_departures, the departure boards' table: its definition, its index, and its build in SQL from
// stop_times (for feeds whose times were interpolated in the database, and for the migration that
// brought older versions to layout 2). The usual build is in memory (board-buckets.ts, load-boards.ts).
import { BOARD_BUCKET_SECS, FREQUENCY_HOUR } from "../../domain/feed-version";
import type { FeedTable } from "../files/feed-file";

export const STOP_DEPARTURES_COLUMNS = [
  "stop_idx",
  "hour",
  "departure_secs",
  "trip_idx",
  "stop_sequence",
  "stop_headsign",
] as const;

const createSql = (s: string) => `create table ${s}.stop_departures (stop_idx integer not null,
  hour smallint not null, departure_secs integer[] not null, trip_idx integer[] not null,
  stop_sequence integer[] not null, stop_headsign text[])`;
const indexSql = (s: string) =>
  `create unique index stop_departures_pk on ${s}.stop_departures (stop_idx, hour) with (fillfactor = 100)`;

/**
 * Per stop and hour of the service day, the departures (pickup possible, not frequency-based) as
 * parallel arrays sorted by time; and per stop one row with hour = FREQUENCY_HOUR holding
 * frequency-based trips' stop times as offsets.
 */
export const stopDeparturesTable: FeedTable = {
  name: "stop_departures",
  copyColumns: STOP_DEPARTURES_COLUMNS,
  create: (s) => [
    createSql(s),
    // Boards look rows up by the (stop_idx, hour) key alone; ANALYZE of this table is on the import's critical path.
    `alter table ${s}.stop_departures alter column stop_idx set statistics 10, alter column hour set statistics 10`,
  ],
  // The table arrives nearly sorted by its key (two streams, each sorted).
  indexes: (s) => [indexSql(s)],
  // Not the arrays: element statistics over millions of elements take seconds and no query uses them.
  analyze: ["stop_idx", "hour"],
};

// The table and its index alone, for the migration that gave versions imported before layout 2 theirs.
export const stopDeparturesTableSql = (schema: string) => createSql(`"${schema}"`);
export const stopDeparturesIndexSql = (schema: string) => indexSql(`"${schema}"`);

/**
 * stop_departures from stop_times in SQL: for feeds whose times the importer interpolated in the
 * database (the in-memory build only sees times given in the file) and for feeds imported before
 * LAYOUT 2. Same rows as BoardCollector's (ties beyond (departure_secs, trip_idx) may be ordered differently).
 */
export function buildStopDeparturesSql(schema: string): string {
  const s = `"${schema}"`;
  const order = "order by departure_secs, trip_idx, stop_sequence";
  const offsets = "order by trip_idx, stop_sequence";
  const headsigns = (o: string) =>
    `case when bool_or(stop_headsign is not null) then array_agg(stop_headsign ${o}) end`;
  // Joins rather than correlated subqueries: this may run before stop_times has any index.
  return `insert into ${s}.stop_departures (${STOP_DEPARTURES_COLUMNS.join(", ")})
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
