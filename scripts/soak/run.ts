// `npm run soak`: the real server under wrk while PostgreSQL and Redis are stopped and started again,
// cycle after cycle. Passes when the server never exits, answers nothing but 200 (and 503/504 while
// the database is down: never a 500 or a dropped connection), is ready again after each outage, leaves
// no database connection busy or leaked once the load stops (its pool falls back to idle, then to
// nothing after the pool's 30 s idle timeout), and its memory stays flat from the second cycle on.
// Usage: bun scripts/soak/run.ts [--cycles 4] [--seconds 30] [--connections 16] [--max-growth 0.25]
//        [--short]   (one PostgreSQL and one Redis outage, no memory verdict: what `npm test` runs)
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort, startPostgres, startRedis, waitForPort } from "../../test/support/processes";

const flag = (name: string) => process.argv.includes(`--${name}`);
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  const value = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${name} needs a positive number`);
    process.exit(2);
  }
  return value;
};
const short = flag("short");
const cycles = short ? 1 : arg("cycles", 4);
const seconds = short ? 8 : arg("seconds", 30);
const connections = arg("connections", short ? 4 : 16);
const maxGrowth = arg("max-growth", 0.25);
const IDLE_TIMEOUT_S = 30; // the pg pool's idleTimeoutMillis (src/db/database.ts)

try {
  execFileSync("wrk", ["--version"], { stdio: "ignore" });
} catch (err) {
  if ((err as NodeJS.ErrnoException).code === "ENOENT") {
    console.error("wrk is not installed: apt-get install -y wrk");
    process.exit(2);
  }
}

const root = join(import.meta.dirname, "..", "..");
const bun = join(root, "node_modules", ".bin", "bun");
const KEY = "soak-key-0123456789abcdef0123";
const PATHS = [
  "/v1/feeds",
  "/v1/stops?q=central",
  "/v1/stops/central",
  "/v1/stops/nearby?lat=40.75&lon=-73.99&radius=1500",
  "/v1/stops/central/departures?at=2024-06-13T08:00:00",
  "/v1/routes",
  "/v1/trips/f1?date=2024-06-13",
  "/health",
];
const ALLOWED = new Set([200, 503, 504]);
const failures: string[] = [];
const fail = (message: string) => {
  failures.push(message);
  console.log(`FAIL ${message}`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(args: string[], env: Record<string, string>): void {
  execFileSync(bun, [join(root, "src", "main.ts"), ...args], {
    cwd: root,
    env: { ...process.env, ...env, LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "pipe"], // on failure execFileSync's error carries stderr
  });
}

/** wrk with a Lua script that rotates the paths and counts every status. */
function load(
  url: string,
  lua: string,
  durationS: number,
): Promise<{ statuses: Record<string, number>; errors: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", ["-t2", `-c${connections}`, `-d${durationS}s`, "--timeout", "10s", "-s", lua, url], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`wrk exited with ${code}:\n${out}`));
      const statuses = Object.fromEntries(
        [...(/^STATUS(.*)$/m.exec(out)?.[1] ?? "").matchAll(/(\d+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]),
      );
      resolve({ statuses, errors: /^ERRORS (.*)$/m.exec(out)?.[1] ?? "?" });
    });
  });
}

function wrkScript(dir: string): string {
  const file = join(dir, "soak.lua");
  writeFileSync(
    file,
    `local paths = {${PATHS.map((p) => JSON.stringify(p)).join(", ")}}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {}; i = 0 end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], { ["X-API-Key"] = "${KEY}" })
end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("counts")) do total[s] = (total[s] or 0) + n end
  end
  io.write("STATUS")
  for s, n in pairs(total) do io.write(string.format(" %d=%d", s, n)) end
  io.write("\\n")
  local e = summary.errors
  io.write(string.format("ERRORS connect=%d read=%d write=%d timeout=%d\\n", e.connect, e.read, e.write, e.timeout))
