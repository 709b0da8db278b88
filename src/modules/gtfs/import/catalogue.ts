// The feed catalogue, gtfs_feed: every statement on it is here. A version is opened ('loading') with an
// empty schema, recorded once loaded, activated in one transaction (the active one retired), pruned
// beyond what is kept; a failed one is discarded ('failed', its schema dropped), and rollback activates
// a retained one again. One import runs at a time per database (an advisory lock), so a 'loading' row
// found at the start is a killed import's, and is failed. Nothing runs on a database that migrations
// have not brought up to this release.
import { pendingMigrations } from "../../../db/migrate";
import { FEED_CHANGED_CHANNEL, feedSchemaName, LAYOUT } from "../domain/feed-version";
import { type ImportTarget, openSession } from "./connections";
import type { FeedMeta } from "./files/feed-state";
import type { WarningGroup } from "./issues";
import type { LoadSession } from "./load-session";

type Session = Pick<LoadSession, "query">;

const IMPORT_LOCK = 0x67746673; // "gtfs": one import at a time per database

export class ImportBusyError extends Error {
  override name = "ImportBusyError";
}

export class NotMigratedError extends Error {
  override name = "NotMigratedError";
}

/**
 * Refuses a database whose schema is behind this release (never migrated, or migrated by an older one),
 * saying what to run. It does not migrate it: on a server database, migrations are a step of the deploy
 * (the migrate Job, before new pods start), and an import Job of a new release that migrated by itself
 * during a rolling deploy would change the schema under the pods of the old one. (The embedded database
 * belongs to the one process that uses it: src/main.ts migrates it before importing.)
 */
export async function requireMigrated(target: ImportTarget): Promise<void> {
  const pending = await pendingMigrations(target.database.db);
  if (!pending.length) return;
  const names = pending.length > 3 ? `${pending.slice(0, 3).join(", ")}, …` : pending.join(", ");
  throw new NotMigratedError(
    `the database is not migrated to this release (${pending.length} migration${pending.length === 1 ? "" : "s"} pending: ${names}); run \`npm run migrate\` (the \`migrate\` command of the image), then import again`,
  );
}

/** Takes the import lock for this session (the embedded database runs one process: nothing to take). */
export async function lockImports(session: LoadSession): Promise<void> {
  if (session.kind !== "postgres") return;
  const [lock] = await session.query<{ ok: boolean }>("select pg_try_advisory_lock($1) as ok", [IMPORT_LOCK]);
  if (!lock?.ok) throw new ImportBusyError("another import is running against this database");
}

export async function unlockImports(session: LoadSession): Promise<void> {
  if (session.kind === "postgres") await session.query("select pg_advisory_unlock_all()").catch(() => {});
}

/** Versions left 'loading' by a killed import (we hold the import lock, so none is running). */
export async function failInterrupted(session: Session): Promise<void> {
  const stale = await session.query<{ id: number; schema_name: string }>(
    "select id, schema_name from gtfs_feed where status = 'loading'",
  );
  for (const f of stale) {
    await session.query(`drop schema if exists "${f.schema_name}" cascade`);
    await session.query("update gtfs_feed set status = 'failed', error = 'import interrupted' where id = $1", [f.id]);
  }
}

/** A new 'loading' version from `source`; its schema is named after its id. */
export async function openVersion(session: Session, source: string): Promise<{ feedId: number; schema: string }> {
  const [row] = await session.query<{ id: number }>(
    "insert into gtfs_feed (schema_name, status, layout, source) values ('pending-' || gen_random_uuid(), 'loading', $1, $2) returning id",
    [LAYOUT, source],
  );
  const feedId = row!.id;
  const schema = feedSchemaName(feedId);
  await session.query("update gtfs_feed set schema_name = $1 where id = $2", [schema, feedId]);
  return { feedId, schema };
}

/** What a loaded version records about itself (GET /v1/feeds shows it). */
export interface VersionRecord {
  meta: FeedMeta;
  maxDepartureSecs: number;
  rowCounts: Record<string, number>;
  warnings: WarningGroup[];
}

