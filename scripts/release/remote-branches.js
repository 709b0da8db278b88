// Branch names on a remote, for release.config.js and the PR branch check. Asks the remote (as
// semantic-release does); without access to it (no credentials, offline) falls back to the remote-tracking
// branches of the last fetch, which a full checkout (fetch-depth: 0) has.
import { execFileSync } from "node:child_process";

export function remoteBranchNames(remote = "origin", cwd = process.cwd()) {
  const git = (...args) =>
    execFileSync("git", args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0" }, // fail instead of asking for a password
    });
  try {
    return git("ls-remote", "--heads", remote)
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split("\t")[1].replace(/^refs\/heads\//, ""));
  } catch {
    return git("for-each-ref", "--format=%(refname)", `refs/remotes/${remote}`)
      .split("\n")
      .filter((ref) => ref && ref !== `refs/remotes/${remote}/HEAD`)
      .map((ref) => ref.slice(`refs/remotes/${remote}/`.length));
  }
}
