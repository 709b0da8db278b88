// Deployment revisions as Kubernetes keeps them: a revision is a ReplicaSet annotated with
// deployment.kubernetes.io/revision; `rollout undo` re-applies an old template as a new revision.
// Each ReplicaSet also carries the verdict of the last readiness gate its version was given (see
// gate-verdict.ts for why it lives there and what kubectl does with it).
import { type Kubectl, KubectlError } from "./kubectl";
import { warning } from "./report";
import { RESTORE_ANNOTATION } from "./restore-guard";

export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
export const CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause";
/** `passed` or `failed`: the last readiness gate this revision's version was given here. */
export const GATE_ANNOTATION = "transportation-ai.com/readiness-gate";
/** When, by which command, and the gate's reason, for a person reading the ReplicaSet. */
export const GATE_NOTE_ANNOTATION = "transportation-ai.com/readiness-gate-note";

export type GateVerdict = "passed" | "failed";

export interface LiveDeployment {
  revision: number | undefined;
  image: string | undefined;
  selector: Record<string, string>;
  /** The Deployment holds a gate verdict, copied there by a `rollout undo` (see gate-verdict.ts). */
  carriesVerdict: boolean;
  /** restore-k8s.sh's mark (restore-guard.ts), when the Deployment has one. */
  restoreMark: string | undefined;
}

export interface Revision {
  revision: number;
  image: string | undefined;
  changeCause: string | undefined;
  /** The ReplicaSet's name: unlike the number, it survives a renumbering. */
  replicaSet: string;
  /** undefined: no gate on record (deployed before verdicts were recorded, or by hand). */
  verdict: GateVerdict | undefined;
  verdictNote: string | undefined;
}

interface K8sContainer {
  name: string;
  image?: string;
}
interface K8sObject {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: {
    selector?: { matchLabels?: Record<string, string> };
    template?: { spec?: { containers?: K8sContainer[] } };
  };
}

function containerImage(obj: K8sObject, container: string): string | undefined {
  const containers = obj.spec?.template?.spec?.containers ?? [];
  return (containers.find((c) => c.name === container) ?? containers[0])?.image;
}

export class DeploymentRollout {
  constructor(
    readonly kubectl: Kubectl,
    readonly name: string,
    /** The app container inside the pod template (contract: same name as the Deployment). */
    readonly container = name,
  ) {}

  get ref(): string {
    return `deployment/${this.name}`;
  }

  /** The Deployment as it is now, or undefined when it does not exist yet (first deploy). */
  async live(): Promise<LiveDeployment | undefined> {
    const r = await this.kubectl.run(["get", this.ref, "-o", "json"], { echo: false });
    if (r.code !== 0) {
      if (/NotFound|not found/.test(r.stderr)) return undefined;
      throw new KubectlError(["get", this.ref], r);
    }
    const obj = JSON.parse(r.stdout) as K8sObject;
    const annotations = obj.metadata?.annotations ?? {};
    const raw = annotations[REVISION_ANNOTATION];
    return {
      revision: raw ? Number(raw) : undefined,
      image: containerImage(obj, this.container),
      selector: obj.spec?.selector?.matchLabels ?? { app: this.name },
      carriesVerdict: GATE_ANNOTATION in annotations || GATE_NOTE_ANNOTATION in annotations,
      restoreMark: annotations[RESTORE_ANNOTATION],
    };
  }

