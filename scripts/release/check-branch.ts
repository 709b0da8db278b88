// PR check: can this branch be released? Exits 1 with a one-line reason when it cannot, so a badly named
// branch fails its own PR instead of being found at release time.
//
//   bun scripts/release/check-branch.ts <branch> [<existing branch>...]
//   bun scripts/release/check-branch.ts <branch> --remote[=<name>]   (existing branches: git ls-remote, default origin)
import { execFileSync } from "node:child_process";
import { checkBranch } from "./branches.js";

const names: string[] = [];
let remote: string | undefined;
for (const arg of process.argv.slice(2)) {
  if (arg === "--remote") remote = "origin";
  else if (arg.startsWith("--remote=")) remote = arg.slice("--remote=".length);
  else names.push(arg.replace(/^refs\/heads\//, ""));
}
const [branch, ...listed] = names;
if (!branch) {
  console.error("usage: bun scripts/release/check-branch.ts <branch> [<existing branch>...] [--remote[=<name>]]");
  process.exit(2);
}

const existing = remote
  ? execFileSync("git", ["ls-remote", "--heads", remote], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split("\t")[1]!.replace(/^refs\/heads\//, ""))
  : [];
const result = checkBranch(
  branch,
  [...existing, ...listed].filter((name) => name !== branch),
);
if (result.ok) {
  console.log(`ok: ${result.summary}`);
} else {
  console.error(`error: ${result.reason}`);
  process.exit(1);
}
