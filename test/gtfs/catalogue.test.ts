// The feed catalogue (src/modules/gtfs/import/catalogue.ts) on a real PostgreSQL: which versions an
// import keeps, which one a rollback serves again, what a failed or interrupted import leaves, and what
// is refused; that a switch and a discard are all or nothing, and leave no connection open. Every call
// happens inside a test (not in a hook), so a mutation run links each statement of the catalogue to the
// tests that reach it.
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createMigrator } from "../../src/db/migrate";
import type { Tables } from "../../src/db/tables";
import { FEED_CHANGED_CHANNEL, feedSchemaName, LAYOUT } from "../../src/modules/gtfs/domain/feed-version";
import {
  activateVersion,
  discardVersion,
  ImportBusyError,
  NotMigratedError,
  openVersion,
  rollbackFeed,
} from "../../src/modules/gtfs/import/catalogue";
import { type ImportTarget, openSession } from "../../src/modules/gtfs/import/connections";
import { eventually } from "../support/app-server";
import { createTestDatabase } from "../support/services";
import { EDGE, type GtfsEnv, gtfsEnv, mutatedFeed, SLOW } from "./helpers";

interface Row {
  id: number;
  status: string;
  error: string | null;
}

/** A fresh app on a fresh database for one test (the catalogue's state is what each test is about). */
async function withEnv(body: (env: GtfsEnv, target: ImportTarget, sql: pg.Client) => Promise<void>) {
  const env = await gtfsEnv();
  const sql = new pg.Client({ connectionString: env.db!.url });
  await sql.connect();
  try {
    await body(env, { database: env.app.database, connectionString: env.db!.url }, sql);
  } finally {
    await sql.end();
    await env.close();
  }
}

const catalogue = async (sql: pg.Client) =>
  (await sql.query<Row>("select id, status, error from gtfs_feed order by id")).rows;
const schemas = async (sql: pg.Client) =>
  (await sql.query<{ n: string }>("select nspname as n from pg_namespace where nspname like 'gtfs_f%' order by 1")).rows
    .map((r) => r.n)
    .sort();
const schemasOf = (ids: number[]) => ids.map(feedSchemaName).sort();

const REFUSED = "refused by the test";
/** Makes every update of gtfs_feed whose rows meet `when` fail, to break a transaction half-way. */
async function refuseUpdates(sql: pg.Client, when: string): Promise<void> {
  await sql.query(`create or replace function refuse() returns trigger language plpgsql as $$
    begin raise exception '${REFUSED}'; end $$`);
  await sql.query(
    `create trigger refuse before update on gtfs_feed for each row when (${when}) execute function refuse()`,
  );
}

/** Imports EDGE `n` times, keeping `keep` versions; returns the version ids in import order. */
async function importTimes(env: GtfsEnv, n: number, keep: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push((await env.import(EDGE, keep)).feedId);
  return ids;
}

