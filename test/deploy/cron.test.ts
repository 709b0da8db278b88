// The cron backup exactly as docs/operations.md sets it up: its install commands, its environment file
// and its crontab lines, run the way cron runs a job — as the user the line names, with cron's own
// environment (crontab(5): SHELL=/bin/sh, HOME and LOGNAME from /etc/passwd, PATH=/usr/bin:/bin, plus the
// variables the crontab sets), through /bin/sh -c — against a real PostgreSQL 15. The documented system
// paths (/etc, /var/log, /backup, /opt) are moved under a private root whose directories have the
// ownership and modes of the real ones, so a permission mistake fails here as it would on a server.

import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docBlocks } from "../support/docs";
import { freePort } from "../support/processes";
import { REPO_ROOT } from "../support/repo";
import { createTestDatabase, stopPrivateServers, type TestDatabase } from "../support/services";
import { dumpsIn, loadProjectDatabase, tempDir } from "./helpers";

const SECTION = "On a server with cron (daily at 02:00)";
const asRoot = process.getuid?.() === 0;
const hasPostgresUser = spawnSync("id", ["-u", "postgres"]).status === 0;
if (!asRoot || !hasPostgresUser)
  console.warn("SKIPPED cron test: needs root and a `postgres` user to run the job as that user");

interface CronJob {
  schedule: string;
  user: string;
  command: string;
}

