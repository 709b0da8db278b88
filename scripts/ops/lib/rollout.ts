// Deployment revisions as Kubernetes keeps them: a revision is a ReplicaSet annotated with
// deployment.kubernetes.io/revision; `rollout undo` re-applies an old template as a new revision.
import { type Kubectl, KubectlError } from "./kubectl";

export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
export const CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause";

export interface LiveDeployment {
  revision: number | undefined;
  image: string | undefined;
  selector: Record<string, string>;
}

export interface Revision {
  revision: number;
  image: string | undefined;
  changeCause: string | undefined;
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
    const raw = obj.metadata?.annotations?.[REVISION_ANNOTATION];
    return {
      revision: raw ? Number(raw) : undefined,
      image: containerImage(obj, this.container),
      selector: obj.spec?.selector?.matchLabels ?? { app: this.name },
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
      .map((rs) => ({
        revision: Number(rs.metadata?.annotations?.[REVISION_ANNOTATION]),
        image: containerImage(rs, this.container),
        changeCause: rs.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION],
      }))
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

  async undo(toRevision: number): Promise<void> {
    await this.kubectl.ok(["rollout", "undo", this.ref, `--to-revision=${toRevision}`]);
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
