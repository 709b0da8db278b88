// stop_departures is built two ways: in memory while stop_times streams in (the usual case) and in
// SQL (feeds whose times are interpolated in the database, and the layout-2 migration). Both must
// give the same rows, or boards would change with the path a feed happened to take.
import { type Kysely, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { up as upgradeToLayout2 } from "../../src/db/migrations/0101_gtfs_stop_departures";
import {
  down as allowAnyActiveLayout,
  up as requireCurrentActiveLayout,
} from "../../src/db/migrations/0102_gtfs_active_layout";
import { FREQUENCY_HOUR } from "../../src/modules/gtfs/domain/feed-version";
import { buildStopDeparturesSql } from "../../src/modules/gtfs/import/derived/board-table";
import { createTestApp } from "../support/test-app";
import { board, EDGE, SAMPLE_DIR, SLOW, suiteGtfsEnv } from "./helpers";

describe("departure boards table", () => {
  const env = suiteGtfsEnv();

  it.each([
    ["sample-gtfs-feed (frequencies, headsigns, DST)", SAMPLE_DIR],
    ["edge-case feed", EDGE],
  ])(
    "the in-memory build equals the SQL build: %s",
    async (_name, dir) => {
      const summary = await env.import(dir);
      expect(summary.files.find((f) => f.file === "(departure boards)")?.rows).toBeGreaterThan(0);
      const db = env.app.database.db;
      const s = summary.schema;
      await sql.raw(`create table "${s}".sql_built (like "${s}".stop_departures)`).execute(db);
      await sql.raw(buildStopDeparturesSql(s).replace(`"${s}".stop_departures`, `"${s}".sql_built`)).execute(db);
      const rows = async (table: string) =>
        (await sql.raw<Record<string, unknown>>(`select * from "${s}".${table} order by stop_idx, hour`).execute(db))
          .rows;
      const built = await rows("stop_departures");
      expect(await rows("sql_built")).toEqual(built);
      // Something of every kind was compared.
      expect(built.some((r) => r.hour === FREQUENCY_HOUR) || dir === EDGE).toBe(true);
    },
    SLOW,
  );

  it(
    "the layout-2 migration gives a feed imported before it the same boards",
    async () => {
      const summary = await env.import(SAMPLE_DIR);
      const db = env.app.database.db;
      const before = await board(env, "airport", "2019-03-30T23:00:00+01:00", 180);
      expect(before.length).toBeGreaterThan(0);
      // What a layout-1 version looks like (before 0102 existed): no board table.
      await allowAnyActiveLayout(db as unknown as Kysely<unknown>);
      await sql.raw(`drop table "${summary.schema}".stop_departures`).execute(db);
      await sql`update gtfs_feed set layout = 1 where id = ${summary.feedId}`.execute(db);
      await upgradeToLayout2(db as unknown as Kysely<unknown>);
      await requireCurrentActiveLayout(db as unknown as Kysely<unknown>);
      const [row] = (
        await sql<{ layout: number }>`select layout from gtfs_feed where id = ${summary.feedId}`.execute(db)
      ).rows;
      expect(row?.layout).toBe(2);
      // A fresh app (empty caches) on the same database reads the migrated table.
      const fresh = await createTestApp({ DATABASE_URL: env.db!.url });
      try {
        const freshEnv = {
          ...env,
          async get(path: string) {
            const res = await fresh.fetch(path);
            return { status: res.status, body: await res.json(), headers: res.headers };
          },
        };
        expect(await board(freshEnv, "airport", "2019-03-30T23:00:00+01:00", 180)).toEqual(before);
      } finally {
        await fresh.close();
      }
    },
    SLOW,
  );
});

// Own database: the test above changes the constraint itself; this one must see what `migrate` installed.
describe("feed layout guard", () => {
  const env = suiteGtfsEnv();

  it(
    "a release from before layout 2 cannot activate what it imports: the served version stays",
    async () => {
      const served = await env.import(SAMPLE_DIR);
      const db = env.app.database.db;
      // What such a release does: a layout-1 version, loaded, then switched to in one transaction.
      const { rows } = await sql<{ id: number }>`
        insert into gtfs_feed (schema_name, status, layout, source) values ('gtfs_old_release', 'loading', 1, 'old')
        returning id`.execute(db);
      const oldId = rows[0]!.id;
      const activate = db.transaction().execute(async (tx) => {
        await sql`update gtfs_feed set status = 'retired' where status = 'active'`.execute(tx);
        await sql`update gtfs_feed set status = 'active' where id = ${oldId}`.execute(tx);
      });
      await expect(activate).rejects.toMatchObject({ code: "23514", constraint: "gtfs_feed_active_layout" });
      const active = await sql<{ id: number }>`select id from gtfs_feed where status = 'active'`.execute(db);
      expect(active.rows.map((r) => r.id)).toEqual([served.feedId]);
      await sql`delete from gtfs_feed where id = ${oldId}`.execute(db);
    },
    SLOW,
  );

  it(
    "the guard's migration first brings up to date a version an older release activated after 0101",
    async () => {
      const summary = await env.import(SAMPLE_DIR);
      const db = env.app.database.db as unknown as Kysely<unknown>;
      await allowAnyActiveLayout(db);
      await sql.raw(`drop table "${summary.schema}".stop_departures`).execute(db);
      await sql`update gtfs_feed set layout = 1 where id = ${summary.feedId}`.execute(db);
      await requireCurrentActiveLayout(db);
      const { rows } = await sql<{ layout: number; boards: string }>`
        select layout, (select count(*) from ${sql.table(`${summary.schema}.stop_departures`)}) as boards
        from gtfs_feed where id = ${summary.feedId}`.execute(db);
      expect(rows[0]!.layout).toBe(2);
      expect(Number(rows[0]!.boards)).toBeGreaterThan(0);
    },
    SLOW,
  );
});
