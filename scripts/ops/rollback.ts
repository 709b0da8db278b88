// rollback: put an earlier revision of the Deployment back — the previous one, or --to-revision N
// from `kubectl rollout history`. Refuses revisions kubectl does not have; does nothing (and still
// verifies) when that revision's template is already live. Waits for the rollout, runs the
// readiness gate for the version that revision runs, prints the history before and after.
import { runCommand } from "./lib/command";
import { checkGateTarget, clusterSpecs, gateSpecs, kubectlFrom, runGate } from "./lib/gate-options";
import { numberOption, type OptionSpec, type Options, revisionOption } from "./lib/options";
import { errorAnnotation, group, info, setOutput, writeSummary } from "./lib/report";
import { DeploymentRollout, type Revision, versionOfImage } from "./lib/rollout";

const specs: OptionSpec[] = [
  { name: "environment", description: "staging or production (for the summary)", default: "" },
  { name: "to-revision", description: "revision from `kubectl rollout history` (empty: the previous one)" },
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

  let target: Revision | undefined;
  if (requested === undefined) {
    target = revisions.filter((r) => r.revision !== live.revision).pop();
    if (!target) return refuse(`revision ${live.revision} is the only one in the history; nothing to roll back to`);
  } else {
    target = revisions.find((r) => r.revision === requested);
    if (!target) {
      const known = revisions.map((r) => r.revision).join(", ") || "none";
      return refuse(`revision ${requested} is not in the rollout history (revisions: ${known})`);
    }
  }

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
  const historyAfter = await group("Rollout history after", async () => {
    const text = await rollout.historyText();
    info(text);
    return text;
  });

  const ok = status.ok && gate?.ok === true;
  setOutput("changed", !alreadyThere);
  setOutput("revision", now?.revision ?? "");
  setOutput("live-image", now?.image ?? "");
  setOutput("live-version", versionOfImage(now?.image) ?? "");
  const what = alreadyThere
    ? `already at revision ${target.revision}`
    : `revision ${live.revision} → ${target.revision} (now numbered ${now?.revision})`;
  if (!ok) {
    errorAnnotation(
      `Rollback on ${where} (${what}) did not end healthy: ${status.ok ? gate?.reason : status.message}`,
      `Rollback on ${where} NOT confirmed`,
    );
  }
  await writeSummary({
    title: ok ? `↩️ ${where} rolled back to ${target.image}` : `🚨 rollback on ${where} not confirmed healthy`,
    facts: [
      ["Reason", options.reason || "(none given)"],
      ["Change", what],
      ["Live now", `revision ${now?.revision} (${now?.image})`],
      ["Rollout", status.message],
      ["Readiness gate", gate?.reason ?? "not run (rollout did not finish)"],
    ],
    sections: [
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