describe("feed catalogue", () => {
  it(
    "keeps the active version and the newest keep-1 retired ones, and drops the others with their schemas",
    async () => {
      await withEnv(async (env, _target, sql) => {
        const [a, b, c, d] = await importTimes(env, 4, 3);
        expect(await catalogue(sql)).toEqual([
          { id: b, status: "retired", error: null },
          { id: c, status: "retired", error: null },
          { id: d, status: "active", error: null },
        ]);
        expect(a).toBeLessThan(b!);
        // what each version records about itself (GET /v1/feeds shows it)
        const { rows } = await sql.query(
          "select publisher_name, feed_version, feed_lang, timezone, max_departure_secs, row_counts, imported_at from gtfs_feed where id = $1",
          [d],
        );
        expect(rows[0]).toMatchObject({
          publisher_name: "Edge Case Transit",
          feed_version: "edge-1",
          feed_lang: "en",
          row_counts: expect.objectContaining({ "stops.txt": expect.any(Number) }),
        });
        expect(rows[0].max_departure_secs).toBeGreaterThan(0);
        expect(rows[0].imported_at).toBeInstanceOf(Date);
        expect(await schemas(sql)).toEqual(schemasOf([b!, c!, d!]));
        // keep 1: only the active one is left
        const [e] = await importTimes(env, 1, 1);
        expect(await catalogue(sql)).toEqual([{ id: e, status: "active", error: null }]);
        expect(await schemas(sql)).toEqual(schemasOf([e!]));
      });
    },
    SLOW,
  );

  it(
    "prunes by when a version was last served, not by its id",
    async () => {
      await withEnv(async (env, target, sql) => {
        const [a, b, c] = await importTimes(env, 3, 3);
        await rollbackFeed(target, a); // a is served again: c and b are now the older ones
        const [d] = await importTimes(env, 1, 2);
        // kept: d (active) and a (served most recently before it); b and c go
        expect(await catalogue(sql)).toEqual([
          { id: a, status: "retired", error: null },
          { id: d, status: "active", error: null },
        ]);
        expect(await schemas(sql)).toEqual(schemasOf([a!, d!]));
        expect([b, c]).not.toContain(a);
      });
    },
    SLOW,
  );

  it(
    "rolls back to the version served most recently before the live one, or to the one named",
    async () => {
      await withEnv(async (env, target, sql) => {
        const [a, b, c] = await importTimes(env, 3, 3);
        expect(await rollbackFeed(target)).toBe(b);
        expect(await rollbackFeed(target)).toBe(c);
        expect(await rollbackFeed(target, a)).toBe(a);
        expect(await rollbackFeed(target, b)).toBe(b);
        // served most recently before b: a (activated after c), although c has the higher id
        expect(await rollbackFeed(target)).toBe(a);
        const active = (await catalogue(sql)).filter((r) => r.status === "active").map((r) => r.id);
        expect(active).toEqual([a]);
        // the live one, named: nothing changes
        expect(await rollbackFeed(target, a)).toBe(a);
        expect((await env.get("/v1/feeds")).status).toBe(200);
      });
    },
    SLOW,
  );

  it(
    "announces the switch on the feed-changed channel, with the version now served",
    async () => {
      await withEnv(async (env, target) => {
        const [a] = await importTimes(env, 2, 2);
        const listener = new pg.Client({ connectionString: env.db!.url });
        await listener.connect();
        try {
          const heard = new Promise<{ channel: string; payload?: string }>((resolve) =>
            listener.once("notification", resolve),
          );
          await listener.query(`listen ${FEED_CHANGED_CHANNEL}`);
          await rollbackFeed(target);
          expect(await heard).toMatchObject({ channel: FEED_CHANGED_CHANNEL, payload: String(a) });
        } finally {
          await listener.end();
        }
      });
    },
    SLOW,
  );

  it(
    "refuses a rollback with nothing retained, to a failed or unknown version, and leaves the live one served",
    async () => {
      await withEnv(async (env, target, sql) => {
        await expect(rollbackFeed(target)).rejects.toThrow(/^no retained feed version to roll back to$/);
        const [a] = await importTimes(env, 1, 2);
        await expect(rollbackFeed(target)).rejects.toThrow(/^no retained feed version to roll back to$/);
        const broken = mutatedFeed(EDGE, { "stops.txt": (t) => t.replace("40.7600,-73.9800", "40.7600,west") });
        try {
          await expect(env.import(broken.dir, 2)).rejects.toThrow();
        } finally {
          broken.remove();
        }
        const failed = (await catalogue(sql)).find((r) => r.status === "failed")!.id;
        await expect(rollbackFeed(target, failed)).rejects.toThrow(new RegExp(`^no retained feed version ${failed}$`));
        await expect(rollbackFeed(target, 999)).rejects.toThrow(/^no retained feed version 999$/);
        expect((await catalogue(sql)).filter((r) => r.status === "active").map((r) => r.id)).toEqual([a]);
      });
    },
    SLOW,
  );

  it(
    "activates only a version that is loading, retired or active, with the current table layout",
    async () => {
      await withEnv(async (env, target, sql) => {
        const [a, b] = await importTimes(env, 2, 2);
        const session = await openSession(target);
        try {
          await expect(activateVersion(session, 999)).rejects.toThrow(
            /^feed version 999 cannot be activated \(unknown\)$/,
          );
          await sql.query("update gtfs_feed set status = 'failed' where id = $1", [a]);
          await expect(activateVersion(session, a!)).rejects.toThrow(
            new RegExp(`^feed version ${a} cannot be activated \\(failed\\)$`),
          );
          await sql.query("update gtfs_feed set status = 'retired', layout = $2 where id = $1", [a, LAYOUT - 1]);
          await expect(activateVersion(session, a!)).rejects.toThrow(
            new RegExp(`^feed version ${a} has an old table layout; re-import it$`),
          );
          // each refusal was rolled back: the session is usable and b is still the one served
          expect(await catalogue(sql)).toEqual([
            { id: a, status: "retired", error: null },
            { id: b, status: "active", error: null },
          ]);
          await sql.query("update gtfs_feed set layout = $2 where id = $1", [a, LAYOUT]);
          await activateVersion(session, a!);
          await activateVersion(session, a!); // again: still the only active one
          expect(await catalogue(sql)).toEqual([
            { id: a, status: "active", error: null },
            { id: b, status: "retired", error: null },
          ]);
          // a 'loading' version (an import at its switch) is activated too
          const opened = await openVersion(session, "test");
          expect(opened.schema).toBe(feedSchemaName(opened.feedId));
          await activateVersion(session, opened.feedId);
          expect((await catalogue(sql)).filter((r) => r.status === "active").map((r) => r.id)).toEqual([opened.feedId]);
        } finally {
          await session.close();
        }
      });
    },
    SLOW,
  );

  it(
    "fails a version that an import left loading, drops its schema, and keeps the newest five failures",
    async () => {
      await withEnv(async (env, target, sql) => {
        const session = await openSession(target);
        let killed: { feedId: number; schema: string };
        try {
          killed = await openVersion(session, "killed import");
          await session.query(`create schema "${killed.schema}"`);
        } finally {
          await session.close();
        }
        const [a] = await importTimes(env, 1, 2);
        expect(await catalogue(sql)).toEqual([
          { id: killed.feedId, status: "failed", error: "import interrupted" },
          { id: a, status: "active", error: null },
        ]);
        expect(await schemas(sql)).toEqual(schemasOf([a!]));

        const broken = mutatedFeed(EDGE, { "stops.txt": (t) => t.replace("40.7600,-73.9800", "40.7600,west") });
        try {
          for (let i = 0; i < 5; i++) await expect(env.import(broken.dir, 2)).rejects.toThrow();
        } finally {
          broken.remove();
        }
        const failures = (await catalogue(sql)).filter((r) => r.status === "failed");
        expect(failures).toHaveLength(6);
        for (const f of failures.slice(1)) expect(f.error).toContain("stops.txt:5 [stop_lon]: expected a longitude");
        expect(await schemas(sql)).toEqual(schemasOf([a!]));
        const [b] = await importTimes(env, 1, 2);
        expect(await catalogue(sql)).toEqual([
          { id: a, status: "retired", error: null },
          ...failures.slice(1),
          { id: b, status: "active", error: null },
        ]);
      });
    },
    SLOW,
  );

  it(
    "discards only a version that never went live, recording why, even after a failed statement",
    async () => {
      await withEnv(async (env, target, sql) => {
        const [a] = await importTimes(env, 1, 2);
        const session = await openSession(target);
        try {
          const loading = await openVersion(session, "test");
          await session.query(`create schema "${loading.schema}"`);
          // the import's connection is mid-transaction in a failed state, as after a broken COPY
          await session.query("begin");
          await session.query("select 1/0").catch(() => {});
          await discardVersion(target, loading.feedId, loading.schema, new Error("x".repeat(5000)));
          await discardVersion(target, a!, feedSchemaName(a!), new Error("late failure"));
          await discardVersion(target, 999, "gtfs_f999", "not an Error");
          // a database it cannot reach: nothing to do (the next import fails what was left loading)
          const unreachable = { ...target, connectionString: "postgres://127.0.0.1:1/gone" };
          await expect(discardVersion(unreachable, loading.feedId, loading.schema, "x")).resolves.toBeUndefined();
          const rows = await catalogue(sql);
          expect(rows.map((r) => [r.id, r.status])).toEqual([
            [a, "active"],
            [loading.feedId, "failed"],
          ]);
          expect(rows[1]!.error).toBe("x".repeat(4000));
          expect(await schemas(sql)).toEqual(schemasOf([a!]));

          await session.query("rollback");
          const another = await openVersion(session, "t");
          await discardVersion(target, another.feedId, another.schema, "a thrown string");
          expect((await catalogue(sql)).find((r) => r.id === another.feedId)).toEqual({
            id: another.feedId,
            status: "failed",
            error: "a thrown string",
          });
        } finally {
          await session.close();
        }
      });
    },
    SLOW,
  );

  it(
    "switches in one transaction: a switch that fails after retiring the live version leaves it served",
    async () => {
      await withEnv(async (env, target, sql) => {
        const [a, b] = await importTimes(env, 2, 2);
        // The switch's second statement (a's row turning active) fails after its first (b retired) went through.
        await refuseUpdates(sql, "new.status = 'active' and old.status <> 'active'");
        await expect(rollbackFeed(target, a)).rejects.toThrow(REFUSED);
        expect(await catalogue(sql)).toEqual([
          { id: a, status: "retired", error: null },
          { id: b, status: "active", error: null },
        ]);
        expect((await env.get("/v1/feeds")).body.data.map((f: Row) => [f.id, f.status])).toEqual([
          [b, "active"],
          [a, "retired"],
        ]);
        await sql.query("drop trigger refuse on gtfs_feed");
        expect(await rollbackFeed(target, a)).toBe(a);
      });
    },
    SLOW,
  );

  it(
    "discards in one transaction: a discard that fails after dropping the schema leaves the version as it was",
    async () => {
      await withEnv(async (_env, target, sql) => {
        const session = await openSession(target);
        try {
          const loading = await openVersion(session, "test");
          await session.query(`create schema "${loading.schema}"`);
          // The discard's second statement (the row marked failed) fails after its first (DROP SCHEMA).
          await refuseUpdates(sql, "new.status = 'failed'");
          await discardVersion(target, loading.feedId, loading.schema, new Error("load failed"));
          expect(await catalogue(sql)).toEqual([{ id: loading.feedId, status: "loading", error: null }]);
          expect(await schemas(sql)).toEqual([loading.schema]);
          await sql.query("drop trigger refuse on gtfs_feed");
          await discardVersion(target, loading.feedId, loading.schema, new Error("load failed"));
          expect(await catalogue(sql)).toEqual([{ id: loading.feedId, status: "failed", error: "load failed" }]);
          expect(await schemas(sql)).toEqual([]);
        } finally {
          await session.close();
        }
      });
    },
    SLOW,
  );

  it(
    "closes the connection each rollback and discard opens, whether it succeeds or not",
    async () => {
      await withEnv(async (env, target, sql) => {
        const [a] = await importTimes(env, 2, 2);
        const importConnections = async () =>
          Number(
            (
              await sql.query<{ n: string }>(
                "select count(*) as n from pg_stat_activity where datname = current_database() and application_name = 'gtfs-import'",
              )
            ).rows[0]!.n,
          );
        await eventually(async () => (await importConnections()) === 0, 10_000, "the imports' connections to close");
        expect(await rollbackFeed(target)).toBe(a);
        await expect(rollbackFeed(target, 999)).rejects.toThrow("no retained feed version 999");
        await discardVersion(target, a!, feedSchemaName(a!), new Error("late failure")); // live: kept
        await discardVersion(target, 999, "gtfs_f999", new Error("unknown"));
        await eventually(
          async () => (await importConnections()) === 0,
          10_000,
          "the rollbacks' and discards' connections to close",
        );
        expect((await catalogue(sql)).find((r) => r.id === a)?.status).toBe("active");
      });
    },
    SLOW,
  );

  it(
    "refuses a second import while one holds the import lock, and releases the lock after each import",
    async () => {
      await withEnv(async (env, _target, sql) => {
        await importTimes(env, 1, 2);
        const [{ ok }] = (await sql.query<{ ok: boolean }>("select pg_try_advisory_lock($1) as ok", [0x67746673]))
          .rows as [{ ok: boolean }];
        expect(ok).toBe(true); // the import let go of it
        const busy = await env.import(EDGE, 2).catch((err) => err);
        expect(busy).toBeInstanceOf(ImportBusyError);
        expect(busy.name).toBe("ImportBusyError");
        expect(busy.message).toBe("another import is running against this database");
        await sql.query("select pg_advisory_unlock_all()");
        await importTimes(env, 1, 2);
      });
    },
    SLOW,
  );
});

