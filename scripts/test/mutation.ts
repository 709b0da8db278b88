// `npm run test:mutation [-- [--force] module …]`: StrykerJS on the modules of scripts/test/mutation-modules.ts
// (all by default), one run per module with its own test files, incrementally (reports/mutation/<module>/
// incremental.json). Prints the score per module and every surviving mutant; known equivalent mutants
// are marked with their reason and left out of the score that is compared with the module's threshold.
// Exits 1 when a run fails or a module is below its threshold. HTML reports: reports/mutation/<module>/.
import { spawn } from "node:child_process";
import { existsSync, globSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { type ServerProcess, startPostgres, startRedis } from "../../test/support/processes";
import { type Equivalent, MUTATION_MODULES, type MutationModule } from "./mutation-modules";

// --force: test every mutant again (incremental mode keeps earlier results for unchanged code and
// tests, and does not notice a new test that kills a module-level mutant).
const force = process.argv.includes("--force");
const args = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const unknown = args.filter((a) => !MUTATION_MODULES.some((m) => m.name === a));
if (unknown.length) {
  console.error(`unknown module(s): ${unknown.join(", ")}; known: ${MUTATION_MODULES.map((m) => m.name).join(", ")}`);
  process.exit(2);
}
const selected = args.length ? MUTATION_MODULES.filter((m) => args.includes(m.name)) : MUTATION_MODULES;
const binDir = join(process.cwd(), "node_modules", ".bin");

/** Stryker's JSON report (mutation-testing-report-schema), the parts read here. */
interface Report {
  files: Record<
    string,
    {
      source: string;
      mutants: {
        mutatorName: string;
        replacement?: string;
        status: string;
        location: { start: { line: number; column: number }; end: { line: number; column: number } };
      }[];
    }
  >;
}

interface Survivor {
  where: string;
  mutator: string;
  original: string;
  replacement: string;
  status: string;
  equivalent?: string;
}

interface Outcome {
  module: MutationModule;
  skipped?: string;
  failed?: string;
  counts?: Record<string, number>;
  score?: number;
  scoreWithoutEquivalents?: number;
  survivors?: Survivor[];
}

function run(cmd: string, cmdArgs: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, cmdArgs, { env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("close", (code) => resolve(code ?? 1));
  });
}

/** The text a location spans (1-based lines and columns, end exclusive). */
function slice(source: string, loc: Report["files"][string]["mutants"][number]["location"]): string {
  const lines = source.split("\n");
  if (loc.start.line === loc.end.line)
    return lines[loc.start.line - 1]!.slice(loc.start.column - 1, loc.end.column - 1);
  const first = lines[loc.start.line - 1]!.slice(loc.start.column - 1);
  const last = lines[loc.end.line - 1]!.slice(0, loc.end.column - 1);
  return [first, ...lines.slice(loc.start.line, loc.end.line - 1), last].join("\n");
}

const oneLine = (text: string, max = 100) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

function equivalentFor(
  list: Equivalent[],
  file: string,
  s: Omit<Survivor, "where">,
  sourceLine: string,
): string | undefined {
  return list.find(
    (e) =>
      e.file === file &&
      e.mutator === s.mutator &&
      oneLine(s.replacement, 10_000) === oneLine(e.replacement, 10_000) &&
      s.original.includes(e.original) &&
      (e.line === undefined || sourceLine.includes(e.line)),
  )?.reason;
}

function summarise(module: MutationModule, report: Report): Outcome {
  const counts: Record<string, number> = {};
  const survivors: Survivor[] = [];
  for (const [file, { source, mutants }] of Object.entries(report.files))
    for (const m of mutants) {
      counts[m.status] = (counts[m.status] ?? 0) + 1;
      if (m.status !== "Survived" && m.status !== "NoCoverage") continue;
      const s = {
        mutator: m.mutatorName,
        original: slice(source, m.location),
        replacement: m.replacement ?? "",
        status: m.status,
      };
      survivors.push({
        ...s,
        where: `${file}:${m.location.start.line}:${m.location.start.column}`,
        equivalent: equivalentFor(module.equivalent, file, s, source.split("\n")[m.location.start.line - 1] ?? ""),
      });
    }
  const detected = (counts.Killed ?? 0) + (counts.Timeout ?? 0);
  const undetected = (counts.Survived ?? 0) + (counts.NoCoverage ?? 0);
  const equivalents = survivors.filter((s) => s.equivalent).length;
  const pct = (d: number, u: number) => (d + u === 0 ? 100 : (100 * d) / (d + u));
  return {
    module,
    counts,
    survivors,
    score: pct(detected, undetected),
    scoreWithoutEquivalents: pct(detected, undetected - equivalents),
  };
}

