// Shared helpers for the deploy suite: running the shell scripts and fingerprinting a database.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import pino from "pino";
import { stringify } from "yaml";
import { loadSyntheticTransitData } from "../../scripts/backup/synthetic";
import { loadConfig } from "../../src/config/load";
import { openDatabase } from "../../src/db/database";
import { migrateToLatest } from "../../src/db/migrate";
import { postgresBinDir } from "../support/processes";
import { BUN, REPO_ROOT } from "../support/repo";
import { type RunResult, runProcess } from "../support/run";

export const SCRIPTS = join(REPO_ROOT, "deploy", "scripts");
/** The fake kubectl of the ops tests (test/ops/fake-kubectl/fake-kubectl.ts: what it does, and its sources). */
export const FAKE_KUBECTL = join(REPO_ROOT, "test", "ops", "fake-kubectl", "kubectl");

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
  return runProcess(cmd, args, { env: childEnv, input });
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

/** A fake cluster's state directory ($FAKE_KUBECTL_STATE): what the fake kubectl was asked and keeps. */
export class FakeKubectlState {
  readonly dir = tempDir("fakecluster");
  private readonly callsFile = join(this.dir, "calls.jsonl");

  /** Each call's arguments, space-separated; throws when kubectl was never called. */
  calls(): string[] {
    return readFileSync(this.callsFile, "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as string[]).join(" "));
  }
  called(): boolean {
    return existsSync(this.callsFile);
  }
  // biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are untyped JSON here
  state(): any {
    const file = join(this.dir, "state.json");
    return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : { revisions: [], jobs: {}, objects: {} };
  }
  // biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are untyped JSON here
  save(state: any): void {
    writeFileSync(join(this.dir, "state.json"), JSON.stringify(state, null, 2));
  }
  /** behaviour.json (see fake-kubectl.ts): images' rollouts and Jobs, how long pods take to go. */
  behave(behaviour: Record<string, unknown>): void {
    writeFileSync(join(this.dir, "behaviour.json"), JSON.stringify(behaviour));
  }
  /** Creates objects through the fake itself, then forgets the calls (a test asserts on its own). */
  async seed(namespace: string, manifests: string): Promise<void> {
    const r = await runProcess(FAKE_KUBECTL, ["apply", "-f", "-", "--namespace", namespace], {
      env: { ...process.env, FAKE_KUBECTL_STATE: this.dir, BUN },
      input: manifests,
    });
    if (r.code !== 0) throw new Error(`seeding the fake cluster failed: ${r.stderr}`);
    rmSync(this.callsFile, { force: true });
  }
  /** The objects applied, as YAML documents (Jobs as applied, then the others). */
  applied(): string[] {
    const s = this.state();
    return [
      ...Object.values(s.jobs as Record<string, { manifest?: unknown }>).flatMap((j) =>
        j.manifest ? [j.manifest] : [],
      ),
      ...Object.values(s.objects),
    ].map((o) => stringify(o));
  }
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

/** The benchmark's synthetic transit tables (FK, index, sequence), `stopTimes` rows of stop_times. */
export function loadSampleData(url: string, stopTimes = 20_000): Promise<void> {
  return loadSyntheticTransitData(url, stopTimes);
}

/** The project's own schema, every migration applied, as `npm run migrate` leaves a database. */
export async function migrateProject(url: string): Promise<void> {
  const config = loadConfig({ env: { DATABASE_URL: url, NODE_ENV: "test" }, file: join(REPO_ROOT, "config.yaml") });
  const database = await openDatabase(config, pino({ level: "silent" }));
  try {
    await migrateToLatest(database.db);
  } finally {
    await database.close();
  }
}

/** A transportation-api database with transit-shaped rows: the migrated schema plus the synthetic tables. */
export async function loadProjectDatabase(url: string, stopTimes = 20_000): Promise<void> {
  await migrateProject(url);
  await loadSampleData(url, stopTimes);
}
