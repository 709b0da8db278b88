// Which feed version answers a request. An import in another process must take effect at once:
// activation NOTIFYs, and servers either memoise the version until that notification or read the
// row per request. Cache keys include the version id, so switching versions is the invalidation.
import { CompiledQuery, type Kysely, sql } from "kysely";
import pg from "pg";
import type { Database } from "../../../db/database";
import { ApiError } from "../../../http/errors";
import { FEED_CHANGED_CHANNEL } from "../domain/feed-version";

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
 * Through a transaction-mode pooler a statement prepared on one server session is missing (or already
 * there) on the next, so there they run unnamed, planned each time.
 */
export type HotQuery = <R>(name: string, text: string, values: unknown[]) => Promise<R[]>;

export function hotQuery(database: Database): HotQuery {
  const pool = database.pool;
  if (pool && database.transactionPooling)
    return async <R>(_name: string, text: string, values: unknown[]) => (await pool.query(text, values)).rows as R[];
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

/** Upper bound on how long a memoised active version is trusted, should a notification be lost. */
const MEMO_MAX_AGE_MS = 10_000;

/**
 * The active version for each request without a database round trip: memoised while a LISTEN
 * connection is up, and forgotten on the NOTIFY that activation sends inside its switching
 * transaction. Without the listener (embedded database, a transaction-mode pooler, or reconnecting)
 * every request reads the row.
 */
export interface ActiveFeedResolver {
  (): Promise<ActiveFeed>;
  /** The active version when it is known without a query (memoised and listening); else undefined. */
  current(): ActiveFeed | undefined;
}

export function activeFeedResolver(database: Database, query: HotQuery): ActiveFeedResolver {
  const pool = database.pool;
  // LISTEN is session state, which a transaction-mode pooler does not keep: read the row per request.
  if (!pool || database.transactionPooling) return Object.assign(() => activeFeed(query), { current: () => undefined });
  let memo: { feed: ActiveFeed; at: number } | undefined;
  let generation = 0;
  let listening = false;
  let retryMs = 500;

  const forget = () => {
    generation++;
    memo = undefined;
  };
  const listen = () => {
    const client = new pg.Client({ ...pool.options, application_name: "gtfs-feed-listener" });
    const retry = (err?: Error & { code?: string }) => {
      listening = false;
      forget();
      client.end().catch(() => {});
      if (err?.code === "3D000") return; // the database is gone for good (dropped)
      setTimeout(listen, retryMs).unref?.();
      retryMs = Math.min(retryMs * 2, MEMO_MAX_AGE_MS);
    };
    client.on("notification", forget);
    client.on("error", retry);
    client
      .connect()
      .then(() => client.query(`listen ${FEED_CHANGED_CHANNEL}`))
      .then(() => {
        // Never keep the process alive just for this connection.
        (client as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
        forget();
        listening = true;
        retryMs = 500;
      })
      .catch(retry);
  };
  listen();

  const current = () => (listening && memo && Date.now() - memo.at < MEMO_MAX_AGE_MS ? memo.feed : undefined);
  const resolve = async () => {
    const known = current();
    if (known) return known;
    const seen = generation;
    const feed = await activeFeed(query);
    if (listening && seen === generation) memo = { feed, at: Date.now() };
    return feed;
  };
  return Object.assign(resolve, { current });
}
