// Holding work in flight on a real PostgreSQL, deterministically: a test connection takes an ACCESS
// EXCLUSIVE lock on the table that work reads (even plain SELECTs then wait), the test waits until the
// work is seen waiting on it, and releases it when it says so.
import pg from "pg";
import { eventually } from "./app-server";

export interface TableLock {
  /** The backend pid of the session holding the lock. */
  pid: number;
  release(): Promise<void>;
}

/** Holds an ACCESS EXCLUSIVE lock on `table` in an open transaction until release(). */
export async function lockTable(url: string, table: string): Promise<TableLock> {
  const locker = new pg.Client({ connectionString: url });
  locker.on("error", () => {}); // terminated by the database's drop after a failed test
  await locker.connect();
  await locker.query("begin");
  await locker.query(`lock table ${table} in access exclusive mode`);
  const pid = (await locker.query("select pg_backend_pid() as pid")).rows[0].pid as number;
  let released = false;
  return {
    pid,
    async release() {
      if (released) return;
      released = true;
      await locker.query("rollback").catch(() => {});
      await locker.end();
    },
  };
}

/** Resolves once `n` sessions wait for a lock that session `pid` holds. */
export async function waitersOn(url: string, pid: number, n: number, what: string): Promise<void> {
  const observer = new pg.Client({ connectionString: url });
  await observer.connect();
  try {
    await eventually(
      async () =>
        (
          await observer.query(
            "select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))",
            [pid],
          )
        ).rows[0].n >= n,
      30_000,
      what,
    );
  } finally {
    await observer.end();
  }
}
