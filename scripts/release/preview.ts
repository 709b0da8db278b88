// `npm run release:preview`: what would releasing HEAD on a branch publish? A dry run of the real
// semantic-release in a throwaway copy of the repository in which `--target` (default: GITHUB_BASE_REF on
// a PR, else the current branch) points at HEAD. semantic-release only dry-runs a branch whose local head
// equals the remote's, so a PR merge commit cannot be previewed in the checkout itself.
//
//   bun scripts/release/preview.ts [--target <branch>] [--json]
//
// Prints a Markdown summary ("Merging this into `main` releases **1.5.0** ...") and the release notes;
// --json prints the raw preview instead. With GITHUB_OUTPUT set, also writes will_release, next_version,
// next_channel. Needs the full history, tags and remote branches (actions/checkout fetch-depth: 0).
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { explainFailure, runSemanticRelease, withoutCiEnv } from "./semantic-release.ts";

interface Preview {
  version: string;
  gitTag: string;
  channel: string | null;
  type: string;
  branch: string;
  branchType: string;
  lastVersion: string | null;
  notes: string;
}

const argv = process.argv.slice(2);
const json = argv.includes("--json");
const targetIndex = argv.indexOf("--target");
const cwd = process.cwd();
const git = (...args: string[]) =>
  execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

const root = git("rev-parse", "--show-toplevel");
const current = git("rev-parse", "--abbrev-ref", "HEAD");
const target =
  (targetIndex !== -1 ? argv[targetIndex + 1] : undefined) ||
  process.env.GITHUB_BASE_REF ||
  (current !== "HEAD" ? current : undefined);
if (!target) {
  console.error("release:preview: detached HEAD; pass --target <branch> (or set GITHUB_BASE_REF)");
  process.exit(2);
}

// Channels of earlier releases live in git notes; the real release fetches them, so the preview does too.
try {
  execFileSync("git", ["fetch", "--quiet", "origin", "+refs/notes/*:refs/notes/*"], {
    cwd,
    stdio: "ignore",
    env: { ...process.env, GIT_TERMINAL_PROMPT: "0" }, // never wait for a password
  });
} catch {
  // No origin (or offline): use the notes this clone already has.
}

// semantic-release needs the history back to the last release; a shallow checkout (actions/checkout's
// default) is deepened first, and previewed from what there is, with a warning, when that is impossible.
const isShallow = () => git("rev-parse", "--is-shallow-repository") === "true";
if (isShallow()) {
  try {
    execFileSync("git", ["fetch", "--quiet", "--unshallow", "--tags", "origin"], {
      cwd,
      stdio: "ignore",
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
    });
  } catch {
    // Reported below.
  }
}
const shallow = isShallow();
if (shallow)
  console.error("release:preview: shallow clone, the preview only sees part of the history (fetch-depth: 0)");

// The remote as this clone last saw it (remote-tracking branches; local branches when there are none),
// with the target replaced by HEAD.
const tracking = git("for-each-ref", "--format=%(refname)", "refs/remotes/origin")
  .split("\n")
  .filter((ref) => ref && ref !== "refs/remotes/origin/HEAD");
