// The branch rules of scripts/release/branches.js one by one, each case built so that one rule alone
// decides it (what the mutation run, npm run test:mutation -- release, checks): which names are
// feature, maintenance, hotfix or other branches, what they sanitise to, who owns an id two names
// share, and the one-line summaries and reasons the PR check prints.
import { describe, expect, it } from "vitest";
import {
  checkBranch,
  classifyBranch,
  featurePrereleaseId,
  maintenanceRange,
  semanticReleaseBranches,
} from "../../scripts/release/branches.js";

describe("what a name means", () => {
  it("main releases on the default channel; develop prereleases beta on next", () => {
    expect(classifyBranch("main")).toEqual({ kind: "release", channel: "default" });
    expect(classifyBranch("develop")).toEqual({ kind: "prerelease", channel: "next", prerelease: "beta" });
  });

  it("names under no release prefix are other branches, whatever their length", () => {
    for (const name of ["chore/deps", "renovate/pg-9.x", "bugfix/1.4.x", "mainline", "developer"])
      expect(classifyBranch(name), name).toEqual({ kind: "other" });
  });

  it("only feature/ names have a feature prerelease id", () => {
    expect(featurePrereleaseId("bugfix/something-long")).toBeNull();
    expect(featurePrereleaseId("hotfix/login-fix")).toBeNull();
  });

  it("only hotfix/ names have a maintenance range", () => {
    expect(maintenanceRange("bugfix/1.4.x")).toBeNull();
    expect(maintenanceRange("feature/1.x")).toBeNull();
  });
});

describe("feature ids", () => {
  it("collapses the dashes a replaced run leaves next to an existing one", () => {
    expect(featurePrereleaseId("feature/a-_b")).toBe("a-b");
    expect(featurePrereleaseId("feature/a_-_b")).toBe("a-b");
  });

  it('prefixes "feature-" only to an id of digits alone', () => {
    expect(featurePrereleaseId("feature/2fa")).toBe("2fa");
    expect(featurePrereleaseId("feature/2024")).toBe("feature-2024");
  });

  it("says why a name leaves no usable id", () => {
    expect(classifyBranch("feature/___")).toEqual({
      kind: "invalid",
      reason: "feature/___ has no usable prerelease id (use [0-9A-Za-z-])",
    });
  });
});

describe("maintenance lines", () => {
  it("take multi-digit majors and minors", () => {
    expect(maintenanceRange("hotfix/10.x")).toBe("10.x");
    expect(maintenanceRange("hotfix/1.12.x")).toBe("1.12.x");
    expect(maintenanceRange("hotfix/0.0.x")).toBe("0.0.x");
    expect(classifyBranch("hotfix/10.x")).toEqual({ kind: "maintenance", range: "10.x", channel: "10.x" });
  });

  it("end at the x", () => {
    expect(maintenanceRange("hotfix/1.4.xy")).toBeNull();
    expect(classifyBranch("hotfix/1.4.xy")).toEqual({ kind: "hotfix" });
  });

  it("refuses a whole name that looks like a version but is not a line, with the fix in the reason", () => {
    expect(classifyBranch("hotfix/1.10")).toEqual({
      kind: "invalid",
      reason:
        "hotfix/1.10 looks like a maintenance line but is not one: use hotfix/<major>.<minor>.x or hotfix/<major>.x (e.g. hotfix/1.4.x)",
    });
    expect(classifyBranch("hotfix/V2.3.x").kind).toBe("invalid");
  });

  it("leaves hotfix names that only contain a version alone", () => {
    for (const name of ["hotfix/fix-1.4", "hotfix/1.4-crash", "hotfix/crash-in-2.x"])
      expect(classifyBranch(name), name).toEqual({ kind: "hotfix" });
  });
});

describe("who owns an id two names share", () => {
  it("the canonical name, whichever order they come in", () => {
    for (const others of [["feature/Login_V2"], ["feature/Login_V2", "feature/LOGIN-v2"]]) {
      expect(checkBranch("feature/login-v2", others).ok).toBe(true);
      for (const other of others) expect(checkBranch(other, ["feature/login-v2"]).ok).toBe(false);
    }
  });

  it("without a canonical name, the alphabetically first, whichever order they come in", () => {
    // "feature/LOGIN-v2" < "feature/Login_V2" < "feature/login__v2" (code unit order).
    const names = ["feature/LOGIN-v2", "feature/Login_V2", "feature/login__v2"];
    for (const order of [names, [...names].reverse(), [names[1]!, names[2]!, names[0]!]]) {
      const { branches, skipped } = semanticReleaseBranches(order);
      expect(branches.slice(2)).toEqual([{ name: "feature/LOGIN-v2", prerelease: "login-v2", channel: "login-v2" }]);
      expect(skipped.map((s) => s.branch).sort()).toEqual(["feature/Login_V2", "feature/login__v2"]);
      for (const name of names) {
        const check = checkBranch(name, order);
        expect(check.ok, `${name} among ${order.join(" ")}`).toBe(name === "feature/LOGIN-v2");
      }
    }
    expect(checkBranch("feature/Login_V2", ["feature/LOGIN-v2"])).toEqual({
      ok: false,
      reason:
        'feature/Login_V2 sanitises to prerelease id "login-v2", already used by feature/LOGIN-v2: rename it (e.g. feature/login-v2-2)',
    });
  });

  it("lists branches in name order", () => {
    const { branches } = semanticReleaseBranches(["hotfix/2.x", "feature/zeta", "hotfix/1.4.x", "feature/alpha"]);
    expect(branches.slice(2).map((b) => (typeof b === "string" ? b : b.name))).toEqual([
      "feature/alpha",
      "feature/zeta",
      "hotfix/1.4.x",
      "hotfix/2.x",
    ]);
  });
});

describe("what the PR check prints", () => {
  it.each([
    ["main", "main: stable releases on the default channel"],
    ["develop", 'develop: prereleases x.y.z-beta.N on the "next" channel'],
    ["hotfix/1.4.x", 'hotfix/1.4.x: maintenance releases in range 1.4.x on the "1.4.x" channel'],
    ["hotfix/crash", "hotfix/crash: hotfix PR branch, releases a patch from main when merged"],
    ["chore/deps", "chore/deps: not a release branch (merging it releases from the target branch)"],
    ["feature/Login_v2", 'feature/Login_v2: prereleases x.y.z-login-v2.N on the "login-v2" channel'],
  ])("%s", (branch, summary) => {
    expect(checkBranch(branch)).toEqual({ ok: true, summary });
  });
});
