// deploy: ship one released version to one environment and leave it serving — or leave the previous
// version serving. Steps: render the overlay with the image tag → apply configuration → migration
// Job → apply the Deployment → `rollout status` with a deadline → readiness gate (/ready + /version)
// → analysis window (the new pods' 5xx ratio and p99 against limits and the previous version's,
// lib/analysis.ts; configured per environment in the overlay's rollout-analysis.yaml).
// Any failure after the Deployment changed: `rollout undo` to the revision that was live before,
// wait for it, gate the previous version, annotate, summarise, exit 1. The gate's verdict is recorded
// on each revision it changed (passed, or failed when undone), so a later rollback to "the previous
// revision" never picks a release that failed here (lib/gate-verdict.ts).
import {
  type AnalysisSettings,
  analysisSettings,
  analysisSpecs,
  type Baseline,
  runAnalysis,
  takeBaseline,
} from "./lib/analysis";
import { runCommand } from "./lib/command";
import { checkGateTarget, clusterSpecs, gateSpecs, kubectlFrom, runGate } from "./lib/gate-options";
import { recordVerdict } from "./lib/gate-verdict";
import type { Kubectl } from "./lib/kubectl";
import { runMigrationJob } from "./lib/migration";
import { numberOption, type OptionSpec, type Options, UsageError } from "./lib/options";
import { imageOf, imageRef, renderWithImage, toYaml } from "./lib/render";
import { errorAnnotation, group, info, mask, notice, setOutput, warning, writeSummary } from "./lib/report";
import { refuseDuringRestore, restoreInProgress } from "./lib/restore-guard";
import { DeploymentRollout, type LiveDeployment, versionOfImage } from "./lib/rollout";

const specs: OptionSpec[] = [
  { name: "environment", description: "staging or production (names the overlay)", required: true },
  { name: "image", description: "image repository, e.g. ghcr.io/acme/transportation-api", required: true },
  { name: "version", description: "release version = image tag, e.g. 1.4.0", required: true },
  {
    name: "digest",
    description: "sha256:… of the image built for the version; deploys image:tag@digest (default: the tag alone)",
  },
  { name: "overlay", description: "kustomize overlay directory (default: deploy/k8s/overlays/<environment>)" },
  { name: "migration-job", description: "migration Job name in the overlay", default: "transportation-migrate" },
  { name: "migration-timeout", description: "seconds the migration Job may take", default: "600" },
  { name: "migration-poll", description: "seconds between migration Job checks", default: "2" },
  // Long enough for the HPA's 10 replicas replaced one at a time (maxSurge 1, maxUnavailable 0, up to
  // about a minute each). A rollout that stops progressing fails sooner, on the Deployment's
  // progressDeadlineSeconds (600 s without progress), which `kubectl rollout status` reports.
  { name: "rollout-timeout", description: "seconds `kubectl rollout status` may wait", default: "1200" },
  { name: "change-cause", description: "CHANGE-CAUSE recorded in the rollout history (default: from the run)" },
  ...clusterSpecs,
  ...gateSpecs,
  ...analysisSpecs,
];

class StepFailure extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message);
  }
}

function defaultChangeCause(version: string): string {
  const e = process.env;
  const parts = [`deploy ${version}`];
  if (e.GITHUB_SHA) parts.push(`commit ${e.GITHUB_SHA.slice(0, 12)}`);
  if (e.GITHUB_ACTOR) parts.push(`by ${e.GITHUB_ACTOR}`);
  if (e.GITHUB_RUN_ID) parts.push(`run ${e.GITHUB_SERVER_URL}/${e.GITHUB_REPOSITORY}/actions/runs/${e.GITHUB_RUN_ID}`);
  else parts.push(`from ${process.env.USER ?? "a laptop"}`);
  return parts.join(", ");
}

const overlayOf = (options: Options) => options.overlay || `deploy/k8s/overlays/${options.environment}`;

async function renderOverlay(kubectl: Kubectl, options: Options, changeCause: string) {
  const overlay = overlayOf(options);
  // `kubectl kustomize` is local rendering, no cluster involved; the namespace flag is harmless.
  const rendered = await kubectl.ok(["kustomize", overlay], { echo: false });
  const manifests = renderWithImage(rendered, {
    deploymentName: options.deployment!,
    migrationJobName: options["migration-job"]!,
    image: options.image!,
    tag: options.version!,
    ...(options.digest ? { digest: options.digest } : {}),
    changeCause,
  });
  for (const value of manifests.secretValues) mask(value);
  info(`rendered ${overlay}: ${manifests.objects.join(", ")}`);
  info(`image: ${imageOf(manifests.deployment, options.deployment!)}`);
  return manifests;
}

