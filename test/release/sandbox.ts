// A throwaway release sandbox: a bare "remote" (file:// URL: plain paths break release-notes links) and a
// working clone carrying this project's release config, in which tests script commit histories and run the
// project's own semantic-release with node, as the release job does.

import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { nodeBinary } from "../../scripts/release/semantic-release";
import { BUN, REPO_ROOT } from "../support/repo";
import { type RunResult, runProcess } from "../support/run";

const SEMANTIC_RELEASE = join(REPO_ROOT, "node_modules", "semantic-release", "bin", "semantic-release.js");

/** Per-test timeout for anything that runs semantic-release (several seconds each on a busy 2-core box). */
export const RELEASE_TIMEOUT = 90_000;

/** The files a clone needs to release: the config, the modules it loads, and the CHANGELOG.md header. */
function releaseFiles(): string[] {
  const scripts = readdirSync(join(REPO_ROOT, "scripts/release")).filter((f) => f.endsWith(".js") || f.endsWith(".ts"));
  return ["release.config.js", "CHANGELOG.md", ...scripts.map((f) => `scripts/release/${f}`)];
}

/**
 * The environment of every command in a sandbox: no CI / GitHub / npm-lifecycle variables (they would make
 * semantic-release read the branch from the environment or talk to GitHub), fixed git identity, no user
 * git config.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(GITHUB_|GH_|RUNNER_|ACTIONS_|npm_|NPM_)/i.test(key) || key === "CI" || key === "GITHUB_TOKEN") continue;
    env[key] = value;
  }
  return {
    ...env,
    GIT_AUTHOR_NAME: "Release Test",
    GIT_AUTHOR_EMAIL: "release-test@example.invalid",
    GIT_COMMITTER_NAME: "Release Test",
    GIT_COMMITTER_EMAIL: "release-test@example.invalid",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
    NO_COLOR: "1",
    ...extra,
  };
}

/** Runs a command in `cwd` with exactly `env`, to completion (stdout+stderr interleaved in `output`). */
export function runCommand(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return runProcess(cmd, args, { cwd, env });
}

export class ReleaseSandbox {
  private constructor(
    readonly root: string,
    readonly remote: string,
    readonly clone: string,
  ) {}

  /** A remote with `main` holding one initial commit (package.json + release config), and a clone of it. */
  static create(): ReleaseSandbox {
    const root = mkdtempSync(join(tmpdir(), "tapi-release-"));
    const remote = join(root, "remote.git");
    const clone = join(root, "work");
    const env = cleanEnv();
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", remote], { env });
    execFileSync("git", ["clone", "--quiet", `file://${remote}`, clone], { env, stdio: "ignore" });
    const box = new ReleaseSandbox(root, remote, clone);
    box.git("checkout", "--quiet", "-B", "main");
    for (const file of releaseFiles()) {
      mkdirSync(dirname(join(clone, file)), { recursive: true });
      copyFileSync(join(REPO_ROOT, file), join(clone, file));
    }
    writeFileSync(
      join(clone, "package.json"),
      `${JSON.stringify({ name: "release-sandbox", version: "0.0.0-development", private: true, type: "module" }, null, 2)}\n`,
    );
    // Plugins resolve from the project's node_modules, as in a real checkout.
    symlinkSync(join(REPO_ROOT, "node_modules"), join(clone, "node_modules"));
    writeFileSync(join(clone, ".gitignore"), "node_modules\n");
    box.git("add", "-A");
    box.git("commit", "--quiet", "-m", "chore: initial commit");
    box.git("push", "--quiet", "origin", "main");
    return box;
  }

  git(...args: string[]): string {
    return execFileSync("git", args, { cwd: this.clone, env: cleanEnv(), encoding: "utf8" }).trim();
  }

  private commits = 0;

  /** Commits a new file (one per commit, so merges between branches never conflict). */
  commit(message: string): string {
    this.commits += 1;
    const file = `change-${this.commits}.txt`;
    writeFileSync(join(this.clone, file), `${message}\n`);
    this.git("add", file);
    this.git("commit", "--quiet", "-m", message);
    return this.git("rev-parse", "HEAD");
  }

  /** Switches to `branch`, creating it from `from` when given. */
  checkout(branch: string, from?: string): void {
    if (from) this.git("checkout", "--quiet", "-b", branch, from);
    else this.git("checkout", "--quiet", branch);
  }

  push(branch = this.currentBranch()): void {
    this.git("push", "--quiet", "origin", `${branch}:refs/heads/${branch}`);
  }

  /** Brings the clone's branch up to date with the remote (after a release commit was pushed there). */
  pull(): void {
    this.git("pull", "--quiet", "--ff-only", "origin", this.currentBranch());
  }

  currentBranch(): string {
    return this.git("rev-parse", "--abbrev-ref", "HEAD");
  }

  /** Runs the project's semantic-release (node, --no-ci) in the clone. */
  release(args: string[] = [], extraEnv: Record<string, string> = {}): Promise<RunResult> {
    return runCommand(nodeBinary(REPO_ROOT), [SEMANTIC_RELEASE, "--no-ci", ...args], this.clone, cleanEnv(extraEnv));
  }

  /** Runs one of this project's bun scripts (copied into the clone) there, e.g. scripts/release/run.ts. */
  script(path: string, args: string[] = [], extraEnv: Record<string, string> = {}): Promise<RunResult> {
    return runCommand(BUN, [path, ...args], this.clone, cleanEnv(extraEnv));
  }

  /** Records a release made earlier (a tag on the current commit, pushed), to set up a history quickly. */
  tagExistingRelease(version: string): void {
    this.git("tag", `v${version}`);
    this.git("push", "--quiet", "origin", `v${version}`);
  }

  remoteHead(branch: string): string {
    return execFileSync("git", ["rev-parse", `refs/heads/${branch}`], {
      cwd: this.remote,
      env: cleanEnv(),
      encoding: "utf8",
    }).trim();
  }

  /** Tags on the remote (what a release published), sorted. */
  remoteTags(): string[] {
    return execFileSync("git", ["tag", "--list"], { cwd: this.remote, env: cleanEnv(), encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .sort();
  }

  /** A file's content at a ref of the remote, or null when absent. */
  remoteFile(ref: string, path: string): string | null {
    try {
      return execFileSync("git", ["show", `${ref}:${path}`], {
        cwd: this.remote,
        env: cleanEnv(),
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
    } catch {
      return null;
    }
  }

  /** Subject of a commit on the remote. */
  remoteSubject(ref: string): string {
    return execFileSync("git", ["log", "-1", "--format=%s", ref], {
      cwd: this.remote,
      env: cleanEnv(),
      encoding: "utf8",
    }).trim();
  }

  /** The channel semantic-release recorded for a tag (a git note), or null for the default channel. */
  tagChannels(tag: string): (string | null)[] | null {
    const note = execFileSync("git", ["notes", "--ref", "semantic-release-" + tag, "show", tag], {
      cwd: this.remote,
      env: cleanEnv(),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return JSON.parse(note).channels ?? null;
  }

  destroy(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
