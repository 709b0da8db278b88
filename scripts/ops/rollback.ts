// rollback: put an earlier revision of the Deployment back — the previous one (the newest other
// revision that passed its readiness gate), or --to-revision N from `kubectl rollout history`.
// Refuses revisions kubectl does not have, and ones that failed their gate unless --force; does
// nothing (and still verifies) when that revision's template is already live. Waits for the
// rollout, runs the readiness gate for the version that revision runs, records the verdict on the
// revision, prints the history before and after.
import { runCommand } from "./lib/command";
import { checkGateTarget, clusterSpecs, gateSpecs, kubectlFrom, runGate } from "./lib/gate-options";
import { describeVerdict, recordVerdict, revisionLabel, verdictTable } from "./lib/gate-verdict";
import { numberOption, type OptionSpec, type Options, revisionOption } from "./lib/options";
import { errorAnnotation, group, info, setOutput, writeSummary } from "./lib/report";
import { chooseRollbackTarget } from "./lib/rollback-target";
import { DeploymentRollout, versionOfImage } from "./lib/rollout";

const specs: OptionSpec[] = [
  { name: "environment", description: "staging or production (for the summary)", default: "" },
  {
    name: "to-revision",
    description: "revision from `kubectl rollout history` (empty: the newest other one that passed its gate)",
  },
  { name: "force", description: "roll back to a revision even though it failed its readiness gate", boolean: true },
  { name: "reason", description: "why (recorded in the log and the summary)", default: "" },
  // As deploy.ts: a whole 10-replica rollout; a stalled one fails sooner on the progress deadline.
  { name: "rollout-timeout", description: "seconds `kubectl rollout status` may wait", default: "1200" },
  ...clusterSpecs,
  ...gateSpecs,
];

async function rollback(options: Options): Promise<number> {
  checkGateTarget(options);
  const kubectl = kubectlFrom(options);
  const rollout = new DeploymentRollout(kubectl, options.deployment!);
  const requested = revisionOption(options, "to-revision");
  const where = options.environment || options.namespace!;
  if (options.reason) info(`reason: ${options.reason}`);

  const historyBefore = await group("Rollout history before", async () => {
    const text = await rollout.historyText();
    info(text);
    return text;
  });
  const live = await rollout.live();
  const revisions = await rollout.revisions();
  if (!live || live.revision === undefined) return refuse(`there is no Deployment ${options.deployment} to roll back`);
  info(`readiness gate verdicts:\n${verdictTable(revisions, live.revision)}`);

  const choice = chooseRollbackTarget(revisions, live.revision, requested, options.force === "true");
  if ("refusal" in choice) return refuse(choice.refusal);
  const { target, notes } = choice;
  for (const note of notes) info(note);
  const leaving = revisions.find((r) => r.revision === live.revision);
  // A hand-run `kubectl rollout undo` may have left a verdict on the Deployment, which the controller
  // would stamp over the one recorded below (gate-verdict.ts).
  await rollout.forgetCopiedVerdict();

  const alreadyThere = target.revision === live.revision;
  if (alreadyThere) {
    info(`revision ${target.revision} (${target.image}) is already live; nothing to undo`);
  } else {
    const to = target.revision;
    await group(`Roll back to revision ${to} (${target.image})`, () => rollout.undo(to));
  }
  const status = await group("Wait for the rollout", () => rollout.status(numberOption(options, "rollout-timeout")));
  const expected = versionOfImage(target.image);
  const gate = status.ok
    ? await runGate(kubectl, options, expected, `Readiness gate for ${expected ?? target.image}`)
    : undefined;
  const now = await rollout.live();
  const ok = status.ok && gate?.ok === true;
  const why = status.ok
    ? `${gate?.ok ? "passed" : "failed"} its readiness gate: ${gate?.reason}`
    : `did not roll out: ${status.message}`;
  // The target's ReplicaSet keeps its name when the undo renumbers it.
  await recordVerdict(rollout, target, ok ? "passed" : "failed", `rollback on ${where}: ${why}`);
  const historyAfter = await group("Rollout history after", async () => {
    const text = await rollout.historyText();
    info(text);
    return text;
  });

  setOutput("changed", !alreadyThere);
  setOutput("revision", now?.revision ?? "");
  setOutput("live-image", now?.image ?? "");
  setOutput("live-version", versionOfImage(now?.image) ?? "");
  const what = alreadyThere
    ? `already at revision ${target.revision}`
    : `revision ${live.revision} → ${target.revision} (now numbered ${now?.revision})`;
  if (!ok) {
    // The revision left keeps its number, so the way back can be named exactly.
    const back =
      !alreadyThere && leaving
        ? ` The revision live before is ${revisionLabel(leaving)} (${describeVerdict(leaving)}): to return to it, roll back with --to-revision ${leaving.revision}${leaving.verdict === "failed" ? " --force" : ""}.`
        : "";
    errorAnnotation(
      `Rollback on ${where} (${what}) did not end healthy: ${revisionLabel(target)} ${why}. It is live now and recorded as failed.${back}`,
      `Rollback on ${where} NOT confirmed`,
    );
  }
  await writeSummary({
    title: ok ? `↩️ ${where} rolled back to ${target.image}` : `🚨 rollback on ${where} not confirmed healthy`,
    facts: [
      ["Reason", options.reason || "(none given)"],
      ["Change", what],
      ["Target before the rollback", describeVerdict(target)],
      ...notes.map((note): [string, string] => ["Note", note]),
      ["Live now", `revision ${now?.revision} (${now?.image})`],
      ["Rollout", status.message],
      ["Readiness gate", gate?.reason ?? "not run (rollout did not finish)"],
    ],
    sections: [
      ["Readiness gate verdicts before", verdictTable(revisions, live.revision)],
      ["Rollout history before", historyBefore],
      ["Rollout history after", historyAfter],
    ],
  });
  return ok ? 0 : 1;
}

function refuse(message: string): number {
  errorAnnotation(message, "Rollback refused");
  setOutput("changed", false);
  return 1;
}

await runCommand("rollback", "Roll the Deployment back to an earlier revision and verify it.", specs, rollback);