async function deploy(options: Options): Promise<number> {
  checkGateTarget(options);
  const kubectl = kubectlFrom(options);
  const rollout = new DeploymentRollout(kubectl, options.deployment!);
  const version = options.version!.replace(/^v/, "");
  if (options.digest && !/^sha256:[0-9a-f]{64}$/.test(options.digest))
    throw new UsageError(`--digest must be sha256: and 64 hex digits (got ${options.digest})`);
  const target = imageRef(options.image!, options.version!, options.digest);
  const env = options.environment!;
  const analysis = analysisSettings(options, overlayOf(options));
  const restoring = await restoreInProgress(kubectl, options.deployment!);
  if (restoring) return refuseDuringRestore(`Deploy to ${env}`, restoring);

  const before = await group("Live state before the deploy", async () => {
    const live = await rollout.live();
    info(live ? `live: revision ${live.revision}, image ${live.image}` : "no Deployment yet (first deploy)");
    if (live) info(await rollout.historyText());
    return live;
  });
  if (before?.revision !== undefined) setOutput("previous-revision", before.revision);

  let step = "render";
  try {
    const manifests = await group("Render the overlay", () =>
      renderOverlay(kubectl, options, options["change-cause"] || defaultChangeCause(version)),
    );
    step = "apply configuration";
    if (manifests.config.length > 0) {
      await group("Apply configuration", () => kubectl.ok(["apply", "-f", "-"], { input: toYaml(manifests.config) }));
    }
    step = "migration";
    if (manifests.migrationJob) {
      const job = manifests.migrationJob;
      const result = await group("Run the migration Job", () =>
        runMigrationJob(kubectl, options["migration-job"]!, toYaml([job]), {
          timeoutSeconds: numberOption(options, "migration-timeout"),
          pollMs: numberOption(options, "migration-poll") * 1000,
        }),
      );
      if (!result.ok) throw new StepFailure(step, result.message);
      info(result.message);
    } else notice(`the overlay has no Job ${options["migration-job"]}; no migration run`);
    let baseline: Baseline | undefined;
    if (analysis.window > 0 && before)
      baseline = await group("Read the previous version's request metrics", () =>
        takeBaseline(kubectl, before.selector, analysis).catch((err: Error) => {
          warning(
            `the previous version's figures could not be read (${err.message}); judging by the limits only`,
            "Analysis",
          );
          return undefined;
        }),
      );
    step = "apply deployment";
    // A restore may have started since: leave the Deployment (and its replica count) alone.
    const restoringNow = await restoreInProgress(kubectl, options.deployment!);
    if (restoringNow) return refuseDuringRestore(`Deploy to ${env}`, restoringNow);
    await group("Apply the Deployment", async () => {
      // A verdict that a hand-run `rollout undo` left on the Deployment would be copied onto the new
      // revision's ReplicaSet before its gate ran (lib/gate-verdict.ts).
      await rollout.forgetCopiedVerdict();
      return kubectl.ok(["apply", "-f", "-"], { input: toYaml([manifests.deployment]) });
    });
    step = "rollout";
    const status = await group("Wait for the rollout", () => rollout.status(numberOption(options, "rollout-timeout")));
    if (!status.ok) throw new StepFailure(step, status.message);
    step = "readiness gate";
    const gate = await runGate(kubectl, options, version, `Readiness gate for ${version}`);
    if (!gate.ok) throw new StepFailure(step, gate.reason);
    step = "analysis";
    const analysed = await analyse(rollout, analysis, baseline, version);
    if (analysed && !analysed.ok) throw new StepFailure(step, analysed.reason);

    const live = await rollout.live();
    const judged = analysed ? `; analysis: ${analysed.reason}` : "";
    await recordVerdict(rollout, live?.revision, "passed", `deploy ${version}: ${gate.reason}${judged}`);
    setOutputs("deployed", live, false);
    await writeSummary({
      title: `✅ ${version} deployed to ${env}`,
      facts: [
        ["Image", target],
        ["Live revision", String(live?.revision ?? "?")],
        ["Previous revision", before ? `${before.revision} (${before.image})` : "none (first deploy)"],
        ["Readiness gate", gate.reason],
        [
          "Analysis",
          analysed ? `passed: ${analysed.reason}` : "not configured (rollout-analysis.yaml / --analysis-window)",
        ],
      ],
      sections: [["Rollout history", await rollout.historyText()]],
    });
    return 0;
  } catch (err) {
    const failedStep = err instanceof StepFailure ? err.step : step;
    return await recover(rollout, kubectl, options, before, failedStep, (err as Error).message);
  }
}

