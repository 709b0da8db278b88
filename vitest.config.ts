import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

// @actions/workflow-parser imports its JSON schema without an import attribute, which Node refuses, so
// Vite loads the package instead (`inline`). Its published source maps name sources the package does not
// ship; loaded without them, Vite does not warn once per module about files nobody needs.
const workflowParser = /\/node_modules\/@actions\/workflow-parser\/dist\/.*\.js$/;
const withoutSourceMaps = {
  name: "workflow-parser-without-source-maps",
  load(id: string) {
    const file = id.split("?")[0]!;
    if (!workflowParser.test(file)) return null;
    return readFileSync(file, "utf8").replace(/^\/\/# sourceMappingURL=.*$/m, "");
  },
};

export default defineConfig({
  plugins: [withoutSourceMaps],
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    // Stops the servers a file started for itself when run without TEST_DATABASE_URL / TEST_REDIS_URL;
    // fails a test during which pg warned of a deprecation.
    setupFiles: ["test/support/cleanup.ts", "test/support/fail-on-pg-deprecations.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration files start servers and child processes; two cores cannot run many at once.
    maxWorkers: 2,
    server: { deps: { inline: ["@actions/workflow-parser"] } },
  },
});
