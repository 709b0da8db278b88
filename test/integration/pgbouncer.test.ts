// PgBouncer in transaction mode (deploy/k8s/components/pgbouncer) against a real PgBouncer and
// PostgreSQL: what the API does through it works with fewer server connections than its pool; what
// transaction pooling changes (session advisory locks, session settings) is shown, which is why
// migrations keep working through it but imports and backups connect directly (docs/operations.md).

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppServer, runMain, startAppServer } from "../support/app-server";
import { type ServerProcess, startPgBouncer, startPostgres } from "../support/processes";
import { REPO_ROOT } from "../support/repo";

const FEED = `${REPO_ROOT}/node_modules/sample-gtfs-feed/gtfs`;
// What node-postgres sends at start-up for our pool settings; the component tells PgBouncer to drop them.
const IGNORED = ["extra_float_digits", "statement_timeout", "idle_in_transaction_session_timeout"];

async function client(url: string, options: pg.ClientConfig = {}): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, ...options });
  await c.connect();
  return c;
}

describe("the API through PgBouncer in transaction mode", () => {
  let postgres: ServerProcess;
  let pgbouncer: ServerProcess;
  let api: AppServer | undefined;

  beforeAll(async () => {
    postgres = await startPostgres();
    // Two server connections for an API whose pool may open 30: transaction pooling multiplexes them.
    pgbouncer = await startPgBouncer({ postgresPort: postgres.port, poolSize: 2, ignoreStartupParameters: IGNORED });
  });
  afterAll(async () => {
    await api?.stop();
    await pgbouncer?.destroy();
    await postgres?.destroy();
  });

  it("migrates through it, imports directly, and serves every request through two server connections", async () => {
    // The migrator's lock is a transaction-level advisory lock: it holds through transaction pooling.
    const migrate = runMain(["migrate"], { DATABASE_URL: pgbouncer.url });
    expect(await migrate.exited, migrate.output()).toBe(0);
    const imported = runMain(["import", FEED], { DATABASE_URL: postgres.url, LOG_LEVEL: "warn" });
    expect(await imported.exited, imported.output()).toBe(0);

    api = await startAppServer({ env: { DATABASE_URL: pgbouncer.url, DATABASE_TRANSACTION_POOLING: "true" } });
    const paths = ["/v1/feeds", "/v1/agencies", "/v1/routes", "/v1/stops?q=a", "/v1/stops/nearby?lat=36.4&lon=-117"];
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => fetch(`${api!.url}${paths[i % paths.length]}`)),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(60).fill(200));
    expect((await (await fetch(`${api.url}/ready`)).json()).checks.database).toBe("ok");

    const admin = await client(postgres.url);
    try {
      const { rows } = await admin.query(
        "select count(*)::int as n from pg_stat_activity where datname = 'postgres' and backend_type = 'client backend' and pid <> pg_backend_pid()",
      );
      expect(rows[0].n).toBeLessThanOrEqual(2); // PgBouncer's pool, not the API's
    } finally {
      await admin.end();
    }
  });

  it("drops the pool's statement_timeout: the database role's setting is what applies", async () => {
    const admin = await client(postgres.url);
    try {
      await admin.query("alter role postgres set statement_timeout = '150ms'");
      // Server connections made before the change keep the old value: make PgBouncer open new ones.
      await pgbouncer.stop();
      await pgbouncer.start();
      const pooled = await client(pgbouncer.url, { statement_timeout: 5000 });
      try {
        expect((await pooled.query("show statement_timeout")).rows[0].statement_timeout).toBe("150ms");
        await expect(pooled.query("select pg_sleep(1)")).rejects.toMatchObject({ code: "57014" });
      } finally {
        await pooled.end();
      }
    } finally {
      await admin.query("alter role postgres reset statement_timeout");
      await admin.end();
    }
  });

  it("does not keep a session advisory lock to its session (why imports connect directly)", async () => {
    const single = await startPgBouncer({ postgresPort: postgres.port, poolSize: 1, ignoreStartupParameters: IGNORED });
    const [a, b] = [await client(single.url), await client(single.url)];
    try {
      expect((await a.query("select pg_try_advisory_lock(4242) as ok")).rows[0].ok).toBe(true);
      // Another client is handed the same server connection, which holds the lock: it gets it too.
      expect((await b.query("select pg_try_advisory_lock(4242) as ok")).rows[0].ok).toBe(true);
      // A transaction-level lock (the migrator's) stays with its transaction.
      await a.query("begin");
      await a.query("select pg_advisory_xact_lock(4343)");
      const direct = await client(postgres.url);
      try {
        expect((await direct.query("select pg_try_advisory_xact_lock(4343) as ok")).rows[0].ok).toBe(false);
      } finally {
        await direct.end();
      }
      await a.query("commit");
    } finally {
      await a.end();
      await b.end();
      await single.destroy();
    }
  });
});
