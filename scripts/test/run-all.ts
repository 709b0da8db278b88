// `npm test`: lint, typecheck, then the test files under both runners (bun test and vitest run; bun
// skips the tests of outside tools that bunfig.toml lists) against one shared throwaway PostgreSQL + Redis. Ends with the line `N passed, N failed`.
// Usage: bun scripts/test/run-all.ts [--suite unit,integration,...] [--no-checks]
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { type ServerProcess, startPostgres, startRedis } from "../../test/support/processes";
import { runProcess } from "../../test/support/run";

const args = process.argv.slice(2);
const suiteArg = args.includes("--suite") ? args[args.indexOf("--suite") + 1] : undefined;
const DEFAULT_SUITES = ["unit", "integration", "gtfs", "realtime", "release", "deploy", "ops"];
const suites = (suiteArg ?? DEFAULT_SUITES.join(",")).split(",").filter(Boolean);
const runChecks = !args.includes("--no-checks");
const binDir = join(process.cwd(), "node_modules", ".bin");
const bin = (name: string) => join(binDir, name);

interface Tally {
  name: string;
  passed: number;
  failed: number;
}

const run = (cmd: string, cmdArgs: string[], env: NodeJS.ProcessEnv = process.env) =>
  runProcess(cmd, cmdArgs, { env, echo: true });

const { existsSync } = await import("node:fs");
const dirs = suites.map((s) => `test/${s}`).filter((d) => existsSync(d));
const tallies: Tally[] = [];

// Everything that runs on Node (vitest, tsc, semantic-release in the release tests) runs on the
// project's Node 24 from node_modules, also when this runner was started without npm (which puts
// node_modules/.bin first on PATH itself) on a machine whose own Node is older.
const baseEnv: NodeJS.ProcessEnv = { ...process.env, PATH: [binDir, process.env.PATH ?? ""].join(delimiter) };

const nodeVersion = (await run("node", ["--version"], baseEnv)).output.trim();
console.log(`node on PATH for the runners: ${nodeVersion}`);
if (Number(/^v(\d+)\./.exec(nodeVersion)?.[1]) < 24) {
  console.error("the project's Node 24 is missing from node_modules/.bin: run npm ci");
  tallies.push({ name: "node 24", passed: 0, failed: 1 });
}

if (runChecks) {
  for (const [name, cmd, cmdArgs] of [
    ["lint (biome)", bin("biome"), ["check", "."]],
    ["typecheck (tsc)", bin("tsc"), ["--noEmit", "-p", "."]],
  ] as const) {
    console.log(`\n=== ${name}`);
    const { code } = await run(cmd, [...cmdArgs], baseEnv);
    tallies.push({ name, passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1 });
  }
}

const started: ServerProcess[] = [];
const env = { ...baseEnv };
try {
  if (!env.TEST_DATABASE_URL) {
    const pgServer = await startPostgres();
    started.push(pgServer);
    env.TEST_DATABASE_URL = pgServer.url;
  }
  if (!env.TEST_REDIS_URL) {
    const redis = await startRedis();
    started.push(redis);
    env.TEST_REDIS_URL = redis.url;
  }

  if (dirs.length > 0) {
    console.log(`\n=== bun test ${dirs.join(" ")}`);
    const bunRun = await run(bin("bun"), ["test", "--timeout", "120000", ...dirs.map((d) => `./${d}`)], env);
    const pass = Number(/^\s*(\d+) pass\s*$/m.exec(bunRun.output)?.[1] ?? 0);
    let fail = Number(/^\s*(\d+) fail\s*$/m.exec(bunRun.output)?.[1] ?? 0);
    if (bunRun.code !== 0 && fail === 0) fail = 1; // crashed or a file failed to load
    tallies.push({ name: "bun test", passed: pass, failed: fail });

    console.log(`\n=== vitest run ${dirs.join(" ")}`);
    const out = mkdtempSync(join(tmpdir(), "tapi-vitest-"));
    const jsonFile = join(out, "report.json");
    const vitestRun = await run(
      bin("vitest"),
      ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${jsonFile}`, ...dirs],
      env,
    );
    let vPass = 0;
    let vFail = 0;
    try {
      const report = JSON.parse(readFileSync(jsonFile, "utf8"));
      vPass = report.numPassedTests;
      // A file that fails to load has no test results of its own: count it once.
      const brokenFiles = (report.testResults ?? []).filter(
        (r: { status: string; assertionResults?: unknown[] }) => r.status === "failed" && !r.assertionResults?.length,
      ).length;
      vFail = report.numFailedTests + brokenFiles;
    } catch {
      vFail = 1;
    }
    if (vitestRun.code !== 0 && vFail === 0) vFail = 1;
    rmSync(out, { recursive: true, force: true });
    tallies.push({ name: "vitest run", passed: vPass, failed: vFail });
  }
} finally {
  for (const s of started) await s.destroy().catch(() => {});
}

console.log("\n=== summary");
for (const t of tallies) console.log(`${t.name.padEnd(18)} ${t.passed} passed, ${t.failed} failed`);
const passed = tallies.reduce((n, t) => n + t.passed, 0);
const failed = tallies.reduce((n, t) => n + t.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
