// A maintenance line whose next patch was already released from main after the line was cut.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RELEASE_TIMEOUT, ReleaseSandbox } from "./sandbox";

describe("maintenance line whose next patch already exists", () => {
  let box: ReleaseSandbox;
  beforeAll(() => {
    box = ReleaseSandbox.create();
    box.commit("feat: first api");
    box.push();
    box.tagExistingRelease("1.0.0");
    box.checkout("hotfix/1.0.x", "main"); // cut at 1.0.0 ...
    box.push();
    box.checkout("main"); // ... then main released 1.0.1 and 1.1.0
    box.commit("fix: stop order");
    box.push();
    box.tagExistingRelease("1.0.1");
    box.commit("feat: fares");
    box.push();
    box.tagExistingRelease("1.1.0");
  });
  afterAll(() => box.destroy());

  it(
    "fails, naming the existing release and the merge that fixes it",
    async () => {
      box.checkout("hotfix/1.0.x");
      box.commit("fix: crash on empty feed");
      box.push();
      const run = await box.script("scripts/release/run.ts", ["--no-ci"], {
        RELEASE_VERIFIED_COMMIT: box.git("rev-parse", "HEAD"),
      });
      expect(run.code).not.toBe(0);
      expect(run.output).toContain("The next patch of hotfix/1.0.x, 1.0.1, already exists");
      expect(run.output).toContain("git merge v1.0.1");
      expect(box.remoteTags()).toEqual(["v1.0.0", "v1.0.1", "v1.1.0"]);
    },
    RELEASE_TIMEOUT,
  );

  it(
    "after merging that release into the line it releases 1.0.2",
    async () => {
      box.git("merge", "--quiet", "--no-edit", "v1.0.1");
      box.push();
      const run = await box.release();
      expect(run.code, run.output).toBe(0);
      expect(box.remoteTags()).toEqual(["v1.0.0", "v1.0.1", "v1.0.2", "v1.1.0"]);
      expect(box.tagChannels("v1.0.2")).toEqual(["1.0.x"]);
    },
    RELEASE_TIMEOUT,
  );
});
