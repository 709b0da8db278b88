// The vitest config of a mutation run (stryker.config.mjs): the project's, narrowed to the test files
// of the module under mutation (MUTATION_TESTS, comma-separated). Narrowed here rather than with
// Stryker's `testFiles`: with that option Stryker activates module-level ("static") mutants only at run
// time, after the module has been loaded, so every mutant of a constant would survive.
import { defineConfig } from "vitest/config";
import base from "./vitest.config";

const tests = (process.env.MUTATION_TESTS ?? "").split(",").filter(Boolean);
if (tests.length === 0) throw new Error("MUTATION_TESTS names no test file");

export default defineConfig({ ...base, test: { ...base.test, include: tests } });
