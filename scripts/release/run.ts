// `npm run release`: semantic-release behind a guard, so a commit whose tests did not pass publishes nothing.
//
//   bun scripts/release/run.ts verify [--] [<test command...>]  run the tests (default: npm test); on success
//                                                              record HEAD as verified (.git/release-verified.json)
//   bun scripts/release/run.ts [<semantic-release args...>]    release HEAD if it is verified (that marker, or
//                                                              RELEASE_VERIFIED_COMMIT = HEAD); --dry-run skips
//                                                              the guard (it publishes nothing)
import { spawnSync } from "node:child_process";
import { checkedOutBranchEnv, explainFailure, runSemanticRelease } from "./semantic-release.ts";
import {
  clearMarker,
  dirtyTrackedFiles,
  headCommit,
  markerPath,
  releaseVerification,
  writeMarker,
} from "./verification.ts";

const cwd = process.cwd();
const argv = process.argv.slice(2);

function fail(message: string, code = 1): never {
  console.error(`release: ${message}`);
  process.exit(code);
}

if (argv[0] === "verify") {
  const given = argv[1] === "--" ? argv.slice(2) : argv.slice(1);
  const command = given.length > 0 ? given : ["npm", "test"];
  const before = headCommit(cwd);
  clearMarker(cwd); // a failed or interrupted run must not leave an older proof behind
  const result = spawnSync(command[0]!, command.slice(1), { cwd, stdio: "inherit" });
  const code = result.status ?? 1;
  if (code !== 0) fail(`\`${command.join(" ")}\` failed (exit ${code}); ${before} is not verified`, code);
  if (headCommit(cwd) !== before) fail("HEAD moved while the tests ran; nothing verified");
  const dirty = dirtyTrackedFiles(cwd);
  if (dirty.length > 0) fail(`tests ran on uncommitted changes (${dirty.join(", ")}); nothing verified`);
  writeMarker(cwd, { commit: before, command: command.join(" "), verifiedAt: new Date().toISOString() });
  console.log(`release: ${before} verified (${markerPath(cwd)})`);
  process.exit(0);
}

// Everything else is semantic-release's (bun drops a leading `--`; a later one is dropped here).
const args = argv.filter((arg) => arg !== "--");
const dryRun = args.includes("--dry-run") || args.includes("-d");

if (!dryRun) {
  const verification = releaseVerification(cwd, process.env);
  if (!verification.ok) fail(`refusing to publish: ${verification.reason}`);
  console.log(`release: tests verified: ${verification.how}`);
}

const run = await runSemanticRelease(cwd, cwd, args, checkedOutBranchEnv(process.env, cwd), true);
if (run.code !== 0) {
  const explanation = explainFailure(run.output);
  if (explanation) console.error(`\nrelease: ${explanation}`);
}
process.exit(run.code);
