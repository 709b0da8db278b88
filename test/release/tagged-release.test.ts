// A release whose last steps failed: semantic-release pushed the tag (and on main the release commit), then a
// later step failed, so its own outputs were never written and a re-run finds nothing to release. The release
// job reads what was released from the remote's tags instead (scripts/release/tagged-release.ts); this runs
// that against the real semantic-release on a throwaway remote, in the same clone (the failed attempt) and in
// a fresh clone of the branch (a re-run of the job).

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseOutputFile } from "../ops/harness";
import { REPO_ROOT } from "../support/repo";
import { cleanEnv, RELEASE_TIMEOUT, ReleaseSandbox, runCommand } from "./sandbox";

const SCRIPT = join(REPO_ROOT, "scripts/release/tagged-release.ts");
const BUN = join(REPO_ROOT, "node_modules/.bin/bun");

describe("a version tagged by a release whose later steps failed", () => {
  let box: ReleaseSandbox;
  let scratch: string;
  beforeAll(() => {
    box = ReleaseSandbox.create();
    scratch = mkdtempSync(join(tmpdir(), "tagged-release-"));
  });
  afterAll(() => {
    box.destroy();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** The script as the job's step runs it: in a checkout of the branch, outputs to a fresh GITHUB_OUTPUT. */
  async function tagged(cwd: string, args: string[]) {
    const outputFile = join(scratch, `output-${Math.random().toString(36).slice(2)}`);
    writeFileSync(outputFile, "");
    const run = await runCommand(BUN, [SCRIPT, ...args], cwd, cleanEnv({ GITHUB_OUTPUT: outputFile }));
    return { ...run, outputs: parseOutputFile(readFileSync(outputFile, "utf8")) };
  }

  /** A fresh checkout of `branch` from the remote, as actions/checkout makes it for a re-run. */
  function checkout(branch: string): string {
    const dir = mkdtempSync(join(scratch, "checkout-"));
    execFileSync("git", ["clone", "--quiet", "--branch", branch, `file://${box.remote}`, dir], { env: cleanEnv() });
    return dir;
  }

  /** Releases with an unwritable GITHUB_OUTPUT: the success step fails after the tag was pushed. */
  async function releaseFailingAfterTag(): Promise<void> {
    const notAFile = join(scratch, `dir-${Math.random().toString(36).slice(2)}`);
    mkdirSync(notAFile);
    const run = await box.release([], { GITHUB_OUTPUT: notAFile });
    expect(run.code, run.output).not.toBe(0);
    expect(run.output).toMatch(/EISDIR/);
  }

  it(
    "main: the failed attempt and a re-run both find the version, its release commit, and say it is incomplete",
    async () => {
      const tested = box.commit("feat: list stops");
      box.push();
      await releaseFailingAfterTag();
      expect(box.remoteTags()).toEqual(["v1.0.0"]);
      const releaseCommit = box.remoteHead("main");
      expect(box.remoteSubject("main")).toBe("chore(release): 1.0.0 [skip ci]");

      const attempt = await tagged(box.clone, ["find", tested, "--outcome", "failure"]);
      expect(attempt.code, attempt.output).toBe(0);
      expect(attempt.outputs).toEqual({
        released: "true",
        version: "1.0.0",
        tag: "v1.0.0",
        commit: releaseCommit,
        prerelease: "false",
      });
      expect(attempt.output).toContain("v1.0.0 was released, but a later release step failed");

      const rerun = checkout("main");
      expect((await tagged(rerun, ["state", tested])).outputs).toEqual({ state: "released" });
      const found = await tagged(rerun, ["find", tested, "--outcome", "skipped"]);
      expect(found.outputs.commit).toBe(releaseCommit);
      expect(found.outputs.version).toBe("1.0.0");
      expect(found.output).not.toContain("later release step failed");
    },
    RELEASE_TIMEOUT,
  );

  it(
    "develop: a prerelease tag on the tested commit itself is found; main's stable tag is not taken for it",
    async () => {
      box.pull();
      box.checkout("develop", "main");
      box.push();
      const tested = box.commit("feat: route search");
      box.push();
      await releaseFailingAfterTag();
      expect(box.remoteTags()).toContain("v1.1.0-beta.1");
      const found = await tagged(checkout("develop"), ["find", tested]);
      expect(found.outputs).toEqual({
        released: "true",
        version: "1.1.0-beta.1",
        tag: "v1.1.0-beta.1",
        commit: tested,
        prerelease: "true",
      });
    },
    RELEASE_TIMEOUT,
  );

  it(
    "finds nothing when nothing was released, and knows when the branch moved past the tested commit",
    async () => {
      box.checkout("main");
      box.pull();
      const docsOnly = box.commit("docs: explain the API");
      box.push();
      expect((await tagged(box.clone, ["find", docsOnly])).outputs).toEqual({ released: "false" });
      const stale = box.git("rev-parse", "HEAD~1");
      expect((await tagged(box.clone, ["state", docsOnly])).outputs).toEqual({ state: "tested" });
      expect((await tagged(box.clone, ["state", stale])).outputs).toEqual({ state: "moved" });
      expect((await tagged(box.clone, ["find", "not-a-commit"])).code).toBe(2);
    },
    RELEASE_TIMEOUT,
  );
});
