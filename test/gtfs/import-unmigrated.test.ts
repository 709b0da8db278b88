// An import (or a rollback) into a database that migrations have not brought up to this release stops
// before it changes anything, with one line that says what to run, and exits non-zero.

import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMigrator } from "../../src/db/migrate";
import { migrations } from "../../src/db/migrations/index";
import { childEnv } from "../support/app-server";
import { BUN, MAIN } from "../support/repo";
import { runProcess } from "../support/run";
import { createTestDatabase, type TestDatabase } from "../support/services";
import { SAMPLE_DIR, SLOW } from "./helpers";

const env = (url: string) => childEnv({ DATABASE_URL: url, LOG_LEVEL: "warn" });
const run = (cmd: string, args: string[], url: string) => runProcess(cmd, args, { env: env(url) });
const cli = (args: string[], url: string) => run(BUN, [MAIN, ...args], url);

describe("GTFS import into a database that is not migrated", () => {
  let db: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase("unmigrated");
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  }, SLOW);
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  }, SLOW);

  /** Every table and schema outside PostgreSQL's own. */
  const objects = async () =>
    (
      await client.query<{ name: string }>(
        `select nspname as name from pg_namespace where nspname not like 'pg\\_%' and nspname not in ('information_schema', 'public')
         union all select schemaname || '.' || tablename from pg_tables where schemaname not like 'pg\\_%' and schemaname <> 'information_schema'
         order by 1`,
      )
    ).rows.map((r) => r.name);

  it(
    "never migrated: says to run `npm run migrate`, in one line, exits 1 and creates nothing",
    async () => {
      const before = await objects();
      expect(before).toEqual([]);
      const all = Object.keys(migrations);
      const result = await cli(["import", SAMPLE_DIR], db.url);
      expect(result.code).toBe(1);
      expect(result.stderr.trimEnd().split("\n")).toEqual([
        `error: the database is not migrated to this release (${all.length} migrations pending: ${all.slice(0, 3).join(", ")}, …); run \`npm run migrate\` (the \`migrate\` command of the image), then import again`,
      ]);
      expect(result.stdout).toBe("");
      expect(await objects()).toEqual(before);
    },
    SLOW,
  );

  it(
    "migrated by an older release: names the migrations it lacks, for an import and a rollback",
    async () => {
      const names = Object.keys(migrations);
      const older = names[names.length - 3]!;
      const kysely = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url }) }) });
      try {
        const { error } = await createMigrator(kysely).migrateTo(older);
        expect(error).toBeUndefined();
      } finally {
        await kysely.destroy();
      }
      const before = await objects();
      const pending = names.slice(-2).join(", ");
      for (const args of [
        ["import", SAMPLE_DIR],
        ["import", "--rollback"],
      ]) {
        const result = await cli(args, db.url);
        expect(result.code).toBe(1);
        expect(result.stderr.trimEnd().split("\n")).toEqual([
          `error: the database is not migrated to this release (2 migrations pending: ${pending}); run \`npm run migrate\` (the \`migrate\` command of the image), then import again`,
        ]);
      }
      expect(await objects()).toEqual(before);
      expect((await client.query("select count(*)::int as n from gtfs_feed")).rows).toEqual([{ n: 0 }]);
    },
    SLOW,
  );

  it(
    "after `npm run migrate`, the same import succeeds",
    async () => {
      const migrate = await run("npm", ["run", "--silent", "migrate"], db.url);
      expect(migrate.code).toBe(0);
      const result = await cli(["import", SAMPLE_DIR], db.url);
      expect(result.stderr).not.toContain("error:");
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^imported feed version \d+/);
      expect((await client.query("select status from gtfs_feed")).rows).toEqual([{ status: "active" }]);
    },
    SLOW,
  );
});
