// Run by @semantic-release/exec after a release: hands the result to later workflow steps through
// $GITHUB_OUTPUT (a no-op outside GitHub Actions). Usage: node github-output.js <version> <channel> <tag> <branch-type>
import { appendFileSync } from "node:fs";

const [version = "", channel = "", tag = "", branchType = ""] = process.argv.slice(2);
const file = process.env.GITHUB_OUTPUT;
if (file) {
  const outputs = {
    released: "true",
    version,
    channel: channel || "default",
    tag,
    prerelease: String(branchType === "prerelease"),
  };
  appendFileSync(
    file,
    Object.entries(outputs)
      .map(([key, value]) => `${key}=${value}\n`)
      .join(""),
  );
}
console.log(`released ${version} (channel ${channel || "default"}, tag ${tag})`);
