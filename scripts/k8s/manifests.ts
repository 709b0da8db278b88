// Rendering the kustomize overlays under deploy/k8s into plain objects (kubectl's built-in kustomize).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const K8S_DIR = join(REPO_ROOT, "deploy", "k8s");
export const OVERLAYS = ["staging", "production"] as const;
export type Overlay = (typeof OVERLAYS)[number];
export const NAMESPACE = "transportation-system";
/** Backups live apart from the application, so that deleting it leaves them (deploy/k8s/backup). */
export const BACKUP_NAMESPACE = "transportation-backup";

export interface Kustomization {
  /** What k8s:render and k8s:validate call it. */
  name: string;
  dir: string;
  /** Where all its namespaced objects must be. */
  namespace: string;
}

/** Every kustomization an environment applies: the application overlay and its backups. */
export const KUSTOMIZATIONS: Kustomization[] = [
  ...OVERLAYS.map((o) => ({ name: o, dir: join(K8S_DIR, "overlays", o), namespace: NAMESPACE })),
  ...OVERLAYS.map((o) => ({
    name: `backup-${o}`,
    dir: join(K8S_DIR, "backup", "overlays", o),
    namespace: BACKUP_NAMESPACE,
  })),
];

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

/** Why kubectl cannot render here, or undefined when it can. */
export function kubectlMissingReason(): string | undefined {
  const probe = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
  if (probe.error) return `kubectl is not installed (${probe.error.message}); install it to render deploy/k8s`;
  if (probe.status !== 0) return `kubectl version --client failed: ${probe.stderr.trim()}`;
  return undefined;
}

export function overlayDir(overlay: string): string {
  const known = KUSTOMIZATIONS.find((k) => k.name === overlay);
  const dir = known?.dir ?? join(K8S_DIR, "overlays", overlay);
  if (!existsSync(join(dir, "kustomization.yaml"))) throw new Error(`no kustomize overlay at ${dir}`);
  return dir;
}

/** `kubectl kustomize` output of a kustomization directory (an overlay name or a path). */
export function renderYaml(overlayOrDir: string): string {
  const dir = existsSync(join(overlayOrDir, "kustomization.yaml")) ? overlayOrDir : overlayDir(overlayOrDir);
  return execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value = doc.toJS() as K8sObject | null;
    if (value) objects.push(value);
  }
  return objects;
}

export function renderOverlay(overlay: string): K8sObject[] {
  return parseManifests(renderYaml(overlay));
}

export function objectId(o: K8sObject): string {
  return `${o.kind}/${o.metadata?.name ?? "?"}`;
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`${kind}/${name} is not in the rendered manifests`);
  return found;
}

/** The namespace a render's objects belong in: the one Namespace it creates, else the application's. */
export function expectedNamespace(objects: K8sObject[]): string {
  const namespaces = objects.filter((o) => o.kind === "Namespace");
  return namespaces.length === 1 ? namespaces[0]!.metadata.name : NAMESPACE;
}
