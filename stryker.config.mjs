// StrykerJS for one module of scripts/test/mutation-modules.ts, chosen by MUTATION_MODULE (the runner,
// scripts/test/mutation.ts, sets it). Run through `npm run test:mutation`, which prints the summary.
// @ts-check
import { MUTATION_MODULES } from "./scripts/test/mutation-modules.ts";

const name = process.env.MUTATION_MODULE;
const module = MUTATION_MODULES.find((m) => m.name === name);
if (!module)
  throw new Error(`MUTATION_MODULE must be one of ${MUTATION_MODULES.map((m) => m.name).join(", ")} (got ${name})`);
const out = `reports/mutation/${module.name}`;
process.env.MUTATION_TESTS = module.tests.join(",");

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  packageManager: "npm",
  mutate: module.mutate,
  ...(module.runner === "vitest"
    ? {
        testRunner: "vitest",
        // The module's test files: vitest.mutation.config.ts reads them from MUTATION_TESTS.
        // Forks, not threads: tests may change the working directory, which worker threads cannot.
        vitest: { configFile: "vitest.mutation.config.ts", related: false, pool: "forks" },
        coverageAnalysis: "perTest",
      }
    : {
        testRunner: "command",
        commandRunner: { command: `npx vitest run ${module.tests.join(" ")}` },
        coverageAnalysis: "off",
      }),
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.json",
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // Two cores shared with other work: one test runner; the scheduled workflow may raise it.
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 1),
  incremental: true,
  incrementalFile: `${out}/incremental.json`,
  reporters: ["html", "json", "progress"],
  htmlReporter: { fileName: `${out}/index.html` },
  jsonReporter: { fileName: `${out}/mutation.json` },
  thresholds: { high: 90, low: module.threshold, break: null },
  timeoutMS: 30_000,
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
  // Not needed in the sandbox copies of the repository.
  ignorePatterns: ["reports", "data", "logs", "bench-results", "coverage", "deploy/k8s/rendered"],
};
export default config;