const sources = tracking.length > 0 ? tracking : git("for-each-ref", "--format=%(refname)", "refs/heads").split("\n");
const refspecs = sources
  .filter(Boolean)
  .map((ref) => [ref, ref.replace(/^refs\/(remotes\/origin|heads)\//, "")] as const)
  .filter(([, name]) => name !== target)
  .map(([ref, name]) => `${ref}:refs/heads/${name}`);

/** https://github.com/<owner>/<repo> for the origin (or the GitHub Actions repository), when there is one. */
function repositoryWebUrl(): string | null {
  if (process.env.GITHUB_SERVER_URL && process.env.GITHUB_REPOSITORY)
    return `${process.env.GITHUB_SERVER_URL}/${process.env.GITHUB_REPOSITORY}`;
  let origin: string;
  try {
    origin = git("remote", "get-url", "origin");
  } catch {
    return null;
  }
  const match = /^(?:https:\/\/(?:[^@/]+@)?|git@|ssh:\/\/git@)([^/:]+)[/:](.+?)(?:\.git)?\/?$/.exec(origin);
  return match ? `https://${match[1]}/${match[2]}` : null;
}

const sandbox = mkdtempSync(join(tmpdir(), "release-preview-"));
let exitCode = 0;
try {
  const remote = join(sandbox, "remote.git");
  const work = join(sandbox, "work");
  // The remote HEAD names the target: semantic-release fetches it.
  execFileSync("git", ["init", "--quiet", "--bare", `--initial-branch=${target}`, remote]);
  if (shallow) execFileSync("git", ["--git-dir", remote, "config", "receive.shallowUpdate", "true"]);
  git("push", "--quiet", `file://${remote}`, ...refspecs, `HEAD:refs/heads/${target}`, "+refs/tags/*:refs/tags/*");
  try {
    git("push", "--quiet", `file://${remote}`, "+refs/notes/*:refs/notes/*");
  } catch {
    // No notes yet (no release so far).
  }
  execFileSync("git", ["clone", "--quiet", "--branch", target, `file://${remote}`, work], { stdio: "ignore" });
  symlinkSync(join(root, "node_modules"), join(work, "node_modules"));

  const previewFile = join(sandbox, "preview.json");
  const env = withoutCiEnv(process.env);
  delete env.GITHUB_TOKEN;
  delete env.GH_TOKEN;
  const run = await runSemanticRelease(
    root,
    work,
    ["--dry-run", "--no-ci"],
    {
      ...env,
      RELEASE_PREVIEW_FILE: previewFile,
    },
    false,
  );

  const announced = /the next release version is (\S+)/i.exec(run.output)?.[1];
  const recorded: Preview[] = existsSync(previewFile)
    ? readFileSync(previewFile, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    : [];
  const preview = recorded.find((entry) => entry.version === announced) ?? null;
  // Notes link commits through the sandbox's file:// remote; point them at the real repository instead.
  const webUrl = repositoryWebUrl();
  if (preview && webUrl) preview.notes = preview.notes.split(`https:${remote.replace(/\.git$/, "")}`).join(webUrl);
  const what = current === target ? `Releasing \`${target}\` now` : `Merging this into \`${target}\``;
  let summary: string;
  if (run.code !== 0) {
    const error = /✘\s+(.*)/.exec(run.output)?.[1] ?? "semantic-release failed";
    summary = `${what} fails to release: ${error}${explainFailure(run.output) ? `\n\n${explainFailure(run.output)}` : ""}`;
    exitCode = 1;
  } else if (preview) {
    const channel = preview.channel ?? "default";
    summary = `${what} releases **${preview.version}** (channel \`${channel}\`, tag \`${preview.gitTag}\`).`;
  } else if (/configured to only publish from/.test(run.output)) {
    summary = `${what} releases nothing: \`${target}\` is not a release branch.`;
  } else {
    summary = `${what} releases nothing: no commit since the last release calls for one.`;
  }

  if (json) console.log(JSON.stringify({ target, summary, preview, semanticReleaseExitCode: run.code }, null, 2));
  else console.log(preview && run.code === 0 ? `${summary}\n\n${preview.notes.trim()}` : summary);
  if (exitCode !== 0 && !json) console.error(run.output);

  if (process.env.GITHUB_OUTPUT) {
    const outputs = {
      will_release: String(Boolean(preview) && run.code === 0),
      next_version: preview?.version ?? "",
      next_channel: preview ? (preview.channel ?? "default") : "",
    };
    appendFileSync(
      process.env.GITHUB_OUTPUT,
      Object.entries(outputs)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(""),
    );
  }
} finally {
  rmSync(sandbox, { recursive: true, force: true });
}
process.exit(exitCode);
