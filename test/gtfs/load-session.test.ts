// The importer's connections. Closing one whose statement is still running (an index build on the
// second connection when the load fails elsewhere) must stop that statement: it holds locks on the
// half-loaded version that the cleanup's DROP SCHEMA needs, and the server would not notice a closed
// socket until the statement ends.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgresSession } from "../../src/modules/gtfs/import/load-session";
import { eventually } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/services";
import { SLOW } from "./helpers";

describe("import sessions", () => {
  let db: TestDatabase;
  let observer: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase("session");
    observer = new pg.Client({ connectionString: db.url });
    await observer.connect();
  }, SLOW);
  afterAll(async () => {
    await observer.end();
    await db.drop();
  }, SLOW);

  const running = async (pid: number) =>
    (
      await observer.query<{ n: string }>(
        "select count(*) as n from pg_stat_activity where pid = $1 and state = 'active'",
        [pid],
      )
    ).rows[0]!.n;

  it(
    "closing a session cancels the statement it is still running",
    async () => {
      const session = await openPostgresSession(db.url);
      const [{ pid }] = (await session.query<{ pid: number }>("select pg_backend_pid() as pid")) as [{ pid: number }];
      // Stands in for a long index build; it fails once cancelled.
      const statement = session.query("select pg_sleep(600)").catch((err: Error) => err);
      await eventually(async () => (await running(pid)) === "1", 10_000, "the statement to run");
      await session.close();
      // The backend may report its state a moment after the socket closed; uncancelled, it would run 10 min.
      await eventually(async () => (await running(pid)) === "0", 5_000, "the statement to stop");
      expect(String(await statement)).toMatch(/cancel|terminat|Connection/i);
    },
    SLOW,
  );

  it(
    "a COPY that creates its table first sends one statement at a time, and stores its rows",
    async () => {
      // test/support/fail-on-pg-deprecations.ts fails this test if pg had to queue a statement.
      const session = await openPostgresSession(db.url);
      try {
        const sink = session.copy("frozen_copy", ["id", "name"], "text", {
          create: [
            "create table frozen_copy (id integer, name text)",
            "alter table frozen_copy alter column id set statistics 20",
          ],
        });
        await sink.write("1\tone\n2\ttwo\n");
        expect(await sink.end()).toBe(2);
        expect(await session.query("select id, name from frozen_copy order by id")).toEqual([
          { id: 1, name: "one" },
          { id: 2, name: "two" },
        ]);
      } finally {
        await session.close();
      }
    },
    SLOW,
  );

  it(
    "refuses a statement sent while its connection runs another, naming both",
    async () => {
      const session = await openPostgresSession(db.url);
      try {
        const sink = session.copy("refused_copy", ["id"], "text", {
          create: ["create table refused_copy (id integer)"],
        });
        await expect(session.query("select 1")).rejects.toThrow(
          /"select 1" sent while "copy refused_copy \(id\) from stdin.*" is still running/,
        );
        await sink.write("1\n");
        expect(await sink.end()).toBe(1);
        expect(await session.query("select count(*)::int as n from refused_copy")).toEqual([{ n: 1 }]);
      } finally {
        await session.close();
      }
    },
    SLOW,
  );
});
