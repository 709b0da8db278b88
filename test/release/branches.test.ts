// The branch model (scripts/release/branches.js), the PR check CLI and the commit-message rules.

import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import semver from "semver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkBranch,
  classifyBranch,
  featurePrereleaseId,
  maintenanceRange,
  semanticReleaseBranches,
} from "../../scripts/release/branches.js";
import { REPO_ROOT } from "../support/repo";
import { cleanEnv } from "./sandbox";

/** For tests that spawn processes: bun's default 5 s per test is tight on a busy 2-core machine. */
const PROCESS_TIMEOUT = 60_000;

const semverPrerelease = /^(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)$/;

describe("feature branch sanitiser", () => {
  it("derives a lower-case [0-9a-z-] id from the branch name", () => {
    expect(featurePrereleaseId("feature/Login_v2")).toBe("login-v2");
    expect(featurePrereleaseId("feature/auth/OAuth2.1 flow")).toBe("auth-oauth2-1-flow");
    expect(featurePrereleaseId("feature/--x__y--")).toBe("x-y");
    expect(featurePrereleaseId("feature/007")).toBe("feature-007"); // numeric ids may not have leading zeros
    expect(featurePrereleaseId("feature/___")).toBeNull();
    expect(featurePrereleaseId("develop")).toBeNull();
  });

  it("every id it produces is a valid semver prerelease identifier", () => {
    const names = ["Login_v2", "a.b.c", "ÄÖÜ-über", "x+y@z", "123", "0", "-lead", "Ümlaut", "a//b", "v1.2.3"];
    for (const name of names) {
      const id = featurePrereleaseId(`feature/${name}`);
      if (id === null) continue;
      expect(id, name).toMatch(semverPrerelease);
      expect(id, name).toMatch(/^[0-9a-z-]+$/);
    }
  });
});

describe("maintenance ranges", () => {
  it("reads <major>.<minor>.x and <major>.x from hotfix/ names only", () => {
    expect(maintenanceRange("hotfix/1.4.x")).toBe("1.4.x");
    expect(maintenanceRange("hotfix/2.x")).toBe("2.x");
    expect(maintenanceRange("hotfix/fix-login")).toBeNull();
    expect(maintenanceRange("hotfix/01.4.x")).toBeNull();
    expect(maintenanceRange("1.4.x")).toBeNull();
  });

  it("refuses names that look like a line but are not one", () => {
    for (const name of ["hotfix/1.4", "hotfix/v1.4.x", "hotfix/1.4.2", "hotfix/01.4.x"]) {
      const info = classifyBranch(name);
      expect(info.kind, name).toBe("invalid");
    }
    expect(classifyBranch("hotfix/fix-login").kind).toBe("hotfix");
  });
});

describe("checkBranch", () => {
  it("accepts the release branches and ordinary PR branches", () => {
    for (const name of ["main", "develop", "hotfix/1.4.x", "hotfix/crash", "chore/deps", "feature/login"]) {
      expect(checkBranch(name).ok, name).toBe(true);
    }
  });

  it("refuses ids reserved for develop and ids already taken", () => {
    const beta = checkBranch("feature/Beta");
    expect(beta.ok).toBe(false);
    expect(!beta.ok && beta.reason).toContain("reserved for develop");
    const taken = checkBranch("feature/Login_V2", ["main", "feature/login-v2"]);
    expect(taken.ok).toBe(false);
    expect(!taken.ok && taken.reason).toContain("already used by feature/login-v2");
    // The canonical name keeps its id, whichever branch came first.
    expect(checkBranch("feature/login-v2", ["feature/Login_V2"]).ok).toBe(true);
  });
});

describe("semanticReleaseBranches", () => {
  it("lists releasable branches one by one and leaves out the rest with a reason", () => {
    const { branches, skipped } = semanticReleaseBranches([
      "main",
      "develop",
      "feature/Login_v2",
      "feature/login-v2",
      "feature/___",
      "feature/a+b",
      "hotfix/1.4.x",
      "hotfix/1.4",
      "hotfix/crash",
      "renovate/pg-9.x",
    ]);
    expect(branches).toEqual([
      "main",
      { name: "develop", channel: "next", prerelease: "beta" },
      { name: "feature/a\\+b", prerelease: "a-b", channel: "a-b" },
      { name: "feature/login-v2", prerelease: "login-v2", channel: "login-v2" },
      { name: "hotfix/1.4.x", range: "1.4.x", channel: "1.4.x" },
    ]);
    expect(skipped.map((s) => s.branch).sort()).toEqual(["feature/Login_v2", "feature/___", "hotfix/1.4"]);
    for (const { reason } of skipped) expect(reason).not.toContain("\n");
  });
});

