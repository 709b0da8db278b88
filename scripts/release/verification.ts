// The script-level guard of `npm run release`: a release is only allowed for a commit whose tests passed.
// Proof is either the marker `run.ts verify` writes into .git after the test command succeeded, or
// RELEASE_VERIFIED_COMMIT set (by a workflow job that ran after the test job) to the commit being released.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

export interface VerificationMarker {
  commit: string;
  command: string;
  verifiedAt: string;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

export function headCommit(cwd: string): string {
  return git(cwd, "rev-parse", "HEAD");
}

/** Tracked files with uncommitted changes (the git plugin would sweep them into the release commit). */
export function dirtyTrackedFiles(cwd: string): string[] {
  return git(cwd, "status", "--porcelain", "--untracked-files=no").split("\n").filter(Boolean);
}

/** Inside .git: per clone, never committed, never makes the tree dirty. */
export function markerPath(cwd: string): string {
  return resolve(cwd, git(cwd, "rev-parse", "--git-path", "release-verified.json"));
}

export function writeMarker(cwd: string, marker: VerificationMarker): void {
  writeFileSync(markerPath(cwd), `${JSON.stringify(marker, null, 2)}\n`);
}

export function clearMarker(cwd: string): void {
  rmSync(markerPath(cwd), { force: true });
}

function readMarker(cwd: string): VerificationMarker | null {
  const path = markerPath(cwd);
  if (!existsSync(path)) return null;
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8"));
    return typeof parsed?.commit === "string" ? parsed : null;
  } catch {
    return null;
  }
}

/** Whether HEAD may be released: { ok: true, how } or { ok: false, reason } (one line). */
export function releaseVerification(
  cwd: string,
  env: NodeJS.ProcessEnv,
): { ok: true; how: string } | { ok: false; reason: string } {
  const head = headCommit(cwd);
  const dirty = dirtyTrackedFiles(cwd);
  if (dirty.length > 0) return { ok: false, reason: `uncommitted changes to tracked files: ${dirty.join(", ")}` };
  const fromEnv = env.RELEASE_VERIFIED_COMMIT?.trim();
  if (fromEnv) {
    if (fromEnv === head) return { ok: true, how: `RELEASE_VERIFIED_COMMIT=${head}` };
    return { ok: false, reason: `RELEASE_VERIFIED_COMMIT is ${fromEnv}, but HEAD is ${head}` };
  }
  const marker = readMarker(cwd);
  if (!marker)
    return {
      ok: false,
      reason: "no passing test run recorded for this commit (run `bun scripts/release/run.ts verify` first)",
    };
  if (marker.commit !== head)
    return { ok: false, reason: `the recorded passing test run was for ${marker.commit}, but HEAD is ${head}` };
  return { ok: true, how: `\`${marker.command}\` passed on ${marker.commit} at ${marker.verifiedAt}` };
}
