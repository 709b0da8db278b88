import { type Kysely, sql } from "kysely";
import {
  buildStopDeparturesSql,
  stopDeparturesIndexSql,
  stopDeparturesTableSql,
} from "../../modules/gtfs/import/derived/board-table";

// Feed layout 2: departure boards read a per-stop, per-hour table (stop_departures) instead of a
// B-tree over all stop times. Feed versions imported before keep serving after an upgrade: their
// board table is built here from their stop_times (a few seconds per million stop times). Their old
// index stays, so a rollback to the previous release still finds it.
export async function up(db: Kysely<unknown>): Promise<void> {
  // A batch step over millions of rows: not bounded by the API's statement timeout (this transaction only).
  await sql`set local statement_timeout = 0`.execute(db);
  const feeds = await sql<{ id: number; schema_name: string }>`
    select id, schema_name from gtfs_feed where layout = 1 and status in ('active', 'retired') order by id`.execute(db);
  for (const feed of feeds.rows) {
    await sql.raw(stopDeparturesTableSql(feed.schema_name)).execute(db);
    await sql.raw(buildStopDeparturesSql(feed.schema_name)).execute(db);
    await sql.raw(stopDeparturesIndexSql(feed.schema_name)).execute(db);
    await sql.raw(`analyze "${feed.schema_name}".stop_departures`).execute(db);
    await sql`update gtfs_feed set layout = 2 where id = ${feed.id}`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const feeds = await sql<{ id: number; schema_name: string }>`
    select id, schema_name from gtfs_feed where layout = 2`.execute(db);
  for (const feed of feeds.rows) {
    // The previous layout's board index (versions imported by this release never had it).
    await sql
      .raw(`create index if not exists stop_times_board on "${feed.schema_name}".stop_times (stop_idx, departure_secs)`)
      .execute(db);
    await sql.raw(`drop table if exists "${feed.schema_name}".stop_departures`).execute(db);
    await sql`update gtfs_feed set layout = 1 where id = ${feed.id}`.execute(db);
  }
}
