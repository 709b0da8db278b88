import { type Kysely, sql } from "kysely";

// The GTFS feed catalogue. Each imported feed version lives in its own schema (gtfs_f<id>, tables from
// src/modules/gtfs/import/tables.ts); this table says which one is served. Exactly one row is
// 'active' (partial unique index), and switching versions is one UPDATE pair in one transaction.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table gtfs_feed (
      id serial primary key,
      schema_name text not null unique,
      status text not null check (status in ('loading', 'active', 'retired', 'failed')),
      layout integer not null,
      source text not null,
      publisher_name text,
      publisher_url text,
      feed_version text,
      feed_lang text,
      start_date date,
      end_date date,
      timezone text,
      max_departure_secs integer,
      row_counts jsonb,
      warnings jsonb,
      error text,
      started_at timestamptz not null default now(),
      imported_at timestamptz,
      activated_at timestamptz
    )`.execute(db);
  await sql`create unique index gtfs_feed_one_active on gtfs_feed ((true)) where status = 'active'`.execute(db);
  await sql`create index gtfs_feed_status on gtfs_feed (status, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const rows = await sql<{ schema_name: string }>`select schema_name from gtfs_feed`.execute(db);
  for (const r of rows.rows) await sql`drop schema if exists ${sql.id(r.schema_name)} cascade`.execute(db);
  await sql`drop table if exists gtfs_feed`.execute(db);
}
