// feature/*: prereleases named after the branch; badly named branches are caught by the PR check and
// never break releases from other branches.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RELEASE_TIMEOUT, ReleaseSandbox } from "./sandbox";

describe("feature branch prereleases", () => {
  let box: ReleaseSandbox;
  beforeAll(() => {
    box = ReleaseSandbox.create();
    box.commit("feat: first api");
    box.push();
    box.tagExistingRelease("1.0.0");
  });
  afterAll(() => box.destroy());

  async function releaseOn(branch: string): Promise<string[]> {
    box.checkout(branch);
    const before = box.remoteTags();
    const run = await box.release();
    expect(run.code, run.output).toBe(0);
    return box.remoteTags().filter((tag) => !before.includes(tag));
  }

  it(
    "feature/Login_v2: 1.1.0-login-v2.1 on the login-v2 channel, nothing committed",
    async () => {
      box.checkout("feature/Login_v2", "main");
      const head = box.commit("feat: login with OAuth");
      box.push();
      expect(await releaseOn("feature/Login_v2")).toEqual(["v1.1.0-login-v2.1"]);
      expect(box.tagChannels("v1.1.0-login-v2.1")).toEqual(["login-v2"]);
      expect(box.remoteHead("feature/Login_v2")).toBe(head);
    },
    RELEASE_TIMEOUT,
  );

  it(
    "two feature branches at once release independently",
    async () => {
      box.checkout("feature/search-ui", "main");
      box.commit("feat!: new search API");
      box.push();
      expect(await releaseOn("feature/search-ui")).toEqual(["v2.0.0-search-ui.1"]);
      expect(box.tagChannels("v2.0.0-search-ui.1")).toEqual(["search-ui"]);

      box.checkout("feature/Login_v2");
      box.commit("fix: login redirect");
      box.push();
      expect(await releaseOn("feature/Login_v2")).toEqual(["v1.1.0-login-v2.2"]);
    },
    RELEASE_TIMEOUT,
  );

  it(
    "a colliding or unusable name fails the PR check, and main still releases while it exists",
    async () => {
      box.checkout("feature/login-V2", "main");
      box.commit("feat: another login");
      box.push();
      box.checkout("feature/___", "main");
      box.commit("feat: nameless");
      box.push();

      const collision = await box.script("scripts/release/check-branch.ts", ["feature/login-V2", "--remote"]);
      expect(collision.code).toBe(1);
      expect(collision.output.trim().split("\n")).toHaveLength(1);
      expect(collision.output).toContain('prerelease id "login-v2", already used by feature/Login_v2');
      const unusable = await box.script("scripts/release/check-branch.ts", ["feature/___", "--remote"]);
      expect(unusable.code).toBe(1);
      expect(unusable.output).toContain("no usable prerelease id");
      const fine = await box.script("scripts/release/check-branch.ts", ["feature/Login_v2", "--remote"]);
      expect(fine.code, fine.output).toBe(0);

      box.checkout("main");
      box.commit("fix: stop names");
      box.push();
      expect(await releaseOn("main")).toEqual(["v1.0.1"]);
    },
    RELEASE_TIMEOUT,
  );

  it(
    "releasing from the refused branch publishes nothing",
    async () => {
      box.checkout("feature/login-V2");
      const run = await box.release();
      expect(run.code, run.output).toBe(0);
      expect(run.output).toContain("not releasing feature/login-V2");
      expect(run.output).toMatch(/triggered on the branch feature\/login-V2, while semantic-release is configured/);
      expect(box.remoteTags().filter((tag) => tag.includes("login"))).toEqual([
        "v1.1.0-login-v2.1",
        "v1.1.0-login-v2.2",
      ]);
    },
    RELEASE_TIMEOUT,
  );
});
