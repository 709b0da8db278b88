// PR check: can this branch be released? Exits 1 with a one-line reason when it cannot, so a badly named
// branch fails its own PR instead of being found at release time.
//
//   bun scripts/release/check-branch.ts <branch> [<existing branch>...]
//   bun scripts/release/check-branch.ts <branch> --remote[=<name>]   (existing branches from the remote, default origin)
import { checkBranch } from "./branches.js";
import { remoteBranchNames } from "./remote-branches.js";

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

const existing = remote ? remoteBranchNames(remote) : [];
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
