// config:apply: ship a configuration change (the overlay's ConfigMaps and other non-workload objects)
// without moving the image. The committed overlays name no runnable image, so `kubectl apply -k` is no
// way to change configuration; this is. Steps: read the live Deployment → render the overlay pointed at
// the image it runs now → apply everything but the Deployment and the migration Job → `rollout restart`
// (the ConfigMap keeps its name, so pods read it only when they start) → `rollout status` → readiness
// gate for the live version. On failure the previous ConfigMaps are put back and the rollout is undone
// to the revision that was live, then gated. The gate's verdicts are recorded on the revisions as deploy
// records them (lib/gate-verdict.ts), so a rollback to "the previous revision" can choose a restart.
import { runCommand } from "./lib/command";
import { checkGateTarget, clusterSpecs, gateSpecs, kubectlFrom, runGate } from "./lib/gate-options";
import { recordVerdict } from "./lib/gate-verdict";
import type { Kubectl } from "./lib/kubectl";
import { numberOption, type OptionSpec, type Options } from "./lib/options";
import { renderKeepingImage, toYaml } from "./lib/render";
import { errorAnnotation, group, info, mask, setOutput, writeSummary } from "./lib/report";
import { refuseDuringRestore, restoreInProgress } from "./lib/restore-guard";
import { CHANGE_CAUSE_ANNOTATION, DeploymentRollout, type LiveDeployment, versionOfImage } from "./lib/rollout";

const specs: OptionSpec[] = [
  { name: "environment", description: "staging or production (names the overlay)", required: true },
  { name: "overlay", description: "kustomize overlay directory (default: deploy/k8s/overlays/<environment>)" },
  {
    name: "migration-job",
    description: "migration Job name in the overlay (never applied here)",
    default: "transportation-migrate",
  },
  // As deploy.ts: every replica is replaced once, one at a time.
  { name: "rollout-timeout", description: "seconds `kubectl rollout status` may wait", default: "1200" },
  { name: "change-cause", description: "CHANGE-CAUSE recorded in the rollout history (default: who and when)" },
  ...clusterSpecs,
  ...gateSpecs,
];

type Json = Record<string, unknown>;

/** A live ConfigMap as something `kubectl apply` can put back (no server-set fields). */
function restorable(live: Json): Json {
  const meta = (live.metadata ?? {}) as Json;
  const annotations = { ...((meta.annotations ?? {}) as Record<string, string>) };
  delete annotations["kubectl.kubernetes.io/last-applied-configuration"];
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: meta.name, namespace: meta.namespace, labels: meta.labels ?? {}, annotations },
    data: live.data ?? {},
    ...(live.binaryData ? { binaryData: live.binaryData } : {}),
  };
}

/** The ConfigMaps the apply will change, as they are now (absent ones are left out). */
async function snapshotConfigMaps(kubectl: Kubectl, names: string[]): Promise<Json[]> {
  const saved: Json[] = [];
  for (const name of names) {
    const r = await kubectl.run(["get", `configmap/${name}`, "-o", "json"], { echo: false });
    if (r.code === 0) saved.push(restorable(JSON.parse(r.stdout) as Json));
    else if (!/NotFound|not found/.test(r.stderr)) throw new Error(`cannot read configmap/${name}: ${r.stderr.trim()}`);
  }
  return saved;
}

function defaultChangeCause(): string {
  const e = process.env;
  const who = e.GITHUB_ACTOR ? `by ${e.GITHUB_ACTOR}` : `from ${e.USER ?? "a laptop"}`;
  return `configuration change ${who}${e.GITHUB_SHA ? `, commit ${e.GITHUB_SHA.slice(0, 12)}` : ""}`;
}