end
`,
  );
  return file;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
  return line ? Number(line[1]) / 1024 : Number.NaN;
}

/** The server's own pool connections on PostgreSQL, by state. */
async function appConnections(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      "select coalesce(state, '?') as state, count(*)::int as n from pg_stat_activity where application_name = 'transportation-api' group by 1",
    );
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  } finally {
    await client.end();
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

const dir = mkdtempSync(join(tmpdir(), "tapi-soak-"));
const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
let server: ChildProcess | undefined;
let exitedEarly: string | undefined;
try {
  const env = { DATABASE_URL: postgres.url, REDIS_URL: redis.url };
  run(["migrate"], env);
  run(["import", join(root, "test", "fixtures", "gtfs", "edge")], env);
  const port = await freePort();
  server = spawn(bun, [join(root, "src", "main.ts"), "serve"], {
    cwd: root,
    env: { ...process.env, ...env, API_KEYS: `soak:${KEY}`, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "error" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  server.once("exit", (code, signal) => {
    exitedEarly = `server exited (${code ?? signal}) during the soak`;
  });
  await waitForPort(port, 30_000);
  const url = `http://127.0.0.1:${port}`;
  const ready = async () => (await fetch(`${url}/ready`)).status === 200;
  await waitFor("ready", ready, 30_000);
  const lua = wrkScript(dir);
  const pid = server.pid!;
  const memory: number[] = [];
  console.log(
    `soak: ${cycles} cycle(s) of ${seconds} s, wrk -c${connections}; PostgreSQL down for a sixth of each cycle, then Redis`,
  );
  console.log(
    "cycle  requests      200      503      504   other  socket errors                     ready after  RSS MB",
  );

  for (let cycle = 1; cycle <= cycles; cycle++) {
    const loading = load(url, lua, seconds);
    const slice = (seconds * 1000) / 6;
    await sleep(slice);
    await postgres.stop();
    await sleep(slice);
    await postgres.start();
    await sleep(slice);
    await redis.stop();
    await sleep(slice);
    await redis.start();
    const { statuses, errors } = await loading;
    if (exitedEarly) throw new Error(exitedEarly);
    const readyMs = await waitFor("ready after the outages", ready, 30_000);
    const total = Object.values(statuses).reduce((a, b) => a + b, 0);
    const other = Object.entries(statuses).filter(([s]) => !ALLOWED.has(Number(s)));
    const rss = rssMb(pid);
    memory.push(rss);
    console.log(
      `${String(cycle).padStart(5)}  ${String(total).padStart(8)} ${String(statuses["200"] ?? 0).padStart(8)} ${String(statuses["503"] ?? 0).padStart(8)} ${String(statuses["504"] ?? 0).padStart(8)} ${String(other.reduce((n, [, c]) => n + c, 0)).padStart(7)}  ${errors.padEnd(33)} ${`${readyMs} ms`.padStart(11)} ${rss.toFixed(0).padStart(7)}`,
    );
    if (other.length > 0)
      fail(`cycle ${cycle}: statuses other than 200/503/504: ${JSON.stringify(Object.fromEntries(other))}`);
    if (!/connect=0 read=0 write=0 timeout=0/.test(errors))
      fail(`cycle ${cycle}: dropped or timed-out requests: ${errors}`);
    if ((statuses["200"] ?? 0) === 0) fail(`cycle ${cycle}: no request succeeded`);
  }

  // The load has stopped: no connection may stay busy, and the pool empties after its idle timeout.
  const after = await appConnections(postgres.url);
  const busy = Object.entries(after).filter(([state]) => state !== "idle");
  console.log(`pool on PostgreSQL after the load: ${JSON.stringify(after)}`);
  if (busy.length > 0) fail(`connections still busy after the load: ${JSON.stringify(after)}`);
  const drainedMs = await waitFor(
    "the pool to close its idle connections",
    async () => Object.keys(await appConnections(postgres.url)).length === 0,
    (IDLE_TIMEOUT_S + 15) * 1000,
  ).catch(async (err) => {
    fail(`${(err as Error).message}: ${JSON.stringify(await appConnections(postgres.url))}`);
    return Number.NaN;
  });
  console.log(`pool empty ${Math.round(drainedMs / 1000)} s after the load (idle timeout ${IDLE_TIMEOUT_S} s)`);

  if (!short && memory.length >= 2) {
    const base = memory[0]!;
    const last = memory.at(-1)!;
    const growth = (last - base) / base;
    console.log(
      `memory: ${memory.map((m) => m.toFixed(0)).join(" → ")} MB; growth after the first cycle ${(growth * 100).toFixed(0)} % (at most ${maxGrowth * 100} %)`,
    );
    if (growth > maxGrowth) fail(`memory grew ${(growth * 100).toFixed(0)} % from cycle 1 to ${cycles}`);
  }
  if (exitedEarly) fail(exitedEarly);
} catch (err) {
  fail((err as Error).message);
} finally {
  server?.kill("SIGTERM");
  await Promise.allSettled([postgres.destroy(), redis.destroy()]);
  rmSync(dir, { recursive: true, force: true });
}
console.log(failures.length === 0 ? "soak: passed" : `soak: ${failures.length} failure(s)`);
process.exit(failures.length === 0 ? 0 : 1);
