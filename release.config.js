// semantic-release configuration (semantic-release 24, runs on Node 20). Branch model, plugins and the
// reasons behind them: docs/releasing.md.
import { execFileSync } from "node:child_process";
import { semanticReleaseBranches } from "./scripts/release/branches.js";

/** Branch names on the remote semantic-release will release from (it lists them the same way). */
function remoteBranchNames() {
  const git = (...args) => execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  try {
    return git("ls-remote", "--heads", "origin")
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split("\t")[1].replace(/^refs\/heads\//, ""));
  } catch {
    // No reachable `origin`: fall back to what the last fetch saw.
    return git("for-each-ref", "--format=%(refname:lstrip=3)", "refs/remotes/origin")
      .split("\n")
      .filter((name) => name && name !== "HEAD");
  }
}

const { branches, skipped } = semanticReleaseBranches(remoteBranchNames());
for (const { branch, reason } of skipped) console.warn(`[release.config] not releasing ${branch}: ${reason}`);

const hasGithubToken = Boolean(process.env.GITHUB_TOKEN || process.env.GH_TOKEN);

export default {
  branches,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a lodash template semantic-release fills in
  tagFormat: "v${version}",
  plugins: [
    ["@semantic-release/commit-analyzer", { preset: "conventionalcommits" }],
    ["@semantic-release/release-notes-generator", { preset: "conventionalcommits" }],
    // `npm run release:preview` only: records the next version and its notes (see preview.ts).
    ...(process.env.RELEASE_PREVIEW_FILE ? ["./scripts/release/preview-notes.js"] : []),
    // CHANGELOG.md and the release commit belong to stable lines only (main, hotfix/x.y.x); a prerelease
    // branch gets a tag and a GitHub prerelease, so develop/feature/* never diverge from main in these files.
    [
      "./scripts/release/stable-only.js",
      {
        wrappedPlugin: "@semantic-release/changelog",
        changelogFile: "CHANGELOG.md",
        changelogTitle:
          "# Changelog\n\nAll notable changes to this project. Written by the release; do not edit by hand.",
      },
    ],
    ["@semantic-release/npm", { npmPublish: false }],
    [
      "./scripts/release/stable-only.js",
      {
        wrappedPlugin: "@semantic-release/git",
        assets: ["CHANGELOG.md", "package.json", "package-lock.json"],
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a lodash template the plugin fills in
        message: "chore(release): ${nextRelease.version} [skip ci]",
      },
    ],
    // GitHub release + comments on the PRs/issues a release resolves; left out (not failing) without a token.
    ...(hasGithubToken ? ["@semantic-release/github"] : []),
    [
      "@semantic-release/exec",
      {
        // biome-ignore-start lint/suspicious/noTemplateCurlyInString: a lodash template the plugin fills in
        successCmd:
          'node scripts/release/github-output.js "${nextRelease.version}" "${nextRelease.channel || \'\'}" "${nextRelease.gitTag}" "${branch.type}"',
        // biome-ignore-end lint/suspicious/noTemplateCurlyInString: -
      },
    ],
  ],
};
