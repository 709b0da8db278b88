// The embedded (PGlite) data directory has one owner at a time; a directory that two processes wrote
// at once (before the lock existed) is refused with its recovery command; and a command stuck in a
// database call still stops on SIGTERM. Real `bun src/main.ts` processes on real directories.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load";
import { DataDirInUseError, LOCK_FILE, lockDataDir } from "../../src/db/data-dir-lock";
import { openDatabase } from "../../src/db/database";
import { migrateToLatest } from "../../src/db/migrate";
import { eventually, type MainRun, runMain, startAppServer } from "../support/app-server";
import { freePort } from "../support/processes";
import { REPO_ROOT } from "../support/repo";

const FEED = join(REPO_ROOT, "node_modules", "sample-gtfs-feed", "gtfs");
const dirs: string[] = [];
const newDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "tapi-embedded-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Ends a child that outlived its test, so a failure does not leave it spinning. */
const reap = (run: MainRun) => {
  if (run.child.exitCode === null) run.child.kill("SIGKILL");
};

/**
 * Leaves `dir` as two PGlite instances on it at once do: one runs ahead of the other's transaction
 * counter and writes a catalogue row (id 1, the id the next import takes), the other checkpoints last,
 * so the directory's counter is behind the row. This is how the wedged directory of issue 15 came to be.
 */
async function writeWithTwoOwners(dir: string): Promise<void> {
  const ahead = await PGlite.create(dir);
  const behind = await PGlite.create(dir);
  for (let i = 0; i < 5; i++) await ahead.query("select txid_current()");
  await ahead.query(
    "insert into gtfs_feed (id, schema_name, status, layout, source) values (1, 'gtfs_f1', 'failed', 1, 'the other process')",
  );
  await ahead.close();
  await behind.close();
}

/** CPU seconds the process has used so far (Linux /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100 on Linux)
}

describe("one process at a time on an embedded data directory", () => {
  it("refuses an import while a server owns the directory, naming the server's PID and what to do", async () => {
    const dir = newDir();
    const server = await startAppServer({ env: { DATA_DIR: dir } });
    try {
      const started = Date.now();
      const importer = runMain(["import", FEED], { DATA_DIR: dir });
      const code = await importer.exited;
      console.log(`import refused in ${Date.now() - started} ms`);
      expect(code).toBe(1);
      const message = importer.output().trim();
      expect(message).toContain(`in use by process ${server.child.pid} (\`serve\``);
      expect(message).toContain(`kill ${server.child.pid}`);
      expect(message).toContain("DATABASE_URL");
      // A second server is turned away the same way; the first one goes on serving what it had.
      const second = runMain(["serve"], { DATA_DIR: dir, PORT: String(await freePort()) });
      expect(await second.exited).toBe(1);
      expect(second.output()).toContain(`in use by process ${server.child.pid}`);
      const feeds = await fetch(`${server.url}/v1/feeds`);
      expect(feeds.status).toBe(200);
      expect((await feeds.json()).data).toEqual([]);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    // Stopped cleanly, the server no longer owns it: the import runs and the feed is there to serve.
    const importer = runMain(["import", FEED], { DATA_DIR: dir, LOG_LEVEL: "warn" });
    expect(await importer.exited).toBe(0);
    const again = await startAppServer({ env: { DATA_DIR: dir } });
    try {
      const body = await (await fetch(`${again.url}/v1/feeds`)).json();
      expect(body.data).toHaveLength(1);
    } finally {
      await again.stop();
    }
  });

  it("an owner killed with SIGKILL leaves nothing that blocks the next start", async () => {
    const dir = newDir();
    const server = await startAppServer({ env: { DATA_DIR: dir } });
    server.child.kill("SIGKILL");
    expect(await server.exited).toBe("SIGKILL");
    const importer = runMain(["import", FEED], { DATA_DIR: dir, LOG_LEVEL: "warn" });
    try {
      expect(await importer.exited, importer.output()).toBe(0);
      expect(importer.output()).toContain("imported feed version");
    } finally {
      reap(importer);
    }
  });
});

describe("a directory two processes wrote at once", () => {
  it("is refused with the recovery command instead of hanging the import", async () => {
    const dir = newDir();
    // Made by a version without the lock: the schema is there, the lock file is not.
    const config = loadConfig({ env: { DATA_DIR: dir, NODE_ENV: "test" }, file: join(REPO_ROOT, "config.yaml") });
    const database = await openDatabase(config, pino({ level: "silent" }));
    await migrateToLatest(database.db);
    await database.close();
    await writeWithTwoOwners(dir);

    for (const attempt of [1, 2]) {
      const importer = runMain(["import", FEED], { DATA_DIR: dir, LOG_LEVEL: "warn" });
      // Without the check the import waits forever on the other process's row: end it after a while.
      const timer = setTimeout(() => reap(importer), 30_000);
      try {
        expect(await importer.exited, `attempt ${attempt}`).toBe(1);
      } finally {
        clearTimeout(timer);
      }
      const message = importer.output().trim().split("\n").at(-1);
      expect(message).toContain(`the embedded database in ${dir} is damaged: 1 rows (in public.gtfs_feed)`);
      expect(message).toContain(`mv ${dir} ${dir}.damaged && npm run gtfs:import -- <feed>`);
    }
  });
});

describe("SIGTERM", () => {
  it("ends a command stuck inside a database call", async () => {
    const dir = newDir();
    // The lock file of this version says the directory was checked, then it is damaged anyway
    // (as if written by something outside this program): the import gets stuck in PGlite.
    const migrate = runMain(["migrate"], { DATA_DIR: dir });
    expect(await migrate.exited, migrate.output()).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")).checked).toBe(true);
    await writeWithTwoOwners(dir);

    const importer = runMain(["import", FEED], { DATA_DIR: dir });
    try {
      await eventually(async () => importer.output().includes("schema is up to date"), 30_000, "import to start");
      const pid = importer.child.pid!;
      const before = cpuSeconds(pid);
      // Stuck: busy on one core for a second and a half, with nothing to show for it.
      await eventually(
        async () => {
          if (importer.child.exitCode !== null) throw new Error(`import ended: ${importer.output()}`);
          return cpuSeconds(pid) - before > 1.5;
        },
        30_000,
        "the import to spin",
      );
      const signalled = Date.now();
      importer.child.kill("SIGTERM");
      const timer = setTimeout(() => reap(importer), 30_000);
      const code = await importer.exited;
      clearTimeout(timer);
      console.log(`stuck import exited ${Date.now() - signalled} ms after SIGTERM`);
      expect(code).toBe(143);
      expect(importer.output()).toContain("after SIGTERM (a blocked database call): stopping now");
    } finally {
      reap(importer);
    }
  });
});

describe("lockDataDir without an OS lock (the record alone)", () => {
  it("refuses while the recorded process lives, and takes over from a dead one", () => {
    const dir = newDir();
    const alive = process.ppid; // a process that certainly exists and is not this one
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: alive, command: "serve", host: hostname(), since: "then", checked: true }),
    );
    expect(() => lockDataDir(dir, { command: "import" })).toThrow(DataDirInUseError);
    expect(() => lockDataDir(dir, { command: "import" })).toThrow(`in use by process ${alive} (\`serve\`, since then)`);

    const dead = 2 ** 22 + 1; // above Linux's pid_max: never a live process
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: dead, command: "serve", host: hostname(), since: "then", checked: true }),
    );
    const lock = lockDataDir(dir, { command: "import" });
    try {
      expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8"))).toMatchObject({
        pid: process.pid,
        command: "import",
        checked: true,
      });
    } finally {
      lock.release();
    }
  });
});
