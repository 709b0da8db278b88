// The service through database and cache outages under load. The short soak (`npm run soak -- --short`)
// runs the server under wrk through one PostgreSQL and one Redis outage; the full soak (`npm run soak`:
// four cycles, and a memory verdict) is too long for every test run. What the soak first crashed on (a
// pool connection that PostgreSQL dropped while it was checked out) is reproduced here on purpose.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load";
import { openDatabase } from "../../src/db/database";
import { type AppServer, eventually, runMain, startAppServer } from "../support/app-server";
import { type ServerProcess, startPostgres } from "../support/processes";
import { BUN, REPO_ROOT } from "../support/repo";

describe("a query in flight when PostgreSQL stops", () => {
  let postgres: ServerProcess;
  let server: AppServer;
  beforeAll(async () => {
    postgres = await startPostgres();
    const migrate = runMain(["migrate"], { DATABASE_URL: postgres.url });
    expect(await migrate.exited, migrate.output()).toBe(0);
    server = await startAppServer({ env: { DATABASE_URL: postgres.url } });
  });
  afterAll(async () => {
    await server?.stop();
    await postgres?.destroy();
  });

  it("fails with 503 and the server lives on, and serves again when PostgreSQL is back", async () => {
    const locker = new pg.Client({ connectionString: postgres.url });
    await locker.connect();
    await locker.query("begin");
    await locker.query("lock table gtfs_feed in access exclusive mode");
    const inFlight = fetch(`${server.url}/v1/feeds`);
    // The request's pool connection waits on the lock: checked out, its query running. (Watched from
    // another session: pg_stat_activity is a snapshot per transaction.)
    const watcher = new pg.Client({ connectionString: postgres.url });
    await watcher.connect();
    await eventually(
      async () =>
        (
          await watcher.query(
            "select 1 from pg_stat_activity where application_name = 'transportation-api' and wait_event_type = 'Lock'",
          )
        ).rowCount === 1,
      10_000,
      "the request's query to wait on the lock",
    );
    // Their connections go down with the server (fast shutdown: the lock is never released).
    for (const c of [locker, watcher]) c.on("error", () => {});
    await postgres.stop();
    for (const c of [locker, watcher]) void c.end().catch(() => {});
    const res = await inFlight;
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe("DATABASE_UNAVAILABLE");
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
    await postgres.start();
    await eventually(async () => (await fetch(`${server.url}/v1/feeds`)).status === 200, 15_000, "serving again");
  });
});

describe("a pool connection checked out when PostgreSQL stops", () => {
  it("does not end the process: the error it emits has a listener", async () => {
    const postgres = await startPostgres();
    const config = loadConfig({
      env: { DATABASE_URL: postgres.url, NODE_ENV: "test" },
      file: join(REPO_ROOT, "config.yaml"),
    });
    const database = await openDatabase(config, pino({ level: "silent" }));
    try {
      // Checked out and between queries, as a request holds it for a moment: the pool's own listener
      // is off it, and an "error" event nobody hears is thrown out of the socket's handler.
      const client = await database.pool!.connect();
      const ended = new Promise((resolve) => client.once("end", resolve));
      await postgres.stop();
      await ended;
      client.release(true);
    } finally {
      await database.close();
      await postgres.destroy();
    }
  });
});

describe("soak", () => {
  it("survives PostgreSQL and Redis going away and coming back under load", () => {
    const run = spawnSync(BUN, [join(REPO_ROOT, "scripts", "soak", "run.ts"), "--short"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 300_000,
    });
    console.log(run.stdout);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/^soak: passed$/m);
  }, 320_000);
});
