// Graceful shutdown of the real service (a child process) on a real, healthy PostgreSQL. Requests are
// held in flight deterministically: a test connection holds an ACCESS EXCLUSIVE lock on the table
// their query reads, and releases it when the test says so.
// - /ready answers 503 from the moment SIGTERM arrives, while a slow request still completes 200;
//   then the process exits 0.
// - A request cut by api.timeout during the drain answers 504, and the process exits 0 although the
//   request's query still holds its database connection.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppServer, eventually, startAppServer } from "../support/app-server";
import { lockTable, waitersOn } from "../support/pg-locks";
import { createTestDatabase, type TestDatabase } from "../support/services";

const SLOW = 120_000;

/** A response (status and JSON body), or the error code of a request that got none. */
type Outcome = { status: number; body: unknown } | { error: string };
const outcome = (url: string): Promise<Outcome> =>
  fetch(url).then(
    async (res) => ({ status: res.status, body: await res.json() }),
    (err: Error & { cause?: { code?: string }; code?: string }) => ({
      error: err.cause?.code ?? err.code ?? err.message,
    }),
  );

describe("graceful shutdown on a healthy database", () => {
  let db: TestDatabase;
  let dir: string;
  /** A config file with the given overrides (and everything else at its default). */
  const configFile = (name: string, yaml: string) => {
    const path = join(dir, name);
    writeFileSync(path, yaml);
    return path;
  };

  beforeAll(async () => {
    db = await createTestDatabase("shutdown");
    dir = mkdtempSync(join(tmpdir(), "tapi-shutdown-"));
  }, SLOW);
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  }, SLOW);

  it(
    "answers /ready 503 from the signal on, while a slow request in flight still completes 200, then exits 0",
    async () => {
      // Generous statement and drain timeouts: only the test's locks decide when requests finish.
      const config = configFile(
        "patient.yaml",
        "api:\n  timeout: 600\n  shutdown_timeout: 600\ndatabase:\n  statement_timeout: 600\n",
      );
      const app = await startAppServer({ args: ["--migrate"], env: { DATABASE_URL: db.url, CONFIG_FILE: config } });
      // /v1/feeds reads gtfs_feed; /ready's first schema check reads kysely_migration. Both are held.
      const feedsLock = await lockTable(db.url, "gtfs_feed");
      const readyLock = await lockTable(db.url, "kysely_migration");
      try {
        let slowDone = false;
        const slow = outcome(`${app.url}/v1/feeds`).finally(() => {
          slowDone = true;
        });
        await waitersOn(db.url, feedsLock.pid, 1, "the slow request to wait for gtfs_feed");
        const readies = [1, 2, 3].map(() => outcome(`${app.url}/ready`));
        await waitersOn(db.url, readyLock.pid, 3, "the /ready requests to wait for kysely_migration");

        app.child.kill("SIGTERM");
        await eventually(async () => app.output().includes('"shutting down'), 10_000, "the shutdown log line");
        await readyLock.release();
        // Healthy database, in-flight /ready requests: each says not ready, because the server is stopping.
        for (const ready of await Promise.all(readies))
          expect(ready).toEqual({
            status: 503,
            body: { status: "not ready", checks: { database: "ok", redis: "disabled", server: "shutting down" } },
          });
        expect(slowDone).toBe(false); // still held: the 503s came while it was in flight

        await feedsLock.release();
        expect(await slow).toEqual({ status: 200, body: { data: [], next_cursor: null } });
        expect(await app.exited).toBe(0);
      } finally {
        await Promise.all([feedsLock.release(), readyLock.release()]);
        await app.stop();
      }
    },
    SLOW,
  );

  it(
    "answers 504 to a request cut by api.timeout during the drain, and exits 0 while its query still runs",
    async () => {
      // The query could run for 10 minutes; the request deadline is 1 s, the drain deadline 3 s after the
      // signal (shutdown_timeout may not be below api.timeout; the margin puts the 504, due 1 s after the
      // request began, before the drain deadline on the same clock). Pending on the lock, the cut
      // request's query keeps its database connection, which closing the pool would wait for.
      const config = configFile(
        "hasty.yaml",
        "api:\n  timeout: 1\n  shutdown_timeout: 3\ndatabase:\n  statement_timeout: 600\n",
      );
      const app: AppServer = await startAppServer({
        args: ["--migrate"],
        env: { DATABASE_URL: db.url, CONFIG_FILE: config },
      });
      const feedsLock = await lockTable(db.url, "gtfs_feed");
      try {
        const slow = outcome(`${app.url}/v1/feeds`);
        await waitersOn(db.url, feedsLock.pid, 1, "the slow request to wait for gtfs_feed");
        app.child.kill("SIGTERM");
        // The lock is still held: only the deadlines can end the request and let the process go.
        const notExited = new Promise<string>((r) => setTimeout(() => r("still running"), 60_000).unref());
        expect(await Promise.race([app.exited, notExited])).toBe(0);
        expect(await slow).toEqual({
          status: 504,
          body: { error: { code: "TIMEOUT", message: "the request did not complete within 1 s" } },
        });
        expect(app.output()).toContain("exiting with connections still busy");
      } finally {
        await feedsLock.release();
        await app.stop();
      }
    },
    SLOW,
  );
});