describe("feed catalogue on a database that is not migrated", () => {
  const dbs: { drop(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  }, SLOW);

  it(
    "refuses a rollback, naming how many migrations are pending and the first three",
    async () => {
      await withEnv(async (env) => {
        const bare = await createTestDatabase("unmigrated");
        dbs.push(bare);
        const db = new Kysely<Tables>({
          dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: bare.url }) }),
        });
        try {
          const target: ImportTarget = { database: { ...env.app.database, db }, connectionString: bare.url };
          const err = await rollbackFeed(target).catch((e) => e);
          expect(err).toBeInstanceOf(NotMigratedError);
          expect(err.name).toBe("NotMigratedError");
          expect(err.message).toBe(
            "the database is not migrated to this release (4 migrations pending: 0001_app_metadata, 0100_gtfs_feeds, 0101_gtfs_stop_departures, …); run `npm run migrate` (the `migrate` command of the image), then import again",
          );
          await createMigrator(db).migrateTo("0001_app_metadata");
          await expect(rollbackFeed(target)).rejects.toThrow(
            "(3 migrations pending: 0100_gtfs_feeds, 0101_gtfs_stop_departures, 0102_gtfs_active_layout); run",
          );
          await createMigrator(db).migrateTo("0100_gtfs_feeds");
          await expect(rollbackFeed(target)).rejects.toThrow(
            "(2 migrations pending: 0101_gtfs_stop_departures, 0102_gtfs_active_layout); run",
          );
          await createMigrator(db).migrateTo("0101_gtfs_stop_departures");
          await expect(rollbackFeed(target)).rejects.toThrow(
            "(1 migration pending: 0102_gtfs_active_layout); run `npm run migrate`",
          );
        } finally {
          await db.destroy();
        }
      });
    },
    SLOW,
  );
});