const started: ServerProcess[] = [];
const env: NodeJS.ProcessEnv = { ...process.env, PATH: [binDir, process.env.PATH ?? ""].join(delimiter) };
const outcomes: Outcome[] = [];
try {
  // One PostgreSQL and one Redis for every test run of every mutant (as `npm test` does).
  if (!env.TEST_DATABASE_URL) {
    const pg = await startPostgres();
    started.push(pg);
    env.TEST_DATABASE_URL = pg.url;
  }
  if (!env.TEST_REDIS_URL) {
    const redis = await startRedis();
    started.push(redis);
    env.TEST_REDIS_URL = redis.url;
  }
  for (const module of selected) {
    // A pattern may end in a line range (`file.ts:10-20`), which is not part of the glob.
    if (globSync(module.mutate.map((p) => p.replace(/:\d[\d:-]*$/, ""))).length === 0) {
      outcomes.push({ module, skipped: `no file matches ${module.mutate.join(", ")}` });
      continue;
    }
    console.log(`\n=== mutation testing: ${module.name} (${module.mutate.join(", ")})`);
    const code = await run(join(binDir, "stryker"), ["run", "stryker.config.mjs", ...(force ? ["--force"] : [])], {
      ...env,
      MUTATION_MODULE: module.name,
    });
    const reportFile = join("reports", "mutation", module.name, "mutation.json");
    if (code !== 0 || !existsSync(reportFile)) {
      outcomes.push({ module, failed: `stryker exited with ${code}` });
      continue;
    }
    outcomes.push(summarise(module, JSON.parse(readFileSync(reportFile, "utf8")) as Report));
  }
} finally {
  for (const s of started) await s.destroy().catch(() => {});
}

console.log("\n=== mutation scores");
console.log(
  `${"module".padEnd(10)} ${"score".padStart(7)} ${"w/o eq.".padStart(8)} ${"killed".padStart(7)} ${"timeout".padStart(8)} ${"survived".padStart(9)} ${"no cov.".padStart(8)} ${"equiv.".padStart(7)}  threshold`,
);
let failing = 0;
for (const o of outcomes) {
  if (o.skipped || o.failed) {
    console.log(`${o.module.name.padEnd(10)} ${o.skipped ? `skipped: ${o.skipped}` : `FAILED: ${o.failed}`}`);
    if (o.failed) failing++;
    continue;
  }
  const c = o.counts!;
  const below = o.scoreWithoutEquivalents! < o.module.threshold;
  if (below) failing++;
  console.log(
    `${o.module.name.padEnd(10)} ${`${o.score!.toFixed(1)}%`.padStart(7)} ${`${o.scoreWithoutEquivalents!.toFixed(1)}%`.padStart(8)} ${String(c.Killed ?? 0).padStart(7)} ${String(c.Timeout ?? 0).padStart(8)} ${String(c.Survived ?? 0).padStart(9)} ${String(c.NoCoverage ?? 0).padStart(8)} ${String(o.survivors!.filter((s) => s.equivalent).length).padStart(7)}  ${o.module.threshold}%${below ? " BELOW" : ""}`,
  );
}
for (const o of outcomes) {
  if (!o.survivors?.length) continue;
  console.log(`\n--- surviving mutants: ${o.module.name}`);
  for (const s of o.survivors)
    console.log(
      `${s.where} ${s.mutator}${s.status === "NoCoverage" ? " (no coverage)" : ""}: ${oneLine(s.original)} → ${oneLine(s.replacement)}${s.equivalent ? `\n    equivalent: ${s.equivalent}` : ""}`,
    );
}
console.log("\nHTML reports: reports/mutation/<module>/index.html");
process.exit(failing > 0 ? 1 : 0);