export async function recordVersion(session: Session, feedId: number, r: VersionRecord): Promise<void> {
  await session.query(
    `update gtfs_feed set publisher_name = $2, publisher_url = $3, feed_version = $4, feed_lang = $5,
       start_date = $6, end_date = $7, timezone = $8, max_departure_secs = $9, row_counts = $10,
       warnings = $11, imported_at = now() where id = $1`,
    [
      feedId,
      r.meta.publisherName,
      r.meta.publisherUrl,
      r.meta.version,
      r.meta.lang,
      r.meta.startDate,
      r.meta.endDate,
      r.meta.timezone,
      r.maxDepartureSecs,
      JSON.stringify(r.rowCounts),
      JSON.stringify(r.warnings),
    ],
  );
}

/** Serves `feedId` from now on: the previous active version is retired in the same transaction. */
export async function activateVersion(session: Session, feedId: number): Promise<void> {
  await session.query("begin");
  try {
    const [target] = await session.query<{ status: string; layout: number }>(
      "select status, layout from gtfs_feed where id = $1 for update",
      [feedId],
    );
    if (!target || !["loading", "retired", "active"].includes(target.status))
      throw new Error(`feed version ${feedId} cannot be activated (${target ? target.status : "unknown"})`);
    if (target.layout !== LAYOUT) throw new Error(`feed version ${feedId} has an old table layout; re-import it`);
    await session.query("update gtfs_feed set status = 'retired' where status = 'active' and id <> $1", [feedId]);
    await session.query("update gtfs_feed set status = 'active', activated_at = now() where id = $1", [feedId]);
    // Delivered at commit, together with the switch: servers drop their memoised active version.
    await session.query("select pg_notify($1, $2)", [FEED_CHANGED_CHANNEL, String(feedId)]);
    await session.query("commit");
  } catch (err) {
    await session.query("rollback").catch(() => {});
    throw err;
  }
}

/** Keeps the active version and the newest keep-1 retired ones; drops the rest (and old failures). */
export async function pruneVersions(session: Session, keepVersions: number): Promise<number[]> {
  const retired = await session.query<{ id: number; schema_name: string }>(
    "select id, schema_name from gtfs_feed where status = 'retired' order by coalesce(activated_at, imported_at) desc, id desc",
  );
  const drop = retired.slice(Math.max(0, keepVersions - 1));
  for (const f of drop) {
    await session.query(`drop schema if exists "${f.schema_name}" cascade`);
    await session.query("delete from gtfs_feed where id = $1", [f.id]);
  }
  await session.query(
    "delete from gtfs_feed where status = 'failed' and id not in (select id from gtfs_feed where status = 'failed' order by id desc limit 5)",
  );
  return drop.map((f) => f.id);
}

/**
 * A failed import leaves nothing behind but a 'failed' row with the reason. Only a version that never
 * went live is dropped: if the switch committed (and, say, its reply was lost), that version is being
 * served and stays. On a connection of its own: the import's may be stuck mid-COPY.
 */
export async function discardVersion(target: ImportTarget, feedId: number, schema: string, err: unknown) {
  let s: LoadSession;
  try {
    s = await openSession(target);
  } catch {
    return; // the next import cleans up
  }
  try {
    await s.query("rollback").catch(() => {});
    await s.query("begin");
    const [row] = await s.query<{ status: string }>("select status from gtfs_feed where id = $1 for update", [feedId]);
    if (row?.status === "loading") {
      await s.query(`drop schema if exists "${schema}" cascade`);
      const message = err instanceof Error ? err.message : String(err);
      await s.query("update gtfs_feed set status = 'failed', error = $2 where id = $1", [
        feedId,
        message.slice(0, 4000),
      ]);
    }
    await s.query("commit");
  } catch {
    await s.query("rollback").catch(() => {});
    // best effort: failInterrupted handles leftovers
  } finally {
    await s.close();
  }
}

/**
 * Rollback: serves the most recently active retained version again (or `feedId`), in one transaction.
 * Returns the version now served.
 */
export async function rollbackFeed(target: ImportTarget, feedId?: number): Promise<number> {
  await requireMigrated(target);
  const session = await openSession(target);
  try {
    const [row] = await session.query<{ id: number }>(
      feedId === undefined
        ? "select id from gtfs_feed where status = 'retired' order by activated_at desc nulls last, id desc limit 1"
        : "select id from gtfs_feed where status in ('retired', 'active') and id = $1",
      feedId === undefined ? [] : [feedId],
    );
    if (!row)
      throw new Error(
        feedId === undefined ? "no retained feed version to roll back to" : `no retained feed version ${feedId}`,
      );
    await activateVersion(session, row.id);
    return row.id;
  } finally {
    await session.close();
  }
}