async function applyConfig(options: Options): Promise<number> {
  checkGateTarget(options);
  const kubectl = kubectlFrom(options);
  const name = options.deployment!;
  const rollout = new DeploymentRollout(kubectl, name);
  const env = options.environment!;
  const overlay = options.overlay || `deploy/k8s/overlays/${env}`;

  const restoring = await restoreInProgress(kubectl, name);
  if (restoring) return refuseDuringRestore(`Configuration change on ${env}`, restoring);
  const before = await rollout.live();
  if (!before?.image || before.revision === undefined) {
    errorAnnotation(
      `there is no Deployment ${name} to keep the image of; a first installation goes through npm run deploy`,
      "Configuration change refused",
    );
    return 1;
  }
  const version = versionOfImage(before.image);
  info(`live: revision ${before.revision}, image ${before.image} (kept)`);

  const manifests = await group("Render the overlay with the live image", async () => {
    const rendered = await kubectl.ok(["kustomize", overlay], { echo: false });
    const m = renderKeepingImage(rendered, {
      deploymentName: name,
      migrationJobName: options["migration-job"]!,
      image: before.image!,
    });
    for (const value of m.secretValues) mask(value);
    info(`rendered ${overlay}: ${m.objects.join(", ")}`);
    return m;
  });
  const configMapNames = manifests.config
    .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string } })
    .filter((o) => o.kind === "ConfigMap" && o.metadata?.name)
    .map((o) => o.metadata!.name!);
  const previous = await snapshotConfigMaps(kubectl, configMapNames);

  let step = "apply configuration";
  try {
    await group("Apply configuration", () => kubectl.ok(["apply", "-f", "-"], { input: toYaml(manifests.config) }));
    step = "restart";
    await group("Restart on the live image", async () => {
      // As deploy does before it applies: a verdict a hand-run undo left on the Deployment would be
      // copied onto the restart's ReplicaSet before its gate ran (lib/gate-verdict.ts).
      await rollout.forgetCopiedVerdict();
      await kubectl.ok(["rollout", "restart", `deployment/${name}`]);
      // Only now: the controller copies the Deployment's annotations onto its current ReplicaSet, which
      // before the restart is the release's, whose CHANGE-CAUSE would be overwritten.
      const cause = options["change-cause"] || defaultChangeCause();
      await kubectl.ok(["annotate", `deployment/${name}`, `${CHANGE_CAUSE_ANNOTATION}=${cause}`, "--overwrite"]);
    });
    step = "rollout";
    const status = await group("Wait for the rollout", () => rollout.status(numberOption(options, "rollout-timeout")));
    if (!status.ok) throw new Error(status.message);
    step = "readiness gate";
    const gate = await runGate(kubectl, options, version, `Readiness gate for ${version ?? before.image}`);
    if (!gate.ok) throw new Error(gate.reason);

    const after = await rollout.live();
    if (after?.image !== before.image)
      throw new Error(`the image changed from ${before.image} to ${after?.image} while the configuration was applied`);
    await recordVerdict(rollout, after?.revision, "passed", `config:apply ${version ?? before.image}: ${gate.reason}`);
    setOutput("result", "applied");
    setOutput("revision", after?.revision ?? "");
    setOutput("live-image", after?.image ?? "");
    await writeSummary({
      title: `✅ configuration applied to ${env}, ${version ?? before.image} kept`,
      facts: [
        ["Image (unchanged)", before.image],
        ["Revision", `${before.revision} → ${after?.revision}`],
        ["Readiness gate", gate.reason],
      ],
      sections: [["Rollout history", await rollout.historyText()]],
    });
    return 0;
  } catch (err) {
    return await revert(kubectl, rollout, options, before, previous, step, (err as Error).message);
  }
}

/** Puts the previous ConfigMaps back and the revision that was live, and proves it serves. */
async function revert(
  kubectl: Kubectl,
  rollout: DeploymentRollout,
  options: Options,
  before: LiveDeployment,
  previous: Json[],
  step: string,
  reason: string,
): Promise<number> {
  const env = options.environment!;
  const failure = `Configuration change on ${env} failed at ${step}: ${reason}`;
  info(failure);
  let recovered = true;
  let rolledBack = false;
  const notes: string[] = [];
  await group("Put the previous configuration back", async () => {
    try {
      if (previous.length > 0) {
        await kubectl.ok(["apply", "-f", "-"], { input: previous.map((o) => JSON.stringify(o)).join("\n---\n") });
        notes.push(`previous ConfigMaps restored (${previous.map((o) => (o.metadata as Json).name).join(", ")})`);
      }
      const now = await rollout.live();
      if (now?.revision !== before.revision) {
        // Never "the previous revision" for a later rollback (lib/rollback-target.ts).
        await recordVerdict(rollout, now?.revision, "failed", `config:apply failed at ${step}: ${reason}`);
        rolledBack = true;
        await rollout.undo(before.revision!);
        const status = await rollout.status(numberOption(options, "rollout-timeout"));
        if (!status.ok) throw new Error(`rolled back to revision ${before.revision}, but: ${status.message}`);
        notes.push(`rolled back to revision ${before.revision}`);
      }
    } catch (err) {
      recovered = false;
      notes.push(`REVERT FAILED: ${(err as Error).message}`);
    }
  });
  const after = await rollout.live().catch(() => undefined);
  let gateNote = "not run";
  if (recovered) {
    const version = versionOfImage(after?.image);
    const gate = await runGate(kubectl, options, version, `Readiness gate for the live version ${version ?? ""}`);
    gateNote = gate.reason;
    recovered = gate.ok;
  }
  if (rolledBack) {
    const verdict = recovered ? "passed" : "failed";
    await recordVerdict(rollout, after?.revision, verdict, `restored after config:apply failed: ${gateNote}`);
  }
  const live = after ? `revision ${after.revision} (${after.image})` : "unknown";
  errorAnnotation(
    `${failure}. ${notes.join("; ") || "nothing had changed"}. Live now: ${live}${recovered ? ", serving" : " — NOT confirmed serving, act now"}.`,
    recovered
      ? `Configuration change on ${env} failed - previous configuration serving`
      : `Configuration change on ${env} failed - service NOT confirmed`,
  );
  setOutput("result", recovered ? "reverted" : "failed");
  setOutput("revision", after?.revision ?? "");
  setOutput("live-image", after?.image ?? "");
  await writeSummary({
    title: recovered
      ? `❌ configuration not applied to ${env} — previous configuration serving`
      : `🚨 configuration change failed on ${env} — service not confirmed healthy`,
    facts: [
      ["Failed step", step],
      ["Why", reason],
      ["Recovery", notes.join("; ") || "nothing had changed"],
      ["Live now", live],
      ["Readiness gate (live version)", gateNote],
    ],
    sections: [["Rollout history", await rollout.historyText()]],
  });
  return 1;
}

await runCommand(
  "apply-config",
  "Apply an overlay's configuration and restart the Deployment on the image it runs now.",
  specs,
  applyConfig,
);