/** The analysis window on the new revision's pods, when one is configured (undefined: none). */
async function analyse(
  rollout: DeploymentRollout,
  settings: AnalysisSettings,
  baseline: Baseline | undefined,
  version: string,
): Promise<{ ok: boolean; reason: string } | undefined> {
  if (settings.window <= 0) return undefined;
  return group(`Analysis window for ${version} (${settings.window} s)`, async () => {
    const live = await rollout.live();
    const current = live?.revision === undefined ? undefined : await rollout.revision(live.revision);
    // The new revision's pods: the Deployment's selector and its ReplicaSet's pod-template-hash.
    const hash = current?.replicaSet.slice(rollout.name.length + 1);
    const selector = { ...(live?.selector ?? {}), ...(hash ? { "pod-template-hash": hash } : {}) };
    const verdict = await runAnalysis(rollout.kubectl, selector, settings, baseline, info);
    info(verdict.ok ? `analysis passed: ${verdict.reason}` : `analysis FAILED: ${verdict.reason}`);
    return verdict;
  });
}

/** After a failed step: put the previous revision back if the Deployment changed, and prove it serves. */
async function recover(
  rollout: DeploymentRollout,
  kubectl: Kubectl,
  options: Options,
  before: LiveDeployment | undefined,
  step: string,
  reason: string,
): Promise<number> {
  const env = options.environment!;
  const version = options.version!.replace(/^v/, "");
  const failure = `Deploy of ${version} to ${env} failed at ${step}: ${reason}`;
  info(failure);
  const now = await rollout.live().catch(() => undefined);
  const changed = now?.revision !== before?.revision;
  let rollbackNote: string;
  let rolledBack = false;
  let recovered = true;
  if (changed && now?.revision !== undefined) {
    await recordVerdict(rollout, now.revision, "failed", `deploy ${version} failed at ${step}: ${reason}`);
  }

  if (!before || before.revision === undefined) {
    rollbackNote = "nothing to roll back to (first deploy); the new Deployment is left as it is";
    recovered = false;
  } else if (!changed) {
    rollbackNote = `the Deployment was not changed; revision ${before.revision} (${before.image}) is still live`;
  } else {
    const to = before.revision;
    rollbackNote = await group(`Roll back to revision ${to}`, async () => {
      try {
        await rollout.undo(to);
        rolledBack = true;
        const status = await rollout.status(numberOption(options, "rollout-timeout"));
        if (!status.ok) {
          recovered = false;
          return `rolled back to revision ${to}, but that rollout did not finish: ${status.message}`;
        }
        return `rolled back: revision ${to} (${before.image}) is live again`;
      } catch (err) {
        recovered = false;
        return `ROLLBACK FAILED: ${(err as Error).message}`;
      }
    });
  }

  // Prove the version that is live now actually serves (also when nothing was changed).
  const after = await rollout.live().catch(() => undefined);
  const liveVersion = versionOfImage(after?.image);
  let gateNote = "not run";
  if (recovered && after) {
    const gate = await runGate(
      kubectl,
      options,
      liveVersion,
      `Readiness gate for the live version ${liveVersion ?? ""}`,
    );
    gateNote = gate.reason;
    if (!gate.ok) recovered = false;
  }
  if (rolledBack) {
    const verdict = recovered ? "passed" : "failed";
    await recordVerdict(rollout, after?.revision, verdict, `restored after deploy ${version} failed: ${gateNote}`);
  }

  const live = after ? `revision ${after.revision} (${after.image})` : "unknown";
  errorAnnotation(
    `${failure}. ${rollbackNote}. Live now: ${live}${recovered ? ", serving" : " — NOT confirmed serving, act now"}.`,
    recovered
      ? `Deploy to ${env} failed - previous version serving`
      : `Deploy to ${env} failed - service NOT confirmed`,
  );
  setOutputs(rolledBack ? "rolled-back" : "failed", after, rolledBack);
  await writeSummary({
    title: recovered
      ? `❌ ${version} not deployed to ${env} — previous version serving`
      : `🚨 ${version} failed on ${env} — service not confirmed healthy`,
    facts: [
      ["Failed step", step],
      ["Why", reason],
      ["Recovery", rollbackNote],
      ["Live now", live],
      ["Readiness gate (live version)", gateNote],
    ],
    sections: [["Rollout history", await rollout.historyText()]],
  });
  return 1;
}

function setOutputs(result: string, live: LiveDeployment | undefined, rolledBack: boolean): void {
  setOutput("result", result);
  setOutput("rolled-back", rolledBack);
  setOutput("revision", live?.revision ?? "");
  setOutput("live-image", live?.image ?? "");
  setOutput("live-version", versionOfImage(live?.image) ?? "");
}

await runCommand(
  "deploy",
  "Deploy a released version; roll back automatically when it does not become ready or serves users badly.",
  specs,
  deploy,
);
