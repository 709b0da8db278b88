// `vitest run --config test/e2e/vitest.config.ts`: the E2E suite (the main config excludes test/e2e,
// which needs Docker and a built image). Files run one at a time: each starts containers and servers.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/e2e/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 1_800_000,
    fileParallelism: false,
  },
});
