import { migrateToLatest } from "../db/migrate";
import type { Runtime } from "../runtime";

export async function runMigrate(runtime: Runtime): Promise<void> {
  const applied = await migrateToLatest(runtime.database.db);
  runtime.logger.info({ applied }, applied.length ? `applied ${applied.length} migration(s)` : "schema is up to date");
}
