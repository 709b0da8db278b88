// develop: prereleases on the `next` channel, then the same changes released from main after a merge.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/repo";
import { RELEASE_TIMEOUT, ReleaseSandbox } from "./sandbox";

const CHANGELOG_HEADER = readFileSync(join(REPO_ROOT, "CHANGELOG.md"), "utf8").trim();

describe("develop prereleases", () => {
  let box: ReleaseSandbox;
  beforeAll(() => {
    box = ReleaseSandbox.create();
    box.commit("feat: first api");
    box.push();
    box.tagExistingRelease("1.0.0"); // main is at 1.0.0
    box.checkout("develop", "main");
  });
  afterAll(() => box.destroy());

  it(
    "a feat on develop after main 1.0.0: 1.1.0-beta.1 on `next`, no CHANGELOG.md or release commit",
    async () => {
      const featCommit = box.commit("feat: realtime arrivals");
      box.push();
      const run = await box.release();
      expect(run.code, run.output).toBe(0);
      expect(box.remoteTags()).toEqual(["v1.0.0", "v1.1.0-beta.1"]);
      expect(box.tagChannels("v1.1.0-beta.1")).toEqual(["next"]);
      expect(box.git("rev-parse", "v1.1.0-beta.1^{commit}")).toBe(featCommit);
      expect(box.remoteHead("develop")).toBe(featCommit); // nothing committed on top
      expect(box.remoteFile("develop", "CHANGELOG.md")?.trim()).toBe(CHANGELOG_HEADER);
      expect(box.git("status", "--porcelain", "--untracked-files=no")).toBe(""); // no file touched either
    },
    RELEASE_TIMEOUT,
  );

  it(
    "the next change on develop: 1.1.0-beta.2, also when started by workflow_run (GITHUB_REF names main)",
    async () => {
      const head = box.commit("fix: arrivals timezone");
      box.push();
      // As release.yml runs it: `npm run release` in GitHub Actions after CI passed; GitHub sets GITHUB_REF
      // to the default branch for workflow_run events, whichever branch the run is about.
      const run = await box.script("scripts/release/run.ts", [], {
        GITHUB_ACTIONS: "true",
        GITHUB_EVENT_NAME: "workflow_run",
        GITHUB_REF: "refs/heads/main",
        GITHUB_SHA: box.remoteHead("main"),
        RELEASE_VERIFIED_COMMIT: head,
      });
      expect(run.code, run.output).toBe(0);
      expect(box.remoteTags()).toEqual(["v1.0.0", "v1.1.0-beta.1", "v1.1.0-beta.2"]);
      expect(box.tagChannels("v1.1.0-beta.2")).toEqual(["next"]);
    },
    RELEASE_TIMEOUT,
  );

  it(
    "develop merged into main: 1.1.0 on the default channel with both changes in CHANGELOG.md",
    async () => {
      box.checkout("main");
      box.git("merge", "--quiet", "--no-ff", "-m", "Merge branch 'develop'", "develop");
      box.push();
      const run = await box.release();
      expect(run.code, run.output).toBe(0);
      expect(box.remoteTags()).toEqual(["v1.0.0", "v1.1.0", "v1.1.0-beta.1", "v1.1.0-beta.2"]);
      expect(box.tagChannels("v1.1.0")).toEqual([null]);
      expect(box.remoteSubject("main")).toBe("chore(release): 1.1.0 [skip ci]");
      const changelog = box.remoteFile("main", "CHANGELOG.md")!;
      expect(changelog).toContain("realtime arrivals");
      expect(changelog).toContain("arrivals timezone");
      expect(changelog).not.toContain("beta");
      expect(JSON.parse(box.remoteFile("main", "package.json")!).version).toBe("1.1.0");
    },
    RELEASE_TIMEOUT,
  );
});
