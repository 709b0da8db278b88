// Before and after for a change on the hot path: the service from another checkout (the "before", e.g.
// `git worktree add ../before main`) and the service from this one, loaded side by side on one CPU
// (scripts/bench/lib/side-by-side.ts), both against the same PostgreSQL, Redis and imported feed, both as
// deployed (NODE_ENV=production, an API key, an access line per request). Whatever else the machine does
// slows both alike, so their ratio holds where two separate bench:http runs would differ by more than the
// change. Prints, per request, each tree's requests/s and CPU per request and the ratio this/before.
// --health-only: just /health, e.g. against a tree whose schema is older than this one's (both trees
// migrate the one database; a board from the older service would read tables it does not know).
// --development: both with NODE_ENV=development instead (its defaults differ, e.g. CORS for any origin).
// Usage: bun scripts/bench/compare-trees.ts <before-checkout> [--health-only] [--development] [--seconds 3]
//        [--connections 32] [--rounds 6]
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { boardScenarios } from "./board";
import { withPostgresAndRedis } from "./lib/services";
import {
  columns,
  type LoadOptions,
  positiveArg,
  type Run,
  sideBySide,
  startServer,
  stopAll,
  summarise,
  type Target,
  warm,
} from "./lib/side-by-side";

const given = process.argv[2];
if (!given || given.startsWith("--") || !existsSync(join(given, "src/main.ts"))) {
  console.error("usage: bun scripts/bench/compare-trees.ts <checkout with src/main.ts> [--seconds N] [--rounds N]");
  process.exit(2);
}
const other: string = given;
const load: LoadOptions = { seconds: positiveArg("seconds", 3), connections: positiveArg("connections", 32) };
const rounds = positiveArg("rounds", 6);
const healthOnly = process.argv.includes("--health-only");
const nodeEnv = process.argv.includes("--development") ? "development" : "production";
const API_KEY = "bench-key-0123456789abcdef";

const dataDirs: string[] = [];
let cleanupBoard = () => {};

/** Both services against one PostgreSQL and Redis, every request side by side; prints the table. */
async function compare(databaseUrl: string, redisUrl: string): Promise<void> {
  const start = (name: string, tree: string) => {
    const dataDir = mkdtempSync(join(tmpdir(), "tapi-compare-"));
    dataDirs.push(dataDir);
    return startServer(name, [join(resolve(tree), "src/main.ts"), "serve", "--migrate"], {
      NODE_ENV: nodeEnv,
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      API_KEY,
      LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
    });
  };
  const before = await start(`before (${other})`, other);
  const after = await start("this checkout", ".");
  // The feed is imported once (by this tree's importer); both services answer the same board from it.
  const board = healthOnly
    ? { scenarios: [], cleanup: () => {} }
    : await boardScenarios(after, { databaseUrl, apiKey: API_KEY });
  cleanupBoard = board.cleanup;
  const requests = [
    { name: "/health", path: "/health", headers: {} as Record<string, string> },
    ...board.scenarios.map((s) => ({
      name: s.name,
      path: new URL(s.service.url).pathname + new URL(s.service.url).search,
      headers: s.service.headers ?? {},
    })),
  ];
  const pairs = requests.map((r): [Target, Target] => {
    const at = (process: typeof after): Target => ({
      process,
      url: `http://127.0.0.1:${process.port}${r.path}`,
      headers: r.headers,
    });
    return [at(before), at(after)];
  });
  for (const [a, b] of pairs) await Promise.all([warm(a), warm(b)]);
  const runs = pairs.map(() => ({ before: [] as Run[], after: [] as Run[] }));
  for (let round = 0; round < rounds; round++)
    for (const [i, [a, b]] of pairs.entries()) {
      const { runs: pair } = await sideBySide(a, b, load);
      runs[i]!.before.push(pair[0]);
      runs[i]!.after.push(pair[1]);
    }
  console.log(
    `\n${rounds} rounds of wrk -c${load.connections} -d${load.seconds}s on each tree at once, NODE_ENV=${nodeEnv}; medians`,
  );
  const cols = columns([10, 10, 10, 10, 8, 8]);
  cols("request", "before/s", "µs/req", "this/s", "µs/req", "thruput", "CPU");
  for (const [i, r] of requests.entries()) {
    const s = summarise(runs[i]!.before, runs[i]!.after);
    cols(
      r.name,
      s.baseRps.toFixed(0),
      s.baseCpu.toFixed(1),
      s.rps.toFixed(0),
      s.cpu.toFixed(1),
      s.ratio.toFixed(3),
      s.cpuRatio.toFixed(3),
    );
    if (s.errors > 0) console.log(`WARNING: ${s.errors} answers were errors`);
  }
  console.log("thruput: this tree's requests/s over the other's; CPU: the other's CPU per request over this one's");
}

try {
  await withPostgresAndRedis(async (postgres, redis) => {
    try {
      await compare(postgres.url, redis.url);
    } finally {
      stopAll();
    }
  });
} finally {
  cleanupBoard();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}
