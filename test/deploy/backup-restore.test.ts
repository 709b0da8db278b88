// deploy/scripts/backup.sh and restore.sh against a real PostgreSQL 15.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/app-server";
import { freePort, postgresBinDir } from "../support/processes";
import { createTestDatabase, stopPrivateServers, type TestDatabase } from "../support/services";
import {
  dumpsIn,
  fingerprint,
  loadProjectDatabase,
  loadSampleData,
  query,
  run,
  SCRIPTS,
  script,
  tempDir,
} from "./helpers";

const DAY = 86_400_000;

const schemas = async (url: string): Promise<string[]> =>
  (await query<{ nspname: string }>(url, "select nspname from pg_namespace order by 1")).map((r) => r.nspname);

/** What a backup run leaves besides its lock and status file. */
const backupFiles = (dir: string) =>
  readdirSync(dir).filter((f) => f !== ".backup.lock" && f !== "transportation_backup.prom");

/** Sets a file's mtime to `ageMs` in the past (retention reads mtimes; no waiting). */
function age(file: string, ageMs: number, content = "not a real dump"): void {
  if (!existsSync(file)) writeFileSync(file, content);
  const when = new Date(Date.now() - ageMs);
  utimesSync(file, when, when);
}

describe("backup.sh and restore.sh", () => {
  let db: TestDatabase;
  const dirs: string[] = [];
  const newDir = (name: string) => {
    const dir = tempDir(name);
    dirs.push(dir);
    return dir;
  };

  let foreign: TestDatabase; // a database of something else: no transportation-api tables
  const dbName = (url: string) => new URL(url).pathname.slice(1);
  /** A private copy of a real backup, made `ageMs` old. */
  let sample = "";
  const copyOfBackup = (file: string, ageMs: number) => {
    writeFileSync(file, readFileSync(sample));
    age(file, ageMs);
  };

  beforeAll(async () => {
    db = await createTestDatabase("backup");
    await loadProjectDatabase(db.url);
    foreign = await createTestDatabase("foreign");
    await loadSampleData(foreign.url, 500);
    const dir = newDir("sample");
    expect((await script("backup.sh", [], { DATABASE_URL: db.url, BACKUP_DIR: dir })).code).toBe(0);
    sample = join(dir, dumpsIn(dir)[0]!);
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
    await foreign?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await stopPrivateServers();
  }, 60_000);

  it("backs up, and a restore brings back every table's rows and sequences after data was changed", async () => {
    const dir = newDir("bk");
    const before = await fingerprint(db.url);
    expect(Object.keys(before)).toEqual(
      expect.arrayContaining([
        "table app_metadata",
        "table kysely_migration",
        "table routes",
        "table stop_times",
        "table stops",
        "sequence stops_stop_id_seq",
      ]),
    );

    const backup = await script("backup.sh", [], { DATABASE_URL: db.url, BACKUP_DIR: dir });
    expect(backup.stderr).toContain("wrote");
    expect(backup.code).toBe(0);
    const files = dumpsIn(dir);
    expect(files).toHaveLength(1);
    // Only the finished archive (and the lock and status files) remain: no temp file left behind.
    expect(backupFiles(dir)).toEqual(files);
    const file = join(dir, files[0]!);
    const toc = execFileSync("pg_restore", ["--list", file], { encoding: "utf8" });
    expect(toc).toMatch(/TABLE DATA public stop_times/);
    expect(toc).toMatch(/Format: CUSTOM/);

    // Drop, alter, add and delete data after the backup.
    await query(
      db.url,
      `delete from stop_times where stop_sequence < 10;
       update stops set stop_name = 'renamed' where stop_id % 3 = 0;
       insert into stops (stop_name) select 'new ' || g from generate_series(1, 50) g;
       drop table routes;`,
    );
    expect(await fingerprint(db.url)).not.toEqual(before);

    const restore = await script("restore.sh", [file], { DATABASE_URL: db.url });
    expect(restore.stderr).toContain(`into database ${new URL(db.url).pathname.slice(1)}`);
    expect(restore.code).toBe(0);
    expect(await fingerprint(db.url)).toEqual(before);
  }, 60_000);

  it("restores `latest` from BACKUP_DIR, and into another named database with --dbname", async () => {
    const dir = newDir("latest");
    const scratch = await createTestDatabase("scratch");
    try {
      expect((await script("backup.sh", [], { DATABASE_URL: db.url, BACKUP_DIR: dir })).code).toBe(0);
      const before = await fingerprint(db.url);
      const result = await script("restore.sh", ["--dbname", new URL(scratch.url).pathname.slice(1), "latest"], {
        DATABASE_URL: db.url,
        BACKUP_DIR: dir,
      });
      expect(result.code).toBe(0);
      expect(await fingerprint(scratch.url)).toEqual(before);
      expect(await fingerprint(db.url)).toEqual(before);
    } finally {
      await scratch.drop();
    }
  }, 60_000);

  it("refuses to run without a DATABASE_URL that names the database: libpq's defaults are never used", async () => {
    const dir = newDir("notarget");
    copyOfBackup(join(dir, "transportation_db_20200101_020000.dump"), 30 * DAY);
    const u = new URL(db.url);
    const pgEnv = { PGHOST: u.hostname, PGPORT: u.port, PGUSER: "postgres", PGDATABASE: dbName(db.url) };
    const without = await script("backup.sh", [], { ...pgEnv, BACKUP_DIR: dir });
    expect(without.code).not.toBe(0);
    expect(without.stderr).toMatch(/DATABASE_URL is not set: name the database/);
    const noDatabase = `postgresql://postgres@${u.host}`;
    for (const url of [noDatabase, `${noDatabase}/`, `${noDatabase}/?sslmode=disable`]) {
      const r = await script("backup.sh", [], { DATABASE_URL: url, BACKUP_DIR: dir });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/DATABASE_URL names no database/);
    }
    const restore = await script("restore.sh", ["latest"], { ...pgEnv, BACKUP_DIR: dir });
    expect(restore.code).not.toBe(0);
    expect(restore.stderr).toMatch(/DATABASE_URL is not set/);
    expect(dumpsIn(dir)).toEqual(["transportation_db_20200101_020000.dump"]); // nothing pruned
  }, 60_000);

  it("keeps no backup of a database without the project's tables, and prunes nothing then", async () => {
    const dir = newDir("wrongdb");
    copyOfBackup(join(dir, "transportation_db_20200101_020000.dump"), 30 * DAY);
    const result = await script("backup.sh", [], { DATABASE_URL: foreign.url, BACKUP_DIR: dir });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(
      new RegExp(
        `database ${dbName(foreign.url)} has no public.kysely_migration public.app_metadata .*not kept, nothing pruned`,
      ),
    );
    expect(backupFiles(dir)).toEqual(["transportation_db_20200101_020000.dump"]);
  }, 60_000);

  it("reads --env-file as data: `&` in the URL is a character, a misspelt key is an error naming its line", async () => {
    const dir = newDir("envfile");
    const envFile = join(newDir("etc"), "backup.env");
    const url = `${db.url}?sslmode=disable&application_name=nightly_backup`;
    writeFileSync(envFile, `# nightly backup\nDATABASE_URL="${url}"\nexport RETENTION_DAYS=3\n\nBACKUP_DIR=${dir}\n`, {
      mode: 0o600,
    });
    const ok = await script("backup.sh", ["--env-file", envFile], {});
    expect(ok.stderr).toContain("wrote");
    expect(ok.code).toBe(0);
    expect(dumpsIn(dir)).toHaveLength(1);

    writeFileSync(envFile, `DATABSE_URL=${db.url}\nBACKUP_DIR=${dir}\n`, { mode: 0o600 });
    const typo = await script("backup.sh", ["--env-file", envFile], {});
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toContain(`${envFile} line 1: unknown key DATABSE_URL`);

    writeFileSync(envFile, `DATABASE_URL=$(touch ${dir}/pwned)\n`, { mode: 0o600 });
    const code = await script("backup.sh", ["--env-file", envFile], {});
    expect(code.code).not.toBe(0);
    expect(code.stderr).toMatch(/DATABASE_URL is not a postgresql:\/\/ URL/);
    expect(existsSync(join(dir, "pwned"))).toBe(false);

    writeFileSync(envFile, `DATABASE_URL=${db.url}\n`, { mode: 0o644 });
    chmodSync(envFile, 0o644);
    const open = await script("backup.sh", ["--env-file", envFile], { BACKUP_DIR: dir });
    expect(open.code).not.toBe(0);
    expect(open.stderr).toMatch(/mode 644 lets other users read the database password; chmod 600/);
  }, 60_000);

  it("refuses to restore an archive without the project's tables unless forced", async () => {
    const dir = newDir("foreignarchive");
    const archive = join(dir, "transportation_db_20200101_020000.dump");
    const dumped = await run("pg_dump", ["--format=custom", `--file=${archive}`, foreign.url]);
    expect(dumped.code, dumped.stderr).toBe(0);
    const scratch = await createTestDatabase("scratchforeign");
    try {
      await loadProjectDatabase(scratch.url, 1_000);
      const before = await fingerprint(scratch.url);
      const refused = await script("restore.sh", [archive], { DATABASE_URL: scratch.url });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(
        /refusing to restore .*without public\.kysely_migration public\.app_metadata, not a transportation-api backup; database untouched \(--force/,
      );
      expect(await fingerprint(scratch.url)).toEqual(before);
      const forced = await script("restore.sh", ["--force", archive], { DATABASE_URL: scratch.url });
      expect(forced.code, forced.stderr).toBe(0);
      expect(await fingerprint(scratch.url)).toEqual(await fingerprint(foreign.url));
    } finally {
      await scratch.drop();
    }
  }, 60_000);

  it("never lets retention delete the newest usable backup, whatever newer files say", async () => {
    const dir = newDir("lastgood");
    copyOfBackup(join(dir, "transportation_db_20200101_020000.dump"), 40 * DAY);
    // Newer, but dumps of another database (as a wrong DATABASE_URL made them before this check).
    for (const [name, days] of [
      ["transportation_db_20200201_020000.dump", 20],
      ["transportation_db_20200202_020000.dump", 10],
    ] as const) {
      const file = join(dir, name);
      expect((await run("pg_dump", ["--format=custom", `--file=${file}`, foreign.url])).code).toBe(0);
      age(file, days * DAY);
    }
    const pruned = await script("backup.sh", ["--prune-only"], { BACKUP_DIR: dir, RETENTION_DAYS: "7" });
    expect(pruned.code).toBe(0);
    expect(dumpsIn(dir)).toEqual(["transportation_db_20200101_020000.dump"]);
    expect(pruned.stderr).toMatch(/newest usable transportation_db_20200101_020000\.dump/);
  }, 60_000);

  it("refuses a truncated backup before touching the database", async () => {
    const dir = newDir("trunc");
    expect((await script("backup.sh", [], { DATABASE_URL: db.url, BACKUP_DIR: dir })).code).toBe(0);
    const full = readFileSync(join(dir, dumpsIn(dir)[0]!));
    const truncated = join(dir, "truncated.dump");
    writeFileSync(truncated, full.subarray(0, Math.floor(full.length / 2)));
    // A truncated archive still has a readable table of contents: `pg_restore --list` alone accepts it.
    expect(() => execFileSync("pg_restore", ["--list", truncated], { stdio: "pipe" })).not.toThrow();

    await query(db.url, "update stops set stop_name = 'after backup' where stop_id = 1");
    const before = await fingerprint(db.url);
    const result = await script("restore.sh", [truncated], { DATABASE_URL: db.url });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/refusing to restore .*incomplete or corrupt/);
    expect(await fingerprint(db.url)).toEqual(before);

    const garbage = join(dir, "garbage.dump");
    writeFileSync(garbage, "this is not an archive\n");
    const refused = await script("restore.sh", [garbage], { DATABASE_URL: db.url });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/refusing to restore/);
    expect(await fingerprint(db.url)).toEqual(before);
  }, 60_000);

  it("rolls a failed restore back completely (a table stays locked past RESTORE_LOCK_TIMEOUT)", async () => {
    const dir = newDir("rollback");
    expect((await script("backup.sh", [], { DATABASE_URL: db.url, BACKUP_DIR: dir })).code).toBe(0);
    await query(
      db.url,
      `delete from stop_times where stop_sequence = 1; update routes set route_type = 9;
       create table made_later (id int); create schema gtfs_f98; create table gtfs_f98.stops (id int)`,
    );
    const before = await fingerprint(db.url);
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query("begin; lock table stop_times in access share mode");
      const result = await script("restore.sh", [join(dir, dumpsIn(dir)[0]!)], {
        DATABASE_URL: db.url,
        RESTORE_LOCK_TIMEOUT: "1",
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/rolled back, the database is unchanged/);
    } finally {
      await holder.query("rollback");
      await holder.end();
    }
    // What the restore would have dropped is still there too.
    expect(await fingerprint(db.url)).toEqual(before);
    expect(await schemas(db.url)).toContain("gtfs_f98");
    await query(db.url, "drop table made_later; drop schema gtfs_f98 cascade");
  }, 60_000);

  /**
   * Starts a restore, lets it block on a table lock, sends SIGTERM to the restore.sh process, releases
   * the lock and checks that nothing was restored: not by the script, nor by a client it left behind.
   */
  async function interruptRestore(asPid1: boolean) {
    const dir = newDir("sigterm");
    expect((await script("backup.sh", [], { DATABASE_URL: db.url, BACKUP_DIR: dir })).code).toBe(0);
    await query(db.url, "update routes set route_type = 5");
    const before = await fingerprint(db.url);
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    const args = [join(SCRIPTS, "restore.sh"), join(dir, dumpsIn(dir)[0]!)];
    // A new PID namespace makes bash PID 1, where the kernel drops signals it has no handler for.
    const child = spawn(asPid1 ? "unshare" : "bash", asPid1 ? ["--pid", "--fork", "bash", ...args] : args, {
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        RESTORE_LOCK_TIMEOUT: "600",
        PATH: `${postgresBinDir()}:${process.env.PATH}`,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const restoring = (state: string) =>
      query<{ n: number }>(
        db.url,
        `select count(*)::int as n from pg_stat_activity where application_name like 'transportation-restore-%' ${state}`,
      ).then((rows) => rows[0]!.n);
    try {
      await holder.query("begin; lock table stop_times in access share mode");
      await eventually(
        async () => (await restoring("and wait_event_type = 'Lock'")) > 0,
        30_000,
        "the restore to wait",
      );
      const target = asPid1
        ? Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(" ")[0])
        : child.pid!;
      process.kill(target, "SIGTERM");
      const code = await Promise.race([
        exited,
        new Promise<string>((resolve) => setTimeout(() => resolve("still running 20 s after SIGTERM"), 20_000)),
      ]);
      expect(code).toBe(143);
      expect(stderr).toMatch(/interrupted by SIGTERM: the restore was stopped and rolled back; database \S+ unchanged/);
      await eventually(async () => (await restoring("")) === 0, 10_000, "the restore's session to end");
    } finally {
      await holder.query("rollback");
      await holder.end();
      child.kill("SIGKILL");
    }
    expect(await fingerprint(db.url)).toEqual(before);
  }

  it("stops on SIGTERM and rolls the restore back, leaving no client behind to commit it later", async () => {
    await interruptRestore(false);
  }, 60_000);

  (process.getuid?.() === 0 ? it : it.skip)(
    "stops on SIGTERM as PID 1 (a Job's container) and rolls the restore back",
    async () => {
      await interruptRestore(true);
    },
    60_000,
  );

  it("stops a backup on SIGTERM at once, leaving no partial file and a failed run in the status", async () => {
    const dir = newDir("backupsigterm");
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    const child = spawn("bash", [join(SCRIPTS, "backup.sh")], {
      env: { ...process.env, DATABASE_URL: db.url, BACKUP_DIR: dir, PATH: `${postgresBinDir()}:${process.env.PATH}` },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const dumping = () =>
      query<{ n: number }>(
        db.url,
        "select count(*)::int as n from pg_stat_activity where application_name = 'pg_dump' and wait_event_type = 'Lock'",
      ).then((rows) => rows[0]!.n);
    try {
      // pg_dump waits for this lock as long as it is held: the dump is "in progress".
      await holder.query("begin; lock table routes in access exclusive mode");
      await eventually(async () => (await dumping()) > 0, 30_000, "pg_dump to wait");
      child.kill("SIGTERM");
      const code = await Promise.race([
        exited,
        new Promise<string>((resolve) => setTimeout(() => resolve("still running 20 s after SIGTERM"), 20_000)),
      ]);
      expect(code).toBe(143);
      expect(stderr).toMatch(/backup: ERROR: interrupted by SIGTERM: no backup written/);
      await eventually(async () => (await dumping()) === 0, 10_000, "pg_dump's session to end");
    } finally {
      await holder.query("rollback");
      await holder.end();
      child.kill("SIGKILL");
    }
    expect(backupFiles(dir)).toEqual([]);
    expect(readFileSync(join(dir, "transportation_backup.prom"), "utf8")).toMatch(
      /^transportation_backup_last_attempt_success 0$/m,
    );
  }, 60_000);

  it("drops what was made after the backup: a later migration's objects and an imported feed's schema", async () => {
    const dir = newDir("later");
    // A feed version in the backup, caught while its import was still adding tables.
    await query(
      db.url,
      "create schema gtfs_f97; create table gtfs_f97.stops (id int); insert into gtfs_f97.stops values (7)",
    );
    expect((await script("backup.sh", [], { DATABASE_URL: db.url, BACKUP_DIR: dir })).code).toBe(0);
    const before = await fingerprint(db.url);
    await query(
      db.url,
      `create table made_later (id serial primary key, note text); insert into made_later (note) values ('x');
       create view made_later_view as select * from made_later; create sequence made_later_counter;
       create schema gtfs_f99; create table gtfs_f99.stops (id int); insert into gtfs_f99.stops values (1);
       create table gtfs_f97.stop_times (id int); create schema gtfs_fdw; create table gtfs_fdw.kept (id int)`,
    );
    try {
      const restore = await script("restore.sh", [join(dir, dumpsIn(dir)[0]!)], { DATABASE_URL: db.url });
      expect(restore.code, restore.stderr).toBe(0);
      expect(restore.stderr).toContain("dropping what the backup does not have");
      expect(restore.stderr).not.toContain("NOTICE");
      expect(await fingerprint(db.url)).toEqual(before);
      const names = await schemas(db.url);
      expect(names).not.toContain("gtfs_f99");
      expect(names).toEqual(expect.arrayContaining(["gtfs_f97", "gtfs_fdw"])); // gtfs_fdw is no feed schema: kept
      const tables = await query<{ t: string }>(
        db.url,
        "select schemaname || '.' || tablename as t from pg_tables where schemaname in ('gtfs_f97', 'gtfs_fdw') order by 1",
      );
      expect(tables.map((r) => r.t)).toEqual(["gtfs_f97.stops", "gtfs_fdw.kept"]);
      expect(await query(db.url, "select id from gtfs_f97.stops")).toEqual([{ id: 7 }]);
      const views = await query(db.url, "select count(*)::int as n from pg_views where viewname = 'made_later_view'");
      expect(views).toEqual([{ n: 0 }]);
      const refused = await script("restore.sh", [join(dir, dumpsIn(dir)[0]!), "--", "--single-transaction"], {
        DATABASE_URL: db.url,
      });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("cannot be used: the restore is already one transaction");
    } finally {
      await query(db.url, "drop schema if exists gtfs_f97 cascade; drop schema if exists gtfs_fdw cascade");
    }
  }, 60_000);

  it("keeps backups younger than RETENTION_DAYS and deletes older ones, never other files", async () => {
    const dir = newDir("retention");
    const old = ["transportation_db_20200101_020000.dump", "transportation_db_20200102_020000.dump"];
    copyOfBackup(join(dir, old[0]!), 30 * DAY);
    copyOfBackup(join(dir, old[1]!), 7 * DAY + 3_600_000); // just past 7 days
    const young = ["transportation_db_20200103_020000.dump", "transportation_db_20200104_020000.dump"];
    copyOfBackup(join(dir, young[0]!), 7 * DAY - 3_600_000); // just inside 7 days
    copyOfBackup(join(dir, young[1]!), DAY);
    age(join(dir, "notes.txt"), 90 * DAY);
    age(join(dir, ".transportation_db_20200101_020000.dump.partial"), 2 * DAY); // a killed run's leftover

    const result = await script("backup.sh", [], { DATABASE_URL: db.url, BACKUP_DIR: dir });
    expect(result.code).toBe(0);
    const now = dumpsIn(dir);
    expect(now).toHaveLength(3);
    expect(now).toEqual(expect.arrayContaining(young));
    for (const f of old) expect(now).not.toContain(f);
    expect(existsSync(join(dir, "notes.txt"))).toBe(true);
    expect(existsSync(join(dir, ".transportation_db_20200101_020000.dump.partial"))).toBe(false);
    expect(result.stderr).toMatch(/deleted 2, kept 3/);

    // RETENTION_DAYS is configurable.
    const pruned = await script("backup.sh", ["--prune-only"], { BACKUP_DIR: dir, RETENTION_DAYS: "3" });
    expect(pruned.code).toBe(0);
    expect(dumpsIn(dir)).toEqual(now.filter((f) => f !== young[0]));
  }, 60_000);

  it("never deletes the newest backup, however old", async () => {
    const dir = newDir("newest");
    copyOfBackup(join(dir, "transportation_db_20200101_020000.dump"), 40 * DAY);
    copyOfBackup(join(dir, "transportation_db_20200102_020000.dump"), 30 * DAY);
    copyOfBackup(join(dir, "transportation_db_20200103_020000.dump"), 20 * DAY);
    const result = await script("backup.sh", ["--prune-only"], { BACKUP_DIR: dir, RETENTION_DAYS: "7" });
    expect(result.code).toBe(0);
    expect(dumpsIn(dir)).toEqual(["transportation_db_20200103_020000.dump"]);
  }, 60_000);

  it("fails clearly on an unreachable server without printing DATABASE_URL or pruning", async () => {
    const dir = newDir("unreachable");
    age(join(dir, "transportation_db_20200101_020000.dump"), 30 * DAY);
    const url = `postgresql://transport:Sup3rS3cretPw@127.0.0.1:${await freePort()}/transportation_db`;
    const result = await script("backup.sh", [], { DATABASE_URL: url, BACKUP_DIR: dir });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/pg_dump failed: .*\[database server unreachable\]/);
    expect(result.stderr + result.stdout).not.toContain("Sup3rS3cretPw");
    expect(backupFiles(dir)).toEqual(["transportation_db_20200101_020000.dump"]);
  }, 60_000);

  it("fails clearly on bad credentials", async () => {
    const dir = newDir("creds");
    const url = new URL(db.url);
    url.username = "no_such_role";
    url.password = "Wr0ngPassw0rd";
    const result = await script("backup.sh", [], { DATABASE_URL: url.toString(), BACKUP_DIR: dir });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/\[bad credentials/);
    expect(result.stderr).not.toContain("Wr0ngPassw0rd");
    expect(dumpsIn(dir)).toEqual([]);
  }, 60_000);

  it("fails clearly when the disk fills up, leaving no partial file and pruning nothing", async () => {
    const dir = newDir("full");
    // A 64 KiB tmpfs where root may mount one; otherwise a 64 KiB file-size limit (same failed write).
    let mounted = false;
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir], { stdio: "pipe" });
      mounted = true;
    } catch {
      console.warn("backup test: cannot mount a tmpfs here; simulating a full disk with ulimit -f");
    }
    try {
      age(join(dir, "transportation_db_20200101_020000.dump"), 30 * DAY, "x");
      const limit = mounted ? "" : "ulimit -f 64; ";
      const result = await run("bash", ["-c", `${limit}exec bash "$0"`, join(SCRIPTS, "backup.sh")], {
        DATABASE_URL: db.url,
        BACKUP_DIR: dir,
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/ERROR: pg_dump failed/);
      expect(result.stderr).toMatch(
        mounted ? /No space left on device.*\[disk full/ : /file size limit exceeded.*\[disk full/,
      );
      expect(backupFiles(dir)).toEqual(["transportation_db_20200101_020000.dump"]);
    } finally {
      if (mounted) execFileSync("umount", [dir]);
    }
  }, 60_000);

  it("says plainly when the server is newer than pg_dump (after a server upgrade), before dumping", async () => {
    const dir = newDir("mismatch");
    // The client of the previous major: pg_dump 14 against this PostgreSQL 15 server.
    const bin = newDir("oldclient");
    const calls = join(bin, "calls");
    writeFileSync(
      join(bin, "pg_dump"),
      `#!/usr/bin/env bash\necho "$*" >>"${calls}"\nif [[ $1 == --version ]]; then echo "pg_dump (PostgreSQL) 14.11"; exit 0; fi\nPATH=\${PATH//${bin}:/}\nexec pg_dump "$@"\n`,
    );
    chmodSync(join(bin, "pg_dump"), 0o755);
    const result = await script("backup.sh", [], { DATABASE_URL: db.url, BACKUP_DIR: dir, PATH_PREFIX: bin });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(
      /backup: ERROR: the database server runs PostgreSQL 15, this pg_dump is 14 \[version mismatch: use pg_dump 15 or newer, e\.g\. the postgres:15 image of the backup CronJob\]/,
    );
    expect(readFileSync(calls, "utf8").trim()).toBe("--version"); // no dump was attempted
    expect(backupFiles(dir)).toEqual([]);
  }, 60_000);

  it("rejects a RETENTION_DAYS that is not a whole number of days", async () => {
    const dir = newDir("badretention");
    for (const value of ["abc", "0", "-3", "1.5"]) {
      const result = await script("backup.sh", ["--prune-only"], { BACKUP_DIR: dir, RETENTION_DAYS: value });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("RETENTION_DAYS must be");
    }
    expect(statSync(dir).isDirectory()).toBe(true);
  }, 60_000);
});
