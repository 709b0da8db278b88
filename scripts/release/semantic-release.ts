// Running the project's own semantic-release and making sense of its failures. It always runs on the
// project's Node (24, from the `node` npm package in node_modules), whatever Node the machine has:
// semantic-release 25 needs Node >= 22.14, and a laptop or CI image may still carry Node 20.
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface ReleaseRun {
  code: number;
  output: string;
}

/** The project's semantic-release entry point, from the node_modules the given checkout resolves to. */
export function semanticReleaseBin(root: string): string {
  return join(root, "node_modules", "semantic-release", "bin", "semantic-release.js");
}

/**
 * The project's Node binary (`node_modules/.bin/node`, installed by the `node` devDependency), so that a
 * script started by bun, or from a shell without node_modules/.bin on PATH, still runs Node 24.
 */
export function nodeBinary(root: string): string {
  const local = join(root, "node_modules", ".bin", "node");
  return existsSync(local) ? local : "node";
}

/** Environment without CI / GitHub variables: semantic-release then reads the branch from git, not the CI. */
export function withoutCiEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (/^(GITHUB_|GH_|RUNNER_|ACTIONS_)/.test(key) || key === "CI") continue;
    out[key] = value;
  }
  return out;
}

/**
 * semantic-release learns the branch from env-ci, i.e. from GITHUB_REF on GitHub Actions. For
 * `workflow_run` (how the release workflow starts) GITHUB_REF names the default branch whatever was
 * checked out, so a develop run would be judged as main ("behind the remote", no release). Outside pull
 * requests, point GITHUB_REF/GITHUB_SHA at the branch and commit actually checked out.
 */
export function checkedOutBranchEnv(env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  if (!env.GITHUB_ACTIONS || (env.GITHUB_EVENT_NAME ?? "").startsWith("pull_request")) return env;
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  let branch: string;
  try {
    branch = git("symbolic-ref", "--quiet", "--short", "HEAD");
  } catch {
    return env; // detached HEAD: nothing better to offer than what the CI says
  }
  return { ...env, GITHUB_REF: `refs/heads/${branch}`, GITHUB_SHA: git("rev-parse", "HEAD") };
}

/** Runs semantic-release in `cwd`; output is captured and, when `echo` is set, streamed through. */
export function runSemanticRelease(
  root: string,
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  echo: boolean,
): Promise<ReleaseRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(nodeBinary(root), [semanticReleaseBin(root), ...args], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const collect = (sink: NodeJS.WriteStream) => (chunk: Buffer) => {
      output += chunk.toString();
      if (echo) sink.write(chunk);
    };
    child.stdout.on("data", collect(process.stdout));
    child.stderr.on("data", collect(process.stderr));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

function versionParts(version: string): number[] {
  return version.split(/[.-]/).slice(0, 3).map(Number);
}

function compareVersions(a: string, b: string): number {
  const [pa, pb] = [versionParts(a), versionParts(b)];
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/**
 * A plain-language explanation of the known maintenance-line failures, from semantic-release's output,
 * or null when the output shows none of them.
 */
export function explainFailure(output: string): string | null {
  const clean = output.replace(ANSI_COLOUR, "");
  const failure = /EINVALIDNEXTVERSION The release `([^`]+)` on branch `([^`]+)`/.exec(clean);
  if (!failure) return null;
  const [, next = "", branch = ""] = failure;
  const range = /within the range `?>=(\S+) <([^`\s]+)`? can be published/.exec(clean);
  if (!range || !branch.startsWith("hotfix/")) {
    return `${next} cannot be released from ${branch}: it falls outside the versions this branch may publish (see the range above).`;
  }
  const [, low = "", high = ""] = range;
  const line = branch.slice("hotfix/".length);
  if (low === high) {
    return (
      `${branch} was created before main moved past ${line}: main's latest release ${low} is still on this line, ` +
      `so there is no version left for ${branch} to publish. Land the fix on main instead (a fix: commit there releases ` +
      `the patch), or keep ${branch} and release it once main has published a newer minor/major.`
    );
  }
  if (compareVersions(next, high) >= 0) {
    return (
      `The next patch of ${branch}, ${next}, already exists: ${high} was released from another branch after ${branch} ` +
      `was cut. Merge it into the line (git merge v${high}) so the line continues from ${high}, then release again.`
    );
  }
  return `${next} cannot be released from ${branch}: only >=${low} <${high} is free on that line.`;
}
