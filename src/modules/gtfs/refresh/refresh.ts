// `import --refresh`: brings the served feed up to date with the configured source (GTFS_FEED_URL),
// for a scheduled job. An unchanged feed is a fast no-op that writes nothing: the server says so to a
// conditional GET (304), or the body hashes the same as the last refreshed one. A changed feed is
// imported and switched to by the importer, as `import <url>` does, and only then remembered — so a
// failed import is retried by the next run. What is compared is the last *refreshed* feed, not the
// served one: after `import --rollback`, the feed rolled away from is not imported again until the
// agency publishes a new one.
import { createHash } from "node:crypto";
import { sql } from "kysely";
import type { Database } from "../../../db/database";
import { describeUrl } from "../../realtime/fetch-source";
import { requireMigrated } from "../import/catalogue";
import { downloadFeed, type Validators } from "./download";

/** app_metadata key of the last refresh. */
export const REFRESH_STATE_KEY = "gtfs.refresh";

export interface RefreshState {
  /** sha256 of the source URL: validators only apply to the URL that issued them. */
  url_sha256: string;
  etag?: string;
  last_modified?: string;
  sha256: string;
  feed_id: number;
  refreshed_at: string;
}

export type RefreshResult =
  | { kind: "unchanged"; reason: string }
  | { kind: "imported"; feedId: number; sha256: string; bytes: number };

export interface RefreshOptions {
  database: Database;
  url: string | null;
  headers: Record<string, string>;
  /** Imports the downloaded file as a new version and switches to it (the import command's own path). */
  importFeed(location: string): Promise<{ feedId: number }>;
  idleTimeoutMs?: number;
  totalTimeoutMs?: number;
}

export class RefreshError extends Error {
  override name = "RefreshError";
}

export async function readRefreshState(database: Database): Promise<RefreshState | undefined> {
  const { rows } = await sql<{ value: string }>`
    select value from app_metadata where key = ${REFRESH_STATE_KEY}`.execute(database.db);
  if (!rows[0]) return undefined;
  try {
    return JSON.parse(rows[0].value) as RefreshState;
  } catch {
    return undefined; // unreadable: refresh as if for the first time
  }
}

async function writeRefreshState(database: Database, state: RefreshState): Promise<void> {
  await sql`insert into app_metadata (key, value) values (${REFRESH_STATE_KEY}, ${JSON.stringify(state)})
    on conflict (key) do update set value = excluded.value, updated_at = now()`.execute(database.db);
}

export async function refreshFeed(o: RefreshOptions): Promise<RefreshResult> {
  if (!o.url) throw new RefreshError("GTFS_FEED_URL is not set: nothing to refresh from");
  // Before the download: a database this release has not migrated cannot take the import anyway.
  await requireMigrated({ database: o.database });
  const urlSha = createHash("sha256").update(o.url).digest("hex");
  const last = await readRefreshState(o.database);
  const validators: Validators =
    last && last.url_sha256 === urlSha ? { etag: last.etag, lastModified: last.last_modified } : {};
  const download = await downloadFeed(o.url, {
    headers: o.headers,
    validators,
    idleTimeoutMs: o.idleTimeoutMs,
    totalTimeoutMs: o.totalTimeoutMs,
  });
  const where = describeUrl(o.url);
  if (download.kind === "not-modified") return { kind: "unchanged", reason: `${where} answered 304 Not Modified` };
  try {
    if (last && download.sha256 === last.sha256)
      return {
        kind: "unchanged",
        reason: `${where} sent the same ${download.bytes} bytes as feed version ${last.feed_id} (sha256 ${download.sha256.slice(0, 12)})`,
      };
    const { feedId } = await o.importFeed(download.file);
    await writeRefreshState(o.database, {
      url_sha256: urlSha,
      etag: download.validators.etag,
      last_modified: download.validators.lastModified,
      sha256: download.sha256,
      feed_id: feedId,
      refreshed_at: new Date().toISOString(),
    });
    return { kind: "imported", feedId, sha256: download.sha256, bytes: download.bytes };
  } finally {
    await download.remove();
  }
}
