// main: stable releases from Conventional Commits, on a real bare remote with the real semantic-release.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/repo";
import { RELEASE_TIMEOUT, ReleaseSandbox } from "./sandbox";

const CHANGELOG_HEADER = readFileSync(join(REPO_ROOT, "CHANGELOG.md"), "utf8").trim();

describe("releases from main", () => {
  let box: ReleaseSandbox;
  beforeAll(() => {
    box = ReleaseSandbox.create();
  });
  afterAll(() => box.destroy());

  /** Commits, pushes, releases, and returns the tags the release added. */
  async function releaseAfter(messages: string[], env: Record<string, string> = {}): Promise<string[]> {
    const before = box.remoteTags();
    for (const message of messages) box.commit(message);
    box.push();
    const run = await box.release([], env);
    expect(run.code, run.output).toBe(0);
    box.pull();
    return box.remoteTags().filter((tag) => !before.includes(tag));
  }

  it(
    "only chore/docs commits: no release, nothing written",
    async () => {
      const head = box.git("rev-parse", "HEAD");
      expect(await releaseAfter(["chore: tidy scripts", "docs: explain the API"])).toEqual([]);
      expect(box.remoteHead("main")).not.toBe(head); // the pushed commits are there...
      expect(box.remoteSubject("main")).toBe("docs: explain the API"); // ...and no release commit on top
      expect(box.remoteFile("main", "CHANGELOG.md")?.trim()).toBe(CHANGELOG_HEADER);
    },
    RELEASE_TIMEOUT,
  );

  it(
    "first feat: 1.0.0 with tag, release commit, package.json version and CHANGELOG.md",
    async () => {
      const outputs = mkdtempSync(join(tmpdir(), "gh-output-"));
      const outputFile = join(outputs, "output");
      try {
        expect(await releaseAfter(["feat: list stops"], { GITHUB_OUTPUT: outputFile })).toEqual(["v1.0.0"]);
        // The exec step hands the result to later workflow steps.
        expect(readFileSync(outputFile, "utf8")).toBe(
          "released=true\nversion=1.0.0\nchannel=default\ntag=v1.0.0\nprerelease=false\n",
        );
      } finally {
        rmSync(outputs, { recursive: true, force: true });
      }
      expect(box.remoteSubject("main")).toBe("chore(release): 1.0.0 [skip ci]");
      expect(box.git("rev-parse", "v1.0.0^{commit}")).toBe(box.remoteHead("main"));
      expect(JSON.parse(box.remoteFile("v1.0.0", "package.json")!).version).toBe("1.0.0");
      const changelog = box.remoteFile("v1.0.0", "CHANGELOG.md")!;
      expect(changelog.startsWith(`${CHANGELOG_HEADER}\n\n## 1.0.0 (`)).toBe(true);
      expect(changelog).toContain("* list stops");
      expect(changelog.split(CHANGELOG_HEADER)).toHaveLength(2); // header kept once
      // The release commit touches exactly the release files.
      expect(box.git("show", "--name-only", "--format=", "v1.0.0").split("\n").sort()).toEqual([
        "CHANGELOG.md",
        "package.json",
      ]);
      expect(box.tagChannels("v1.0.0")).toEqual([null]);
    },
    RELEASE_TIMEOUT,
  );

  it(
    "fix: patch",
    async () => {
      expect(await releaseAfter(["fix: stop times off by one"])).toEqual(["v1.0.1"]);
      const changelog = box.remoteFile("main", "CHANGELOG.md")!;
      expect(changelog).toMatch(/## \[1\.0\.1\]\([^)]*compare\/v1\.0\.0\.\.\.v1\.0\.1\)/);
      expect(changelog.indexOf("1.0.1")).toBeLessThan(changelog.indexOf("## 1.0.0")); // newest first
    },
    RELEASE_TIMEOUT,
  );

  it(
    "feat (with chores alongside): minor",
    async () => {
      expect(await releaseAfter(["chore: bump tooling", "feat(api): route search"])).toEqual(["v1.1.0"]);
      expect(JSON.parse(box.remoteFile("main", "package.json")!).version).toBe("1.1.0");
    },
    RELEASE_TIMEOUT,
  );

  it(
    "feat!: major",
    async () => {
      expect(await releaseAfter(["feat(api)!: remove the v0 routes"])).toEqual(["v2.0.0"]);
      expect(box.remoteFile("v2.0.0", "CHANGELOG.md")).toContain("### ⚠ BREAKING CHANGES");
    },
    RELEASE_TIMEOUT,
  );

  it(
    "BREAKING CHANGE footer on a fix: major",
    async () => {
      const tags = await releaseAfter(["fix: paginate trips\n\nBREAKING CHANGE: `limit` now defaults to 50"]);
      expect(tags).toEqual(["v3.0.0"]);
      expect(box.remoteFile("v3.0.0", "CHANGELOG.md")).toContain("`limit` now defaults to 50");
    },
    RELEASE_TIMEOUT,
  );

  it(
    "chore/docs after releases: no release",
    async () => {
      expect(await releaseAfter(["docs: changelog wording", "chore: update lockfile"])).toEqual([]);
      expect(box.remoteSubject("main")).toBe("chore: update lockfile");
      expect(JSON.parse(box.remoteFile("main", "package.json")!).version).toBe("3.0.0");
    },
    RELEASE_TIMEOUT,
  );
});
