import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration files start servers and child processes; two cores cannot run many at once.
    maxWorkers: 2,
  },
});
