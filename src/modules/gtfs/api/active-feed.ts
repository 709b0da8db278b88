// Which feed version answers a request. Read on every request (one indexed row) so an import in
// another process takes effect at once; cache keys include the version id, so switching versions
// is the cache invalidation.
import { CompiledQuery, type Kysely, sql } from "kysely";
import type { Database } from "../../../db/database";
import { ApiError } from "../../../http/errors";

export interface ActiveFeed {
  id: number;
  schema: string;
  timezone: string;
  maxDepartureSecs: number;
}

// biome-ignore lint/suspicious/noExplicitAny: queries run on per-version schemas kysely does not type
export type AnyDb = Kysely<any>;

/**
 * Hot-path queries as named prepared statements on PostgreSQL: planning the board query costs more
 * than running it, and a prepared statement is planned once per connection. Names must be unique per
 * text, so callers include the feed schema in the name. PGlite runs the same text through kysely.
 */
export type HotQuery = <R>(name: string, text: string, values: unknown[]) => Promise<R[]>;

export function hotQuery(database: Database): HotQuery {
  const pool = database.pool;
  if (pool)
    return async <R>(name: string, text: string, values: unknown[]) =>
      (await pool.query({ name, text, values })).rows as R[];
  const db = database.db;
  return async <R>(_name: string, text: string, values: unknown[]) =>
    (await db.executeQuery<R>(CompiledQuery.raw(text, values))).rows as R[];
}

export async function activeFeed(query: HotQuery): Promise<ActiveFeed> {
  const rows = await query<{ id: number; schema_name: string; timezone: string; max_departure_secs: number }>(
    "gtfs_active_feed",
    "select id, schema_name, timezone, max_departure_secs from gtfs_feed where status = 'active'",
    [],
  );
  const row = rows[0];
  if (!row) throw new ApiError(503, "NO_FEED", "no GTFS feed has been imported yet (run `import <feed>`)");
  if (!/^gtfs_f\d+$/.test(row.schema_name)) throw new Error(`unexpected feed schema name ${row.schema_name}`);
  return {
    id: row.id,
    schema: row.schema_name,
    timezone: row.timezone ?? "UTC",
    maxDepartureSecs: row.max_departure_secs ?? 0,
  };
}

/** `"gtfs_f7".stops` — the schema name is validated above, so raw interpolation is safe. */
export function table(feed: ActiveFeed, name: string) {
  return sql.raw(`"${feed.schema}".${name}`);
}
