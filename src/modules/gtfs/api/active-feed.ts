// Which feed version answers a request. Read on every request (one indexed row) so an import in
// another process takes effect at once; cache keys include the version id, so switching versions
// is the cache invalidation.
import { type Kysely, sql } from "kysely";
import { ApiError } from "../../../http/errors";

export interface ActiveFeed {
  id: number;
  schema: string;
  timezone: string;
  maxDepartureSecs: number;
}

// biome-ignore lint/suspicious/noExplicitAny: queries run on per-version schemas kysely does not type
export type AnyDb = Kysely<any>;

export async function activeFeed(db: AnyDb): Promise<ActiveFeed> {
  const { rows } = await sql<{ id: number; schema_name: string; timezone: string; max_departure_secs: number }>`
    select id, schema_name, timezone, max_departure_secs from gtfs_feed where status = 'active'`.execute(db);
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
