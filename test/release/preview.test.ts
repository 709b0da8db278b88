// `npm run release:preview`: the next version and notes, computed without publishing anything.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/repo";
import { cleanEnv, RELEASE_TIMEOUT, ReleaseSandbox, runCommand } from "./sandbox";

describe("release preview", () => {
  let box: ReleaseSandbox;
  let outputs: string;
  beforeAll(() => {
    box = ReleaseSandbox.create();
    box.commit("feat: first api");
    box.push();
    box.tagExistingRelease("1.0.0");
    outputs = mkdtempSync(join(tmpdir(), "gh-output-"));
  });
  afterAll(() => {
    box.destroy();
    rmSync(outputs, { recursive: true, force: true });
  });

  it(
    "on a PR into main: the version merging it releases, its notes, and nothing published",
    async () => {
      box.checkout("feature/fares", "main");
      box.commit("fix: fare rounding");
      box.commit("feat: fare lookup");
      const head = box.git("rev-parse", "HEAD");
      const tagsBefore = box.git("tag", "--list");
      const outputFile = join(outputs, "pr");
      const run = await box.script("scripts/release/preview.ts", [], {
        GITHUB_BASE_REF: "main",
        GITHUB_OUTPUT: outputFile,
      });
      expect(run.code, run.output).toBe(0);
      const [summary, ...notes] = run.output.trim().split("\n");
      expect(summary).toBe("Merging this into `main` releases **1.1.0** (channel `default`, tag `v1.1.0`).");
      expect(notes.join("\n")).toMatch(/### Features\n\n\* fare lookup/);
      expect(notes.join("\n")).toMatch(/### Bug Fixes\n\n\* fare rounding/);
      expect(readFileSync(outputFile, "utf8")).toBe("will_release=true\nnext_version=1.1.0\nnext_channel=default\n");
      expect(box.remoteTags()).toEqual(["v1.0.0"]);
      expect(box.git("tag", "--list")).toBe(tagsBefore);
      expect(box.git("rev-parse", "HEAD")).toBe(head);
      expect(box.remoteHead("main")).not.toBe(head);
    },
    RELEASE_TIMEOUT,
  );

  it(
    "on develop itself (--json): the next prerelease and its channel",
    async () => {
      box.checkout("develop", "main");
      box.commit("feat: live map");
      box.push();
      const run = await box.script("scripts/release/preview.ts", ["--json"]);
      expect(run.code, run.output).toBe(0);
      const result = JSON.parse(run.output);
      expect(result.target).toBe("develop");
      expect(result.preview).toMatchObject({ version: "1.1.0-beta.1", channel: "next", gitTag: "v1.1.0-beta.1" });
      expect(result.summary).toContain("Releasing `develop` now releases **1.1.0-beta.1**");
      expect(box.remoteTags()).toEqual(["v1.0.0"]);
    },
    RELEASE_TIMEOUT,
  );

  it(
    "a docs-only PR releases nothing",
    async () => {
      box.checkout("docs/readme", "main");
      box.commit("docs: usage");
      const outputFile = join(outputs, "docs");
      const run = await box.script("scripts/release/preview.ts", ["--target", "main"], { GITHUB_OUTPUT: outputFile });
      expect(run.code, run.output).toBe(0);
      expect(run.output.trim()).toBe(
        "Merging this into `main` releases nothing: no commit since the last release calls for one.",
      );
      expect(readFileSync(outputFile, "utf8")).toBe("will_release=false\nnext_version=\nnext_channel=\n");
    },
    RELEASE_TIMEOUT,
  );
});

describe("npm run release:preview in a clone of this project", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tapi-clone-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    "prints what releasing main would publish",
    async () => {
      const clone = join(dir, "transportation-api");
      execFileSync("git", ["clone", "--quiet", `file://${REPO_ROOT}`, clone], { env: cleanEnv() });
      symlinkSync(join(REPO_ROOT, "node_modules"), join(clone, "node_modules"));
      const run = await runCommand(
        "npm",
        ["run", "--silent", "release:preview", "--", "--target", "main"],
        clone,
        cleanEnv(),
      );
      expect(run.code, run.output).toBe(0);
      // (A shallow checkout adds a warning line on stderr; the summary is the line about `main`.)
      const summary = run.output.split("\n").find((line) => line.includes("`main`"));
      expect(summary).toMatch(
        /^(Merging this into|Releasing) `main` (now )?releases (\*\*\d+\.\d+\.\d+\*\* \(channel `default`, tag `v\d+\.\d+\.\d+`\)\.|nothing: )/,
      );
    },
    RELEASE_TIMEOUT,
  );
});
