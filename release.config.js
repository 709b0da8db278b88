// semantic-release configuration (semantic-release 25, on the project's Node 24). Branch model, plugins and the
// reasons behind them: docs/releasing.md.
import { semanticReleaseBranches } from "./scripts/release/branches.js";
import { remoteBranchNames } from "./scripts/release/remote-branches.js";

const { branches, skipped } = semanticReleaseBranches(remoteBranchNames("origin"));
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
    // CHANGELOG.md, package.json's version and the release commit belong to stable lines only (main,
    // hotfix/x.y.x). A prerelease gets a tag (and a GitHub prerelease) and leaves every file alone, so
    // develop and feature/* never diverge from main in these files.
    [
      "./scripts/release/stable-only.js",
      {
        wrappedPlugin: "@semantic-release/changelog",
        changelogFile: "CHANGELOG.md",
        changelogTitle:
          "# Changelog\n\nAll notable changes to this project. Written by the release; do not edit by hand.",
      },
    ],
    // package.json's version follows the release (nothing is published to a registry).
    ["./scripts/release/stable-only.js", { wrappedPlugin: "@semantic-release/npm", npmPublish: false }],
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
