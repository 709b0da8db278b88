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
      expect(await running(pid)).toBe("0");
      expect(String(await statement)).toMatch(/cancel|terminat|Connection/i);
    },
    SLOW,
  );
});
