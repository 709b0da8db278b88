import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    // Stops the servers a file started for itself when run without TEST_DATABASE_URL / TEST_REDIS_URL.
    setupFiles: ["test/support/cleanup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration files start servers and child processes; two cores cannot run many at once.
    maxWorkers: 2,
  },
});