describe("check-branch CLI", () => {
  const bun = join(REPO_ROOT, "node_modules", ".bin", "bun");
  const check = (...args: string[]) =>
    spawnSync(bun, [join(REPO_ROOT, "scripts/release/check-branch.ts"), ...args], { encoding: "utf8" });

  it(
    "exits 0 with a summary for a releasable branch",
    () => {
      const run = check("refs/heads/feature/Login_v2");
      expect(run.status).toBe(0);
      expect(run.stdout).toContain("x.y.z-login-v2.N");
    },
    PROCESS_TIMEOUT,
  );

  it(
    "exits 1 with a one-line reason for a collision given as existing branches",
    () => {
      const run = check("feature/LOGIN-v2", "main", "feature/login-v2");
      expect(run.status).toBe(1);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr).toContain("already used by feature/login-v2");
    },
    PROCESS_TIMEOUT,
  );

  it(
    "exits 2 without a branch",
    () => {
      expect(check().status).toBe(2);
    },
    PROCESS_TIMEOUT,
  );
});

describe("commitlint config", () => {
  let repo: string;
  beforeAll(() => {
    // One commitlint run per test over a range of commits, as CI runs it (a process per message is slow
    // on a busy machine); the project's config is copied in, plugins resolve through node_modules.
    repo = mkdtempSync(join(tmpdir(), "commitlint-"));
    copyFileSync(join(REPO_ROOT, "commitlint.config.js"), join(repo, "commitlint.config.js"));
    writeFileSync(join(repo, "package.json"), '{"type":"module"}\n');
    symlinkSync(join(REPO_ROOT, "node_modules"), join(repo, "node_modules"));
    gitIn(repo, "init", "--quiet");
    gitIn(repo, "commit", "--quiet", "--allow-empty", "-m", "chore: root");
  });
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  function gitIn(cwd: string, ...args: string[]): string {
    return execFileSync("git", args, { cwd, env: cleanEnv(), encoding: "utf8" }).trim();
  }

  /** Commits the messages on top of the root commit and lints exactly those. */
  function lintCommits(messages: string[]) {
    gitIn(repo, "reset", "--quiet", "--soft", gitIn(repo, "rev-list", "--max-parents=0", "HEAD"));
    const from = gitIn(repo, "rev-parse", "HEAD");
    for (const message of messages) gitIn(repo, "commit", "--quiet", "--allow-empty", "-m", message);
    return spawnSync(join(REPO_ROOT, "node_modules", ".bin", "commitlint"), ["--from", from, "--to", "HEAD"], {
      cwd: repo,
      env: cleanEnv(),
      encoding: "utf8",
    });
  }

  it(
    "accepts the conventions semantic-release reads, including its own release commits",
    () => {
      const run = lintCommits([
        "feat(api): add stops endpoint",
        "fix!: drop v0",
        "fix: paginate\n\nBREAKING CHANGE: limit defaults to 50",
        "chore(release): 1.2.0 [skip ci]",
        `feat(gtfs): ${"a long but perfectly classifiable subject ".repeat(3).trim()}`, // style only warns
        "ci: GitHub Actions pipeline",
      ]);
      expect(run.status, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).not.toContain("✖");
    },
    PROCESS_TIMEOUT,
  );

  it(
    "rejects messages semantic-release could not classify, each of them",
    () => {
      const bad = ["Added stuff", "wip: half done", "feat add stops"];
      const run = lintCommits(["feat: fine", ...bad]);
      expect(run.status).not.toBe(0);
      const failed = (run.stdout + run.stderr)
        // commitlint 21 prints "⧗   --- input ---" and the message on the next line (20: "⧗   input: <message>").
        .split(/⧗ {3}--- input ---\n/)
        .slice(1)
        .filter((block) => /✖ {3}found [1-9]\d* problems?/.test(block))
        .map((block) => block.split("\n")[0]);
      expect(failed.sort()).toEqual([...bad].sort());
    },
    PROCESS_TIMEOUT,
  );
});

describe("semantic-release line", () => {
  it("runs on the project's own Node, which every release tool's engines accept", () => {
    const readJson = (path: string) => JSON.parse(readFileSync(join(REPO_ROOT, path), "utf8"));
    // The release job (and every test here) runs the Node the `node` devDependency installs.
    const node = readJson("node_modules/node/package.json").version as string;
    expect(semver.major(node)).toBe(24);
    expect(semver.satisfies(node, readJson("package.json").engines.node)).toBe(true);
    for (const tool of [
      "semantic-release",
      "@semantic-release/github",
      "@semantic-release/git",
      "@semantic-release/changelog",
      "@semantic-release/exec",
      "@commitlint/cli",
    ]) {
      const installed = readJson(`node_modules/${tool}/package.json`);
      expect({ tool, ok: semver.satisfies(node, installed.engines?.node ?? "*") }).toEqual({ tool, ok: true });
    }
    expect(semver.major(readJson("node_modules/semantic-release/package.json").version)).toBe(25);
  });
});
