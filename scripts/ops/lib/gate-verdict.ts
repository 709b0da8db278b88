// Which revisions passed the readiness gate, so that a rollback to "the previous revision" means the
// newest one whose version served here, not the newest number: after a `rollout undo` Kubernetes gives
// the restored revision the next number, and the release that was undone keeps the one below it.
//
// The verdict is an annotation on the revision's ReplicaSet. Not on the Deployment's pod template:
// changing the template is itself a new revision. A ReplicaSet keeps its name when it is renumbered,
// and revisionHistoryLimit deletes it together with its verdict. What Kubernetes does with annotations
// decides how the verdict is kept:
// - `kubectl rollout undo` replaces the Deployment's annotations with the restored ReplicaSet's
//   (kubernetes/kubectl pkg/polymorphichelpers/rollback.go, DeploymentRollbacker.Rollback).
// - The deployment controller copies the Deployment's annotations onto its current ReplicaSet on every
//   sync, overwriting values but never removing keys (kubernetes/kubernetes
//   pkg/controller/deployment/util/deployment_util.go, copyDeploymentAnnotationsToReplicaSet).
// - `kubectl apply` removes only annotations its previous apply had set.
// So a verdict that an undo copied onto the Deployment would be stamped onto the next release's
// ReplicaSet before its gate ran, and would overwrite the verdict recorded there. Every undo is
// therefore followed by removing it from the Deployment (DeploymentRollout.undo), and a deploy
// removes one that a hand-run undo left there before it applies.
import { info, warning } from "./report";
import type { DeploymentRollout, GateVerdict, Revision } from "./rollout";

/** A person reads the note on the ReplicaSet; keep it well inside an annotation's limits. */
const NOTE_LIMIT = 500;

/**
 * Records a gate verdict on a revision (a Revision, or its number as it stands now). A failure to
 * record is a warning, not a failed deploy: without a verdict the revision is simply never chosen as
 * "previous", and a rollback to it is not refused.
 */
export async function recordVerdict(
  rollout: DeploymentRollout,
  revision: Revision | number | undefined,
  verdict: GateVerdict,
  note: string,
): Promise<void> {
  try {
    const target = typeof revision === "number" ? await rollout.revision(revision) : revision;
    if (!target) throw new Error(`revision ${revision ?? "?"} is not in the rollout history`);
    const text = `${new Date().toISOString()} ${note}`.replace(/\s+/g, " ");
    await rollout.recordVerdict(
      target.replicaSet,
      verdict,
      text.length > NOTE_LIMIT ? `${text.slice(0, NOTE_LIMIT - 1)}…` : text,
    );
    info(`revision ${target.revision} (replicaset/${target.replicaSet}): readiness gate ${verdict}, recorded`);
  } catch (err) {
    warning(`readiness gate ${verdict} not recorded: ${(err as Error).message}`, "Gate verdict not recorded");
  }
}

export function describeVerdict(r: Revision): string {
  if (r.verdict === "passed") return "passed its readiness gate";
  if (r.verdict === "failed") return `failed its readiness gate${r.verdictNote ? ` (${r.verdictNote})` : ""}`;
  return "no readiness gate on record";
}

export const revisionLabel = (r: Revision): string => `revision ${r.revision} (${r.image ?? "image unknown"})`;

/** REVISION / GATE / IMAGE, oldest first, the live one marked: what to choose from. */
export function verdictTable(revisions: Revision[], liveRevision: number | undefined): string {
  const width = Math.max(8, ...revisions.map((r) => String(r.revision).length));
  const rows = revisions.map((r) => {
    const gate = (r.verdict ?? "-").padEnd(7);
    const live = r.revision === liveRevision ? "  (live)" : "";
    return `${String(r.revision).padEnd(width)}  ${gate}  ${r.image ?? "?"}${live}`;
  });
  return [`${"REVISION".padEnd(width)}  ${"GATE".padEnd(7)}  IMAGE`, ...rows].join("\n");
}
