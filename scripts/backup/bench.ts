// `npm run bench:backup -- [--rows N] [--runs N] [--source series|gtfs] [--size small|large] [--database-url URL]`
// Compares backup.sh's format (pg_dump -Fc, compressed custom archive, plus the full read-back it does
// to verify) with the operations design's `pg_dump | gzip` (plain SQL), and how long each takes to
// restore, on a database loaded with transit-shaped data:
//   --source series  (default) --rows stop_times rows made with generate_series (scripts/backup/synthetic.ts)
//   --source gtfs    the synthetic GTFS feed (scripts/gtfs/generate.ts --size) imported by the API's CLI
// Without --database-url it starts a throwaway PostgreSQL 15. Prints a table; writes bench-results/*.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { postgresBinDir, type ServerProcess, startPostgres } from "../../test/support/processes";
import { loadSyntheticTransitData } from "./synthetic";

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const rows = Number(flag("rows", "500000"));
const runs = Number(flag("runs", "3"));
const source = flag("source", "series");
const size = flag("size", "large");
if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(runs) || runs < 1) {
  console.error("bench:backup: --rows and --runs must be positive integers");
  process.exit(2);
}
const root = fileURLToPath(new URL("../..", import.meta.url));
const env = { ...process.env, PATH: `${postgresBinDir()}:${process.env.PATH}` };

function sh(script: string, vars: Record<string, string>): number {
  const started = performance.now();
  const r = spawnSync("bash", ["-o", "pipefail", "-c", script], {
    env: { ...env, ...vars },
    stdio: ["ignore", "ignore", "pipe"],
  });
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${script}\n${r.stderr}`);
  return (performance.now() - started) / 1000;
}

async function sql(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

function withDb(serverUrl: string, name: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const server: ServerProcess | undefined = process.argv.includes("--database-url") ? undefined : await startPostgres();
const serverUrl = server?.url ?? flag("database-url", "");
const work = mkdtempSync(join(tmpdir(), "tapi-bench-backup-"));
const src = "bench_backup_src";
const dst = "bench_backup_dst";
try {
  await sql(serverUrl, `drop database if exists ${src} with (force)`);
  await sql(serverUrl, `create database ${src}`);
  const srcUrl = withDb(serverUrl, src);
  const loadStart = performance.now();
  if (source === "gtfs") {
    // The API's own importer on the generated feed: the closest thing to production data.
    const feed = join(work, "feed");
    sh(
      `bun scripts/gtfs/generate.ts --size "$SIZE" --out "$FEED" && bun src/main.ts migrate && bun src/main.ts import "$FEED"`,
      {
        SIZE: size,
        FEED: feed,
        DATABASE_URL: srcUrl,
      },
    );
  } else {
    await loadSyntheticTransitData(srcUrl, rows);
  }
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const dbSize = Number((await sql(srcUrl, "select pg_database_size(current_database()) as b")).rows[0].b);
  // The GTFS importer keeps each feed in its own schema: count stop_times wherever they are.
  let stopTimes = 0;
  const tables = await sql(
    srcUrl,
    "select format('%I.%I', schemaname, tablename) as t from pg_tables where tablename = 'stop_times'",
  );
  for (const { t } of tables.rows) stopTimes += Number((await sql(srcUrl, `select count(*) as n from ${t}`)).rows[0].n);
  console.error(
    `loaded ${source} data in ${loadSeconds.toFixed(1)}s: ${stopTimes} stop_times rows, database ${dbSize} bytes`,
  );

  const methods = [
    {
      name: "pg_dump -Fc (backup.sh)",
      file: join(work, "b.dump"),
      dump: `pg_dump --format=custom --compress=6 --no-password --dbname="$SRC" --file="$OUT"`,
      verify: `pg_restore --list "$OUT" >/dev/null && pg_restore --file=/dev/null "$OUT"`,
      restore: `pg_restore --clean --if-exists --single-transaction --exit-on-error --no-password --dbname="$DST" "$OUT"`,
    },
    {
      name: "pg_dump | gzip (design)",
      file: join(work, "b.sql.gz"),
      dump: `pg_dump --no-password --dbname="$SRC" | gzip > "$OUT"`,
      verify: `gzip -t "$OUT"`,
      restore: `gunzip -c "$OUT" | psql -X -q -v ON_ERROR_STOP=1 --single-transaction --no-password --dbname="$DST" >/dev/null`,
    },
  ];
  const results = [];
  for (const m of methods) {
    const dump: number[] = [];
    const verify: number[] = [];
    const restore: number[] = [];
    for (let i = 0; i < runs; i++) {
      await sql(serverUrl, `drop database if exists ${dst} with (force)`);
      await sql(serverUrl, `create database ${dst}`);
      const vars = { SRC: srcUrl, DST: withDb(serverUrl, dst), OUT: m.file };
      rmSync(m.file, { force: true });
      dump.push(sh(m.dump, vars));
      verify.push(sh(m.verify, vars));
      restore.push(sh(m.restore, vars));
    }
    results.push({
      method: m.name,
      bytes: statSync(m.file).size,
      dumpSeconds: median(dump),
      verifySeconds: median(verify),
      restoreSeconds: median(restore),
    });
  }

  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(
    `${pad("method", 26)}${pad("size", 14)}${pad("of db", 8)}${pad("dump s", 9)}${pad("verify s", 10)}restore s`,
  );
  for (const r of results)
    console.log(
      `${pad(r.method, 26)}${pad(`${(r.bytes / 1048576).toFixed(2)} MiB`, 14)}${pad(`${((100 * r.bytes) / dbSize).toFixed(1)}%`, 8)}` +
        `${pad(r.dumpSeconds.toFixed(2), 9)}${pad(r.verifySeconds.toFixed(2), 10)}${r.restoreSeconds.toFixed(2)}`,
    );
  console.log(`(median of ${runs} runs; ${stopTimes} stop_times rows; database ${(dbSize / 1048576).toFixed(1)} MiB)`);
  const outDir = join(root, "bench-results");
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, `backup-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(outFile, `${JSON.stringify({ source, stopTimes, dbBytes: dbSize, runs, results }, null, 2)}\n`);
  console.error(`wrote ${outFile}`);
} finally {
  await sql(serverUrl, `drop database if exists ${dst} with (force)`).catch(() => {});
  await sql(serverUrl, `drop database if exists ${src} with (force)`).catch(() => {});
  rmSync(work, { recursive: true, force: true });
  await server?.destroy();
}
