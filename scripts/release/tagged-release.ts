// What the release job knows from git alone about the commit CI tested, so a version whose tag was pushed is
// built and deployed even when semantic-release failed after pushing it. semantic-release pushes the tag
// (and on stable lines the release commit) before it publishes the GitHub release and runs its success
// steps; when one of those fails, its own outputs are never written, and a re-run finds nothing to release.
//
//   bun scripts/release/tagged-release.ts state <tested-commit>
//     state=tested    HEAD is the tested commit: run semantic-release
//     state=released  HEAD is the release commit made on top of it (an earlier attempt tagged it)
//     state=moved     the branch moved on: the newer commit releases after its own CI run
//   bun scripts/release/tagged-release.ts find <tested-commit> [--outcome <semantic-release step outcome>]
//     released=true version tag commit prerelease — the release whose tag, on the remote, names the tested
//     commit (prereleases) or the release commit on top of it (stable lines); released=false when none.
// The branch is the one checked out (the job checks it out by name).
import { execFileSync } from "node:child_process";
import { errorAnnotation, notice, setOutput } from "../ops/lib/report.ts";
import { classifyBranch } from "./branches.js";

const RELEASE_SUBJECT = "chore(release): ";
const TAG = /^refs\/tags\/v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)(\^\{\})?$/;

function git(args: string[], env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync("git", args, { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"] }).trim();
}

function tryGit(args: string[]): string | null {
  try {
    return git(args);
  } catch {
    return null;
  }
}

/**
 * The remote's tags (tag → commit). The job checks out without persisted credentials; on GitHub the token
 * goes to git as configuration through the environment, never as an argument (docs/pipeline.md).
 */
function remoteTags(): Map<string, string> {
  const env = { ...process.env };
  const url = tryGit(["remote", "get-url", "origin"]) ?? "";
  const token = process.env.GITHUB_TOKEN;
  if (token && url.startsWith("https://github.com/")) {
    const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
    Object.assign(env, {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.https://github.com/.extraheader",
      GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${basic}`,
    });
  }
  const tags = new Map<string, string>();
  for (const line of git(["ls-remote", "--tags", "origin"], env).split("\n")) {
    const [sha, ref] = line.split("\t");
    const m = TAG.exec(ref ?? "");
    // An annotated tag is listed twice; the peeled line (^{}) names the commit.
    if (sha && m && (m[2] || !tags.has(m[1]!))) tags.set(m[1]!, sha);
  }
  return tags;
}

const isReleaseCommitOf = (commit: string, tested: string): boolean =>
  tryGit(["rev-parse", "--verify", "--quiet", `${commit}^1`]) === tested &&
  (tryGit(["log", "-1", "--format=%s", commit]) ?? "").startsWith(RELEASE_SUBJECT);

function compareCore(a: string, b: string): number {
  const [pa, pb] = [a, b].map((v) => v.split(/[.-]/).slice(0, 3).map(Number)) as [number[], number[]];
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The version this branch released from `tested`, if its tag is on the remote. */
export function releaseFrom(
  tested: string,
  branch: string,
): { version: string; commit: string; prerelease: boolean } | null {
  const info = classifyBranch(branch);
  const stable = info.kind === "release" || info.kind === "maintenance";
  const prereleaseId = info.kind === "prerelease" || info.kind === "feature" ? info.prerelease : null;
  if (!stable && prereleaseId === null) return null;
  const found = [...remoteTags()]
    .filter(([version, commit]) =>
      stable
        ? !version.includes("-") && isReleaseCommitOf(commit, tested)
        : version.includes(`-${prereleaseId}.`) && commit === tested,
    )
    .sort(([a], [b]) => compareCore(a, b));
  const last = found.at(-1);
  return last ? { version: last[0], commit: last[1], prerelease: !stable } : null;
}

/** Where the checked-out branch stands relative to the tested commit. */
export function headState(tested: string): "tested" | "released" | "moved" {
  const head = git(["rev-parse", "HEAD"]);
  if (head === tested) return "tested";
  const tagged = (tryGit(["tag", "--points-at", "HEAD", "--list", "v*"]) ?? "") !== "";
  return tagged && isReleaseCommitOf(head, tested) ? "released" : "moved";
}

function main(argv: string[]): number {
  const [command, tested] = argv;
  const outcomeAt = argv.indexOf("--outcome");
  const outcome = outcomeAt >= 0 ? (argv[outcomeAt + 1] ?? "") : "";
  if ((command !== "state" && command !== "find") || !tested || !/^[0-9a-f]{7,64}$/.test(tested)) {
    console.error("usage: bun scripts/release/tagged-release.ts state|find <tested-commit> [--outcome <outcome>]");
    return 2;
  }
  if (command === "state") {
    const state = headState(tested);
    if (state === "moved") notice(`the branch moved past ${tested}; the newer commit releases after its own CI run`);
    if (state === "released") notice(`${tested} was released by an earlier attempt; its image and deploys run now`);
    setOutput("state", state);
    return 0;
  }
  const branch = git(["symbolic-ref", "--quiet", "--short", "HEAD"]);
  const release = releaseFrom(tested, branch);
  if (release === null) {
    setOutput("released", "false");
    console.log(`no release of ${tested} on ${branch}`);
    return 0;
  }
  const tag = `v${release.version}`;
  setOutput("released", "true");
  setOutput("version", release.version);
  setOutput("tag", tag);
  setOutput("commit", release.commit);
  setOutput("prerelease", String(release.prerelease));
  console.log(`${tag} (${release.commit}) was released from ${tested} on ${branch}`);
  if (outcome !== "" && outcome !== "success" && outcome !== "skipped") {
    errorAnnotation(
      `${tag} was released, but a later release step failed (see above); its image and deploys still run`,
      "Release incomplete",
    );
  }
  return 0;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
