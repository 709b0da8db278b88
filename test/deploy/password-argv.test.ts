// backup.sh and restore.sh never put the database password on a command line, where every user of the
// machine reads it in `ps`. Each PostgreSQL client they start goes through a recording wrapper on PATH,
// and the server really checks the password (scram-sha-256 for this role), so the password does reach
// libpq — through the environment's password file instead.
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcess, startPostgres } from "../support/processes";
import { dumpsIn, fingerprint, loadProjectDatabase, query, script, tempDir } from "./helpers";

const PASSWORD = "S3cr:et/p@ss%w\\rd&x";
const ROLE = "backup_operator";

describe("the database password in child processes", () => {
  let server: ServerProcess;
  let url: string;
  const dirs: string[] = [];
  let wrappers: string;
  let argvLog: string;

  beforeAll(async () => {
    server = await startPostgres();
    await query(server.url, `create role ${ROLE} login password '${PASSWORD.replaceAll("'", "''")}'`);
    await query(server.url, `create database argv_check owner ${ROLE}`);
    // This role must prove its password; everyone else keeps the test server's trust.
    const hba = (await query<{ hba_file: string }>(server.url, "show hba_file"))[0]!.hba_file;
    writeFileSync(hba, `host all ${ROLE} 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, "utf8")}`);
    await query(server.url, "select pg_reload_conf()");
    url = `postgresql://${ROLE}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${server.port}/argv_check?application_name=argv`;
    await loadProjectDatabase(url, 500);

    // pg_dump, pg_restore and psql as seen by `ps`: each call's argv, one line per call.
    wrappers = tempDir("wrappers");
    argvLog = join(tempDir("argv"), "calls");
    dirs.push(wrappers, join(argvLog, ".."));
    for (const tool of ["pg_dump", "pg_restore", "psql"]) {
      const file = join(wrappers, tool);
      writeFileSync(
        file,
        // The real tool is the next one on PATH once this directory is out of it.
        `#!/usr/bin/env bash\nprintf '%s ' "$0" "$@" >>"${argvLog}"\necho >>"${argvLog}"\nPATH=\${PATH//${wrappers}:/}\nexec ${tool} "$@"\n`,
      );
      chmodSync(file, 0o755);
    }
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }, 60_000);

  it("backs up and restores with a password-checked role, and no child's argv holds the password", async () => {
    const backups = tempDir("argvbackups");
    const tmp = tempDir("argvtmp");
    dirs.push(backups, tmp);
    const env = { DATABASE_URL: url, BACKUP_DIR: backups, PATH_PREFIX: wrappers, TMPDIR: tmp };
    const backup = await script("backup.sh", [], env);
    expect(backup.code, backup.stderr).toBe(0);
    const before = await fingerprint(url);
    await query(url, "delete from stop_times");
    const restore = await script("restore.sh", [join(backups, dumpsIn(backups)[0]!)], env);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await fingerprint(url)).toEqual(before);

    const calls = readFileSync(argvLog, "utf8").trim().split("\n");
    for (const tool of ["pg_dump", "pg_restore", "psql"])
      expect(calls.some((c) => c.startsWith(join(wrappers, tool)))).toBe(true);
    for (const call of calls) {
      expect(call).not.toContain(PASSWORD);
      expect(call).not.toContain(encodeURIComponent(PASSWORD));
    }
    expect(calls.some((c) => c.includes(`${ROLE}@127.0.0.1:${server.port}/argv_check`))).toBe(true);
    // The password file lived only as long as the run.
    expect(readdirSync(tmp)).toEqual([]);
    expect(backup.stderr + restore.stderr).not.toContain(PASSWORD);
  }, 120_000);

  it("still refuses a wrong password, without printing it", async () => {
    const backups = tempDir("argvwrong");
    dirs.push(backups);
    const wrong = url.replace(encodeURIComponent(PASSWORD), "not-the-Passw0rd");
    const r = await script("backup.sh", [], { DATABASE_URL: wrong, BACKUP_DIR: backups, PATH_PREFIX: wrappers });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\[bad credentials/);
    expect(r.stderr).not.toContain("not-the-Passw0rd");
  }, 60_000);
});
