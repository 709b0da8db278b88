import { type Kysely, sql } from "kysely";

// Small key/value table for facts about the deployment itself (e.g. which release last migrated).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("app_metadata")
    .ifNotExists()
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("app_metadata").ifExists().execute();
}