function parseCrontab(text: string): { env: Record<string, string>; jobs: CronJob[] } {
  const env: Record<string, string> = {};
  const jobs: CronJob[] = [];
  for (const line of text.split("\n")) {
    if (/^\s*(#|$)/.test(line)) continue;
    const assignment = /^([A-Z_]+)=(.*)$/.exec(line);
    if (assignment) env[assignment[1]!] = assignment[2]!;
    else {
      // /etc/cron.d format: five time fields, the user, the command.
      const m = /^(\S+ \S+ \S+ \S+ \S+) (\S+) (.+)$/.exec(line);
      if (!m) throw new Error(`not a crontab line: ${line}`);
      expect(m[3]).not.toContain("%"); // cron would turn it into a newline
      jobs.push({ schedule: m[1]!, user: m[2]!, command: m[3]! });
    }
  }
  return { env, jobs };
}

describe.skipIf(!asRoot || !hasPostgresUser)("the documented cron backup", () => {
  let db: TestDatabase;
  let root: string;
  let crontab: ReturnType<typeof parseCrontab>;
  const at = (path: string) => join(root, path);
  /** The documented absolute paths, under the private root. */
  const mapped = (text: string) => text.replace(/(?<![\w.-])\/(backup|etc|var|opt)\//g, `${root}/$1/`);
  const home = execFileSync("getent", ["passwd", "postgres"], { encoding: "utf8" }).split(":")[5]!;

  /** Runs a crontab line's command as cron does. */
  const runJob = (job: CronJob) =>
    spawnSync(
      "env",
      [
        "-i",
        "SHELL=/bin/sh",
        `HOME=${home}`,
        `LOGNAME=${job.user}`,
        "PATH=/usr/bin:/bin",
        ...Object.entries(crontab.env).map(([k, v]) => `${k}=${v}`),
        "setpriv",
        `--reuid=${job.user}`,
        `--regid=${job.user}`,
        "--init-groups",
        "/bin/sh",
        "-c",
        mapped(job.command),
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
  const writeEnvFile = (databaseUrl: string) => {
    const [ini] = docBlocks("docs/operations.md", SECTION, "ini");
    expect(ini).toMatch(/^DATABASE_URL=/m);
    // What the operator types in with sudoedit: the documented lines, with this server's URL.
    writeFileSync(
      at("etc/transportation/backup.env"),
      mapped(ini!.replace(/^DATABASE_URL=.*$/m, `DATABASE_URL=${databaseUrl}`)),
    );
  };
  const status = () => readFileSync(at("backup/transportation/transportation_backup.prom"), "utf8");
  const metric = (name: string) =>
    Number(new RegExp(`^transportation_backup_${name} (\\S+)$`, "m").exec(status())?.[1]);

  beforeAll(async () => {
    db = await createTestDatabase("cron");
    await loadProjectDatabase(db.url, 1_000);
    root = tempDir("cronroot");
    chmodSync(root, 0o755);
    for (const dir of ["etc", "var/log", "backup", "opt"]) mkdirSync(at(dir), { recursive: true, mode: 0o755 });
    symlinkSync(REPO_ROOT, at("opt/transportation-api"));

    // The install commands as documented (the editor is the one interactive step: writeEnvFile does it).
    const [install] = docBlocks("docs/operations.md", SECTION);
    const commands = install!.split("\n").filter((l) => !l.startsWith("sudoedit "));
    expect(commands.length).toBe(install!.split("\n").length - 1);
    execFileSync("bash", ["-euo", "pipefail", "-c", mapped(commands.join("\n"))], { stdio: "pipe" });
    writeEnvFile(db.url);
    crontab = parseCrontab(docBlocks("docs/operations.md", SECTION, "cron")[0]!);
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
    if (root) rmSync(root, { recursive: true, force: true });
    await stopPrivateServers();
  }, 60_000);

  const backupJob = () => crontab.jobs.find((j) => j.schedule === "0 2 * * *")!;
  const checkJob = () => crontab.jobs.find((j) => j.command.includes("--check"))!;

  it("backs up nightly as postgres, logging where that user can write", () => {
    expect(backupJob().user).toBe("postgres");
    const run = runJob(backupJob());
    expect(run.status, run.stderr).toBe(0);
    const dumps = dumpsIn(at("backup/transportation"));
    expect(dumps).toHaveLength(1);
    expect(statSync(at(`backup/transportation/${dumps[0]}`)).uid).toBe(Number(execFileSync("id", ["-u", "postgres"])));
    const log = readFileSync(at("var/log/transportation/backup.log"), "utf8");
    expect(log).toMatch(/backup: wrote .*transportation_db_\d{8}_\d{6}\.dump/);
    expect(metric("last_attempt_success")).toBe(1);
    expect(Math.abs(metric("last_success_timestamp_seconds") - Date.now() / 1000)).toBeLessThan(120);

    const check = runJob(checkJob());
    expect(check.status, check.stderr).toBe(0);
    expect(check.stderr).toBe(""); // cron mails nothing
  }, 120_000);

  // The two cases below continue from the good night above (its backup and status file).
  it("makes a failed night impossible to miss: exit status, log, status file and the check", async () => {
    const lastGood = metric("last_success_timestamp_seconds");
    // Another night: last night's file is there under another name (names have one-second resolution).
    for (const f of dumpsIn(at("backup/transportation")))
      renameSync(at(`backup/transportation/${f}`), at("backup/transportation/transportation_db_20200101_020000.dump"));
    writeEnvFile(`postgresql://postgres@127.0.0.1:${await freePort()}/transportation_db`);
    try {
      const run = runJob(backupJob());
      expect(run.status).not.toBe(0);
      expect(readFileSync(at("var/log/transportation/backup.log"), "utf8")).toMatch(
        /backup: ERROR: pg_dump failed: .*\[database server unreachable\]/,
      );
      expect(metric("last_attempt_success")).toBe(0);
      expect(metric("last_success_timestamp_seconds")).toBe(lastGood);
      const check = runJob(checkJob());
      expect(check.status).toBe(1);
      expect(check.stderr).toMatch(/ERROR: the last backup run, at \S+, failed \(see its log\); last good backup: at /);
    } finally {
      writeEnvFile(db.url);
    }
  }, 120_000);

  it("notices a backup that never ran: the status grows old", () => {
    // As if the job had stopped running 30 hours ago (cron down, the line deleted, …).
    const thirtyHoursAgo = Math.floor(Date.now() / 1000) - 30 * 3600;
    const file = at("backup/transportation/transportation_backup.prom");
    writeFileSync(
      file,
      status()
        .replace(/^(transportation_backup_last_(success|attempt)_timestamp_seconds) \d+$/gm, `$1 ${thirtyHoursAgo}`)
        .replace(/^transportation_backup_last_attempt_success 0$/m, "transportation_backup_last_attempt_success 1"),
    );
    const check = runJob(checkJob());
    expect(check.status).toBe(1);
    expect(check.stderr).toMatch(/ERROR: no backup for 30 h \(last good backup at \S+, limit 26 h\)/);
    expect(existsSync(at("var/log/transportation/backup.log"))).toBe(true);
  }, 120_000);
});
