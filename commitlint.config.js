// Commit messages follow Conventional Commits, read by semantic-release's conventionalcommits preset:
// fix → patch, feat → minor, `!` or a BREAKING CHANGE footer → major, everything else → no release.
// CI runs it on a PR's commits: npm run commitlint -- --from origin/<base> --to HEAD
export default {
  extends: ["@commitlint/config-conventional"],
  rules: {
    // The types this project uses (docs/releasing.md), pinned here so a preset update cannot change them.
    "type-enum": [
      2,
      "always",
      ["build", "chore", "ci", "docs", "feat", "fix", "perf", "refactor", "revert", "style", "test"],
    ],
  },
};
