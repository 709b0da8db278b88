// The script-level guard of `npm run release` (scripts/release/run.ts): no passing tests for HEAD, no release.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RELEASE_TIMEOUT, ReleaseSandbox } from "./sandbox";

/** The refusals spawn bun and git but never semantic-release. */
const REFUSAL_TIMEOUT = 30_000;

describe("release guard", () => {
  let box: ReleaseSandbox;
  beforeAll(() => {
    box = ReleaseSandbox.create();
    box.commit("feat: first api");
    box.push();
  });
  afterAll(() => box.destroy());

  const release = (env: Record<string, string> = {}) => box.script("scripts/release/run.ts", ["--no-ci"], env);

  it(
    "refuses without a recorded passing test run",
    async () => {
      const run = await release();
      expect(run.code).toBe(1);
      expect(run.output).toContain("refusing to publish: no passing test run recorded for this commit");
      expect(run.output).not.toContain("semantic-release"); // it never started
      expect(box.remoteTags()).toEqual([]);
    },
    REFUSAL_TIMEOUT,
  );

  it(
    "a failing test command records nothing and passes its exit code on",
    async () => {
      const verify = await box.script("scripts/release/run.ts", ["verify", "--", "node", "-e", "process.exit(3)"]);
      expect(verify.code).toBe(3);
      expect(verify.output).toContain("is not verified");
      const run = await release();
      expect(run.code).toBe(1);
      expect(run.output).toContain("refusing to publish");
      expect(box.remoteTags()).toEqual([]);
    },
    REFUSAL_TIMEOUT,
  );

  it(
    "a passing run for an older commit does not count",
    async () => {
      const verify = await box.script("scripts/release/run.ts", ["verify", "node", "-e", "0"]);
      expect(verify.code, verify.output).toBe(0);
      const tested = box.git("rev-parse", "HEAD");
      box.commit("feat: untested change");
      box.push();
      const run = await release();
      expect(run.code).toBe(1);
      expect(run.output).toContain(`the recorded passing test run was for ${tested}`);
      expect(box.remoteTags()).toEqual([]);
    },
    REFUSAL_TIMEOUT,
  );

  it(
    "RELEASE_VERIFIED_COMMIT must name HEAD, and uncommitted changes are refused",
    async () => {
      const head = box.git("rev-parse", "HEAD");
      const wrong = await release({ RELEASE_VERIFIED_COMMIT: box.git("rev-parse", "HEAD~1") });
      expect(wrong.code).toBe(1);
      expect(wrong.output).toContain(`but HEAD is ${head}`);

      writeFileSync(join(box.clone, "package.json"), '{"name":"edited","version":"9.9.9","private":true}\n');
      const dirty = await release({ RELEASE_VERIFIED_COMMIT: head });
      expect(dirty.code).toBe(1);
      expect(dirty.output).toContain("uncommitted changes to tracked files");
      box.git("checkout", "--", "package.json");
      expect(box.remoteTags()).toEqual([]);
    },
    REFUSAL_TIMEOUT,
  );

  it(
    "after a passing run on HEAD it releases",
    async () => {
      const verify = await box.script("scripts/release/run.ts", ["verify", "--", "node", "-e", "0"]);
      expect(verify.code, verify.output).toBe(0);
      const run = await release();
      expect(run.code, run.output).toBe(0);
      expect(run.output).toContain("tests verified: `node -e 0` passed on");
      expect(box.remoteTags()).toEqual(["v1.0.0"]);
    },
    RELEASE_TIMEOUT,
  );
});
