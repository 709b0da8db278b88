// Shared helpers for the deploy suite: running the shell scripts and fingerprinting a database.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { postgresBinDir } from "../support/processes";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
export const SCRIPTS = join(ROOT, "deploy", "scripts");
export const FAKE_KUBECTL = join(ROOT, "test", "deploy", "fake-kubectl.sh");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with the PostgreSQL 15 client tools first on PATH; never throws on a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  env: Record<string, string | undefined> = {},
  input?: string,
): Promise<RunResult> {
  const path = [env.PATH_PREFIX, postgresBinDir(), process.env.PATH].filter(Boolean).join(":");
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, PATH: path };
  delete childEnv.PATH_PREFIX;
  // Only what a test passes: the runner's own connection settings or secrets must not leak in.
  for (const key of [
    "DATABASE_URL",
    "REDIS_URL",
    "API_KEY",
    "API_SECRET",
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "BACKUP_DIR",
    "RETENTION_DAYS",
  ])
    if (!(key in env)) delete childEnv[key];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env: childEnv, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

export function script(name: string, args: string[], env: Record<string, string | undefined> = {}) {
  return run("bash", [join(SCRIPTS, name), ...args], env);
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tapi-${prefix}-`));
}

/** A directory holding `kubectl` → the fake, to put first on PATH. */
export function fakeKubectlBin(): string {
  const dir = tempDir("fakebin");
  symlinkSync(FAKE_KUBECTL, join(dir, "kubectl"));
  return dir;
}

export function dumpsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /^transportation_db_\d{8}_\d{6}\.dump$/.test(f))
    .sort();
}

export async function query<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Row count and content checksum of every table in schema public, plus each sequence's position. */
export async function fingerprint(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out: Record<string, string> = {};
    const tables = await client.query<{ t: string }>(
      "select tablename as t from pg_tables where schemaname = 'public' order by 1",
    );
    for (const { t } of tables.rows) {
      const { rows } = await client.query(
        `select count(*)::text as n, coalesce(md5(string_agg(x::text, E'\\n' order by x::text)), '-') as sum from public."${t}" x`,
      );
      out[`table ${t}`] = `${rows[0].n} rows, md5 ${rows[0].sum}`;
    }
    const seqs = await client.query<{ s: string; v: string }>(
      "select sequencename as s, coalesce(last_value, 0)::text as v from pg_sequences where schemaname = 'public' order by 1",
    );
    for (const { s, v } of seqs.rows) out[`sequence ${s}`] = v;
    return out;
  } finally {
    await client.end();
  }
}

/** A small transit-shaped schema with a foreign key, an index, a sequence and ~`stopTimes` rows. */
export async function loadSampleData(url: string, stopTimes = 20_000): Promise<void> {
  await query(
    url,
    `create table routes (route_id text primary key, route_short_name text not null, route_type int not null);
     create table stops (stop_id serial primary key, stop_name text not null, stop_lat numeric(9,6), stop_lon numeric(9,6));
     create table stop_times (trip_id text not null, stop_sequence int not null,
       stop_id int not null references stops(stop_id), arrival_time interval, departure_time interval,
       primary key (trip_id, stop_sequence));
     create index stop_times_stop on stop_times(stop_id);
     insert into routes select 'R' || g, (g % 90)::text, g % 4 from generate_series(1, 40) g;
     insert into stops (stop_name, stop_lat, stop_lon)
       select 'Stop ' || g || ' ' || md5(g::text), 40 + g / 10000.0, -73 - g / 10000.0 from generate_series(1, 500) g;
     insert into stop_times select 'T' || (g / 25), g % 25, 1 + (g * 7) % 500,
       make_interval(secs => 18000 + g * 30), make_interval(secs => 18030 + g * 30)
       from generate_series(0, $1::int - 1) g;`.replace("$1::int", String(stopTimes)),
  );
}