  /** Every revision kubectl still knows, oldest first, with the image each one runs. */
  async revisions(): Promise<Revision[]> {
    const live = await this.live();
    if (!live) return [];
    const selector = Object.entries(live.selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    const out = await this.kubectl.ok(["get", "replicasets", "--selector", selector, "-o", "json"], { echo: false });
    const items = (JSON.parse(out) as { items?: K8sObject[] }).items ?? [];
    return items
      .map((rs) => {
        const annotations = rs.metadata?.annotations ?? {};
        const verdict = annotations[GATE_ANNOTATION];
        return {
          revision: Number(annotations[REVISION_ANNOTATION]),
          image: containerImage(rs, this.container),
          changeCause: annotations[CHANGE_CAUSE_ANNOTATION],
          replicaSet: rs.metadata?.name ?? "",
          verdict: verdict === "passed" || verdict === "failed" ? (verdict as GateVerdict) : undefined,
          verdictNote: annotations[GATE_NOTE_ANNOTATION],
        };
      })
      .filter((r) => Number.isInteger(r.revision) && r.revision > 0)
      .sort((a, b) => a.revision - b.revision);
  }

  /** `kubectl rollout history` exactly as kubectl prints it (shown before and after a change). */
  async historyText(): Promise<string> {
    const r = await this.kubectl.run(["rollout", "history", this.ref], { echo: false });
    return r.code === 0 ? r.stdout : `${r.stdout}${r.stderr}`;
  }

  /** Waits for the rollout; resolves with kubectl's verdict line. */
  async status(timeoutSeconds: number): Promise<{ ok: boolean; message: string }> {
    const r = await this.kubectl.run(["rollout", "status", this.ref, `--timeout=${timeoutSeconds}s`]);
    if (r.code === 0) {
      const last = r.stdout.trim().split("\n").pop() ?? "";
      return { ok: true, message: last };
    }
    return { ok: false, message: new KubectlError([], r).message };
  }

  /** The revision with that number now, if kubectl still has it. */
  async revision(revision: number): Promise<Revision | undefined> {
    return (await this.revisions()).find((r) => r.revision === revision);
  }

  /**
   * `rollout undo`, then puts back on the Deployment the annotations that belong to it rather than to
   * a revision, which kubectl's undo replaced with the ReplicaSet's: no gate verdict (gate-verdict.ts),
   * and restore-k8s.sh's mark as it was (restore-guard.ts). The controller copied that mark onto the
   * ReplicaSet that was live during a restore: an undo during a restore would drop it (and a deploy could
   * then scale the API up mid-restore), an undo to that revision later would bring back a finished one.
   */
  async undo(toRevision: number): Promise<void> {
    const before = await this.live().catch(() => undefined);
    await this.kubectl.ok(["rollout", "undo", this.ref, `--to-revision=${toRevision}`]);
    // The undo itself worked: a failure here is reported, the mark's state named.
    await this.keepDeploymentAnnotations(before).catch((err: Error) =>
      warning(
        `could not put ${this.ref}'s own annotations back after the undo (${err.message}): check that it has ` +
          `no ${GATE_ANNOTATION} and ${before?.restoreMark ? `has ${RESTORE_ANNOTATION}=${before.restoreMark}` : `no ${RESTORE_ANNOTATION}`}`,
        "Deployment annotations",
      ),
    );
  }

  private async keepDeploymentAnnotations(before: LiveDeployment | undefined): Promise<void> {
    const now = await this.live();
    if (!now) return;
    const changes = now.carriesVerdict ? [`${GATE_ANNOTATION}-`, `${GATE_NOTE_ANNOTATION}-`] : [];
    const mark = before?.restoreMark;
    if (before && now.restoreMark !== mark) {
      changes.push(mark === undefined ? `${RESTORE_ANNOTATION}-` : `${RESTORE_ANNOTATION}=${mark}`, "--overwrite");
    }
    if (changes.length > 0) await this.kubectl.ok(["annotate", this.ref, ...changes]);
  }

  /** Removes a gate verdict from the Deployment (nothing to do unless an undo copied one there). */
  async forgetCopiedVerdict(): Promise<void> {
    if (!(await this.live())?.carriesVerdict) return;
    await this.kubectl.ok(["annotate", this.ref, `${GATE_ANNOTATION}-`, `${GATE_NOTE_ANNOTATION}-`]);
  }

  async recordVerdict(replicaSet: string, verdict: GateVerdict, note: string): Promise<void> {
    await this.kubectl.ok([
      "annotate",
      `replicaset/${replicaSet}`,
      `${GATE_ANNOTATION}=${verdict}`,
      `${GATE_NOTE_ANNOTATION}=${note}`,
      "--overwrite",
    ]);
  }
}

/** The version an image runs, read from its tag (`…/transportation-api:1.4.0` → 1.4.0). */
export function versionOfImage(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const withoutDigest = image.split("@")[0]!;
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  if (colon === -1) return undefined;
  const tag = lastSegment.slice(colon + 1);
  return /^v?\d+\.\d+\.\d+([-+].*)?$/.test(tag) ? tag.replace(/^v/, "") : undefined;
}
