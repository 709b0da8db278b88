// hotfix/<x.y>.x maintenance lines and plain hotfix/<desc> PR branches.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RELEASE_TIMEOUT, ReleaseSandbox } from "./sandbox";

describe("maintenance line created before main moved on", () => {
  let box: ReleaseSandbox;
  beforeAll(() => {
    box = ReleaseSandbox.create();
    box.commit("feat: first api");
    box.push();
    box.tagExistingRelease("1.0.0");
    box.checkout("hotfix/1.0.x", "main"); // main is still at 1.0.0
    box.push();
  });
  afterAll(() => box.destroy());

  it(
    "fails with a message that says why and what to do, and publishes nothing",
    async () => {
      box.commit("fix: crash on empty feed");
      box.push();
      const head = box.git("rev-parse", "HEAD");
      const run = await box.script("scripts/release/run.ts", ["--no-ci"], { RELEASE_VERIFIED_COMMIT: head });
      expect(run.code).not.toBe(0);
      expect(run.output).toContain("EINVALIDNEXTVERSION");
      expect(run.output).toContain("hotfix/1.0.x was created before main moved past 1.0.x");
      expect(run.output).toContain("Land the fix on main instead");
      expect(box.remoteTags()).toEqual(["v1.0.0"]);
    },
    RELEASE_TIMEOUT,
  );

  it(
    "main is not blocked by it: a feat releases 1.1.0",
    async () => {
      box.checkout("main");
      box.commit("feat: trip planner");
      box.push();
      const run = await box.release();
      expect(run.code, run.output).toBe(0);
      expect(box.remoteTags()).toEqual(["v1.0.0", "v1.1.0"]);
      box.pull();
    },
    RELEASE_TIMEOUT,
  );

  it(
    "once main has moved to 1.1.0 the line releases 1.0.1 on the 1.0.x channel",
    async () => {
      box.checkout("hotfix/1.0.x");
      const run = await box.release();
      expect(run.code, run.output).toBe(0);
      expect(box.remoteTags()).toEqual(["v1.0.0", "v1.0.1", "v1.1.0"]);
      expect(box.tagChannels("v1.0.1")).toEqual(["1.0.x"]);
      expect(box.remoteSubject("hotfix/1.0.x")).toBe("chore(release): 1.0.1 [skip ci]");
      expect(box.remoteFile("hotfix/1.0.x", "CHANGELOG.md")).toContain("crash on empty feed");
      expect(JSON.parse(box.remoteFile("hotfix/1.0.x", "package.json")!).version).toBe("1.0.1");
      expect(JSON.parse(box.remoteFile("main", "package.json")!).version).toBe("1.1.0");
    },
    RELEASE_TIMEOUT,
  );

  it(
    "a plain hotfix/<desc> branch releases nothing itself and a patch once merged into main",
    async () => {
      box.checkout("hotfix/fix-timezone", "main");
      box.commit("fix: timezone of arrivals");
      box.push();
      const check = await box.script("scripts/release/check-branch.ts", ["hotfix/fix-timezone"]);
      expect(check.code, check.output).toBe(0);
      expect(check.output).toContain("hotfix PR branch");

      box.checkout("main");
      box.git("merge", "--quiet", "--no-ff", "-m", "Merge branch 'hotfix/fix-timezone'", "hotfix/fix-timezone");
      box.push();
      const run = await box.release();
      expect(run.code, run.output).toBe(0);
      expect(box.remoteTags()).toEqual(["v1.0.0", "v1.0.1", "v1.1.0", "v1.1.1"]);
      expect(box.tagChannels("v1.1.1")).toEqual([null]);
    },
    RELEASE_TIMEOUT,
  );
});
