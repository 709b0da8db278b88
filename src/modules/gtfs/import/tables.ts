// The tables of one feed version, in that version's own schema (gtfs_f<id>). A schema per version
// (rather than a feed_version column on every table) means: COPY goes into fresh unindexed tables,
// indexes are built once after the load without touching the served version, retiring a version is
// DROP SCHEMA (no bulk DELETE, no bloat), and queries never filter by version. Each table is defined
// beside what fills it: a file's in files/<file>.ts, the derived ones in derived/. Bump LAYOUT
// (domain/feed-version.ts) when they change.
import { stopDeparturesTable } from "./derived/board-table";
import { serviceDatesTable } from "./derived/service-dates";
import type { FeedFile, FeedTable } from "./files/feed-file";
import type { LoadSession } from "./load-session";

/** The tables COPY fills after the files', in the order they are filled. */
export const DERIVED_TABLES: readonly FeedTable[] = [serviceDatesTable];

/**
 * Creates the schema and every table but the streamed files' (created in their COPY's transaction),
 * in one transaction.
 */
export async function createTables(session: LoadSession, schema: string, files: readonly FeedFile[]): Promise<void> {
  const s = `"${schema}"`;
  const tables = [
    ...files.filter((f) => f.copy === "text").map((f) => f.table),
    ...DERIVED_TABLES,
    stopDeparturesTable,
  ];
  await session.query("begin");
  for (const stmt of [`create schema ${s}`, ...tables.flatMap((t) => t.create(s))]) await session.query(stmt);
  await session.query("commit");
}
