import { type Kysely, sql } from "kysely";
import { up as buildBoardTables } from "./0101_gtfs_stop_departures";

// Only a feed version whose tables this release can read may be active, and the database says so: a
// release from before layout 2 (old pods still running during a rolling upgrade, or a rolled-back
// Deployment) can still import, but its activation is refused, the import fails, and the served
// version stays as it was, instead of new servers meeting a version without stop_departures.
// A later layout raises the bound in its own migration.
export async function up(db: Kysely<unknown>): Promise<void> {
  // 0101 brought every retained version to layout 2, but an older release may have imported and
  // activated another since (the very case this guards against): bring those up to date as well, or
  // the constraint could not be added.
  await buildBoardTables(db);
  await sql`alter table gtfs_feed add constraint gtfs_feed_active_layout check (status <> 'active' or layout >= 2)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table gtfs_feed drop constraint if exists gtfs_feed_active_layout`.execute(db);
}
