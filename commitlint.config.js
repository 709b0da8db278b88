// Commit messages follow Conventional Commits, read by semantic-release's conventionalcommits preset:
// fix → patch, feat → minor, `!` or a BREAKING CHANGE footer → major, everything else → no release.
// CI runs it on a PR's commits: npx commitlint --from <base sha> --to <head sha>
//
// Errors are what decides a release (type, format); pure style (length, case) only warns: semantic-release
// reads a long or capitalised subject just fine, and history cannot be rewritten to fix one.
export default {
  extends: ["@commitlint/config-conventional"],
  rules: {
    // The types this project uses (docs/releasing.md), pinned here so a preset update cannot change them.
    "type-enum": [
      2,
      "always",
      ["build", "chore", "ci", "docs", "feat", "fix", "perf", "refactor", "revert", "style", "test"],
    ],
    "header-max-length": [1, "always", 100],
    "body-max-line-length": [1, "always", 100],
    "footer-max-line-length": [1, "always", 100],
    "subject-case": [1, "never", ["sentence-case", "start-case", "pascal-case", "upper-case"]],
  },
};
