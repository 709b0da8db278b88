// A fake kubectl that keeps one Deployment, its ReplicaSets (= revisions), Jobs and other objects in
// $FAKE_KUBECTL_STATE/state.json and answers with kubectl's own texts and exit codes. What the
// "cluster" does with an image is configured per image in $FAKE_KUBECTL_STATE/behaviour.json:
//   { "images": { "<image>": { "rollout": "succeed" | "stall" | "timeout", "migration": "complete" | "fail" } } }
// behaviour.json's "brokenConfig": while ConfigMap transportation-config holds that text, no new pod
// becomes ready (`rollout status` stalls), as with a known key given a bad value.
// Every invocation's argv is appended to calls.jsonl, so tests can assert the command sequence.
// `port-forward` proxies to $FAKE_CLUSTER_URL (the test's stand-in for the Service).
// Objects that only the cluster writes (a CronJob's status, the backup Jobs it ran, PVCs and PVs) a test
// puts into the same state (harness putObjects); `get <kind>/<name>` returns one, `get <kind> -l k=v`
// lists those whose labels match, as a List.
// `kustomize` (and `apply -k`) render with the real kubectl when $FAKE_REAL_KUBECTL names it: rendering
// is local, no cluster is involved. Without it, a kustomization's resources are concatenated.
// Pods: the live revision's ReplicaSet has two pods, `<replicaset>-p1` and `-p2` (one, `-docker`, on the
// Docker backend), labelled with the Deployment's selector and the ReplicaSet's pod-template-hash.
// `get --raw /api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy/<path>` is the API server's pod proxy
// (kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/, "connect GET requests to
// proxy of Pod"): it answers with the pod's own response, here from $FAKE_CLUSTER_URL/<path>?image=…&pod=…
// (the test's stand-in for the pods) or, on the Docker backend, from the container's METRICS_PORT.
//
// With $FAKE_KUBECTL_DOCKER set ({"container": "<name>", "env": {"PORT": "8123", …}}) the workloads
// run for real on the local Docker engine: applying the migration Job runs its container to the end,
// and `rollout status` makes the one container named <container> run the live template's image (the
// rollback rehearsal, scripts/ops/rehearse-rollback.ts). Its "pods" have no readiness probe: the
// readiness gate is what judges them.
//
// Revisions behave as the deployment controller and kubectl keep them (sources, kubernetes/kubernetes
// pkg/controller/deployment/sync.go getNewReplicaSet and util/deployment_util.go; kubectl
// pkg/polymorphichelpers/rollback.go):
// - a ReplicaSet is named <deployment>-<pod-template-hash> and keeps that name for life; its revision
//   is the annotation deployment.kubernetes.io/revision;
// - the ReplicaSet whose template equals the Deployment's is the "new" one; whenever the controller
//   syncs, it gets the revision max(other revisions)+1 if its own is lower (the old number is kept in
//   deployment.kubernetes.io/revision-history), and the Deployment's annotations are copied onto it
//   (add or overwrite, never remove; apply/revision bookkeeping keys skipped: copyDeploymentAnnotationsToReplicaSet);
// - `rollout undo` patches the Deployment with the old ReplicaSet's template and REPLACES the
//   Deployment's annotations with that ReplicaSet's (keeping only the skipped keys): so a restored
//   revision is renumbered max+1, and the revision that was undone keeps its number;
// - `kubectl apply` (client side) removes only the annotations its previous apply set and the new
//   configuration drops; annotations written by others stay (kubernetes.io/docs/tasks/
//   manage-kubernetes-objects/declarative-config/, "How apply calculates differences").
// Commands follow the kubectl reference (https://kubernetes.io/docs/reference/kubectl/generated/):
// - `rollout restart` sets the pod template annotation kubectl.kubernetes.io/restartedAt to the time in
//   RFC 3339 seconds, which makes a new revision with the same image; a second restart within the same
//   second changes nothing and is refused (kubectl_rollout_restart; kubectl pkg/cmd/rollout/rollout_restart.go);
//   $FAKE_KUBECTL_NOW stands in for the clock;
// - `annotate` refuses to change an existing value without --overwrite (kubernetes.io/change-cause
//   excepted), and removes `key-` (kubectl_annotate; kubectl pkg/cmd/annotate/annotate.go);
// - `apply` of several objects applies every one it can; those the server refuses are reported at the
//   end and the exit status is 1 (kubectl pkg/cmd/apply/apply.go collects the errors and aggregates them);
// - `-o jsonpath=TEMPLATE` prints the template's text with each {.field.path} replaced by its value, a
//   `[*]` taking every element and several results joined by a space, `\.` a dot inside a key, and a
//   missing field printing nothing (kubernetes.io/docs/reference/kubectl/jsonpath/; kubectl's
//   --allow-missing-template-keys defaults to true); `-o name` prints `kind/name` lines;
// - `scale deployment/NAME --replicas=N` sets spec.replicas; the pods it removes terminate gracefully, so
//   `get pods` still lists them for a while (kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/
//   #pod-termination): here for behaviour.json's "podsLinger" listings (default 1) after a scale to 0;
// - a Job's status counts its pods: `active` while one runs, then `succeeded` or `failed` (with the
//   Complete or Failed condition; kubernetes.io/docs/concepts/workloads/controllers/job/);
// - `create secret generic … --dry-run=client` needs no cluster: the real kubectl ($FAKE_REAL_KUBECTL) does it.
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { join, resolve } from "node:path";
import { parse, parseAllDocuments } from "yaml";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are untyped JSON here
type Json = Record<string, any>;
type Annotations = Record<string, string>;
interface ReplicaSet {
  name: string;
  revision: number;
  template: Json;
  annotations: Annotations;
}
interface State {
  deployment?: {
    name: string;
    namespace: string;
    selector: Record<string, string>;
    /** Without deployment.kubernetes.io/revision, which is derived from the new ReplicaSet. */
    annotations: Annotations;
    /** Annotation keys the last `kubectl apply` set (its last-applied-configuration). */
    lastApplied: string[];
    template: Json;
    revision: number;
    /** spec.replicas (Kubernetes defaults it to 1). */
    replicas?: number;
    /** Listings of `get pods` that still show the pods a scale to 0 removed (terminating). */
    terminating?: { pods: number; listings: number };
  };
  /** The Deployment's ReplicaSets, one per revision (the tests read `revisions`). */
  revisions: ReplicaSet[];
  /** Jobs by name. An applied one runs (behaviour.json says how, or Docker); one a test put has its status. */
  jobs: Record<string, Job>;
  /** Every other object, by "Kind/name": as applied, or as a test put it (with its status). */
  objects: Record<string, Json>;
}
interface Job {
  /** The object as applied (metadata.namespace, spec.backoffLimit, …), printed back by `get`. */
  manifest?: Json;
  metadata: Json;
  template: Json;
  image: string;
  /** Set when the Job has run (on Docker) or a test put it; otherwise behaviour.json decides. */
  status?: Json;
  log?: string;
}
interface Behaviour {
  /** What happens to pods of an image: their rollout, and how a Job running it ends (or keeps running). */
  images?: Record<string, { rollout?: "succeed" | "stall" | "timeout"; migration?: "complete" | "fail" | "running" }>;
  /** How many `get pods` listings still show the pods a scale to 0 removed (default 1). */
  podsLinger?: number;
  /** While ConfigMap transportation-config holds this text, new pods never become ready (a bad value). */
  brokenConfig?: string;
}
interface DockerBackend {
  container: string;
  env: Record<string, string>;
}

const REVISION = "deployment.kubernetes.io/revision";
const REVISION_HISTORY = "deployment.kubernetes.io/revision-history";
const CHANGE_CAUSE = "kubernetes.io/change-cause";
const RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";
// annotationsToSkip in deployment_util.go and kubectl's rollback.go (same list).
const SKIPPED = new Set([
  "kubectl.kubernetes.io/last-applied-configuration",
  REVISION,
  REVISION_HISTORY,
  "deployment.kubernetes.io/desired-replicas",
  "deployment.kubernetes.io/max-replicas",
  "deprecated.deployment.rollback.to",
]);

const stateDir = process.env.FAKE_KUBECTL_STATE;
if (!stateDir) fail("FAKE_KUBECTL_STATE is not set");
const statePath = join(stateDir!, "state.json");
const load = (): State =>
  existsSync(statePath) ? JSON.parse(readFileSync(statePath, "utf8")) : { revisions: [], jobs: {}, objects: {} };
const save = (s: State) => writeFileSync(statePath, JSON.stringify(s, null, 2));
const behaviour = (): Behaviour => {
  const p = join(stateDir!, "behaviour.json");
  return existsSync(p) ? JSON.parse(readFileSync(p, "utf8")) : {};
};
const docker: DockerBackend | undefined = process.env.FAKE_KUBECTL_DOCKER
  ? JSON.parse(process.env.FAKE_KUBECTL_DOCKER)
  : undefined;

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}
const out = (text: string) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);

// Split global flags (namespace, context) from the command words.
const raw = process.argv.slice(2);
appendFileSync(join(stateDir!, "calls.jsonl"), `${JSON.stringify(raw)}\n`);
const words: string[] = [];
const flags: Record<string, string> = {};
for (let i = 0; i < raw.length; i++) {
  const a = raw[i]!;
  if (
    a === "-n" ||
    a === "--namespace" ||
    a === "--context" ||
    a === "--selector" ||
    a === "-l" ||
    a === "-o" ||
    a === "-f" ||
    a === "-k" ||
    a === "--address"
  ) {
    flags[a.replace(/^-+/, "")] = raw[++i] ?? "";
  } else if (a.startsWith("--") && a.includes("=")) {
    const eq = a.indexOf("=");
    flags[a.slice(2, eq)] = a.slice(eq + 1);
  } else if (a.startsWith("--")) flags[a.slice(2)] = "true";
  else words.push(a);
}
const namespace = flags.namespace ?? flags.n ?? "default";

function ref(word: string | undefined, word2?: string): { kind: string; name: string } {
  if (!word) fail("error: you must specify the type of resource");
  if (word.includes("/")) {
    const [kind, name] = word.split("/");
    return { kind: kind!, name: name! };
  }
  return { kind: word, name: word2 ?? "" };
}
const isKind = (k: string, ...names: string[]) => names.includes(k.toLowerCase());
const isDeployment = (k: string) => isKind(k, "deployment", "deployments", "deploy", "deployment.apps");
const isReplicaSet = (k: string) => isKind(k, "replicasets", "replicaset", "rs", "replicaset.apps");
const imageOf = (template: Json | undefined) => template?.spec?.containers?.[0]?.image as string | undefined;
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const groupName: Record<string, string> = {
  Deployment: "deployment.apps",
  Job: "job.batch",
  CronJob: "cronjob.batch",
  Ingress: "ingress.networking.k8s.io",
  HorizontalPodAutoscaler: "horizontalpodautoscaler.autoscaling",
  PodDisruptionBudget: "poddisruptionbudget.policy",
  NetworkPolicy: "networkpolicy.networking.k8s.io",
};
const typeName = (kind: string) => groupName[kind] ?? kind.toLowerCase();
const isPod = (k: string) => isKind(k, "pods", "pod", "po");

/** The pods running now: those of the live revision's ReplicaSet (a finished rollout leaves no others). */
function livePods(s: State): { name: string; labels: Record<string, string>; image: string }[] {
  const d = s.deployment;
  const rs = d && s.revisions.find((r) => r.revision === d.revision);
  if (!d || !rs) return [];
  const labels = { ...d.selector, "pod-template-hash": rs.name.slice(d.name.length + 1) };
  const suffixes = docker ? ["docker"] : ["p1", "p2"];
  return suffixes.map((x) => ({ name: `${rs.name}-${x}`, labels, image: imageOf(rs.template) ?? "" }));
}

async function podProxy(s: State, path: string): Promise<void> {
  const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/:]+)(?::(\d+))?\/proxy\/(.*)$/.exec(path);
  if (!m) fail(`Error from server (NotFound): the server could not find the requested resource`);
  const [, ns, name, , rest] = m!;
  const pod = livePods(s).find((p) => p.name === name);
  if (!pod || ns !== namespace) fail(`Error from server (NotFound): pods "${name}" not found`);
  const url = docker
    ? `http://127.0.0.1:${docker.env.METRICS_PORT ?? "9464"}/${rest}`
    : `${process.env.FAKE_CLUSTER_URL}/${rest}?${new URLSearchParams({ image: pod!.image, pod: name! })}`;
  const res = await fetch(url).catch((err: Error) =>
    fail(`Error from server: error trying to reach service: ${err.message}`),
  );
  const body = await res.text();
  if (!res.ok) fail(`Error from server (ServiceUnavailable): ${body.trim() || res.statusText}`);
  process.stdout.write(body);
}

/** pod-template-hash as controller.ComputeHash makes it: FNV-1a 32 of the template, its decimal
 * digits mapped onto rand.SafeEncodeString's alphabet. (The real one hashes a Go dump, not JSON, so
 * the values differ from a cluster's; what matters here is that equal templates share a name.) */
function podTemplateHash(template: Json): string {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(JSON.stringify(template))) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const alphanums = "bcdfghjklmnpqrstvwxz2456789";
  return [...String(h)].map((c) => alphanums[c.charCodeAt(0) % alphanums.length]).join("");
}

function notFound(kind: string, name: string): never {
  fail(`Error from server (NotFound): ${kind} "${name}" not found`);
}

/** One sync of the deployment controller: find or create the new ReplicaSet, number it, copy annotations. */
function reconcile(s: State): void {
  const d = s.deployment;
  if (!d) return;
  let rs = s.revisions.find((r) => same(r.template, d.template));
  const maxOld = Math.max(0, ...s.revisions.filter((r) => r !== rs).map((r) => r.revision));
  if (!rs) {
    rs = { name: `${d.name}-${podTemplateHash(d.template)}`, revision: 0, template: d.template, annotations: {} };
    s.revisions.push(rs);
  }
  for (const [k, v] of Object.entries(d.annotations)) if (!SKIPPED.has(k)) rs.annotations[k] = v;
  if (rs.revision < maxOld + 1) {
    if (rs.revision > 0) {
      const history = rs.annotations[REVISION_HISTORY];
      rs.annotations[REVISION_HISTORY] = history ? `${history},${rs.revision}` : String(rs.revision);
    }
    rs.revision = maxOld + 1;
  }
  d.revision = rs.revision;
}

function deploymentJson(s: State): Json {
  const d = s.deployment!;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: d.name,
      namespace: d.namespace,
      annotations: { ...d.annotations, [REVISION]: String(d.revision) },
    },
    spec: { replicas: d.replicas ?? 1, selector: { matchLabels: d.selector }, template: d.template },
  };
}

function replicaSetJson(s: State, rs: ReplicaSet): Json {
  const d = s.deployment!;
  const hash = rs.name.slice(d.name.length + 1);
  const labels = { ...d.selector, "pod-template-hash": hash };
  const template = structuredClone(rs.template);
  template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, "pod-template-hash": hash } };
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: rs.name,
      namespace: d.namespace,
      labels,
      annotations: { ...rs.annotations, [REVISION]: String(rs.revision) },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: d.name, controller: true }],
    },
    spec: { selector: { matchLabels: labels }, template },
  };
}

function applyDeployment(s: State, obj: Json): string {
  const name = obj.metadata.name as string;
  const template = obj.spec.template as Json;
  const annotations: Annotations = obj.metadata.annotations ?? {};
  if (!s.deployment) {
    s.deployment = {
      name,
      namespace,
      selector: obj.spec.selector?.matchLabels ?? {},
      annotations: { ...annotations },
      lastApplied: Object.keys(annotations),
      template,
      revision: 0,
      replicas: obj.spec.replicas ?? 1,
    };
    reconcile(s);
    return `deployment.apps/${name} created`;
  }
  const d = s.deployment;
  const merged: Annotations = { ...d.annotations };
  for (const k of d.lastApplied) if (!(k in annotations)) delete merged[k];
  Object.assign(merged, annotations);
  const unchanged = same(d.template, template) && same(d.annotations, merged);
  d.annotations = merged;
  d.lastApplied = Object.keys(annotations);
  d.template = template;
  reconcile(s);
  return `deployment.apps/${name} ${unchanged ? "unchanged" : "configured"}`;
}

/** The template's first container, run to the end (a migration Job on the Docker backend). */
function runJobInDocker(template: Json): { status: Json; log: string } {
  const container = template.spec?.containers?.[0] ?? {};
  const env = Object.entries(docker!.env).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
  const r = spawnSync(
    "docker",
    [
      "run",
      "--rm",
      "--network",
      "host",
      "--read-only",
      "--tmpfs",
      "/tmp",
      ...env,
      container.image,
      ...(container.args ?? []),
    ],
    { encoding: "utf8" },
  );
  const log = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-50).join("\n");
  return { status: jobStatus(r.status === 0 ? "complete" : "fail"), log };
}

/** A finished Job's status, as the Job controller writes it. */
function jobStatus(outcome: "complete" | "fail" | "running"): Json {
  if (outcome === "running") return { active: 1 };
  const condition =
    outcome === "complete"
      ? { type: "Complete", status: "True" }
      : {
          type: "Failed",
          status: "True",
          reason: "BackoffLimitExceeded",
          message: "Job has reached the specified backoff limit",
        };
  return { ...(outcome === "complete" ? { succeeded: 1 } : { failed: 1 }), conditions: [condition] };
}

function jobJson(name: string, job: Job): Json {
  const status = job.status ?? jobStatus(behaviour().images?.[job.image]?.migration ?? "complete");
  const applied = job.manifest ?? { apiVersion: "batch/v1", kind: "Job", spec: { template: job.template } };
  return { ...applied, metadata: { namespace, ...applied.metadata, ...job.metadata, name }, status };
}

/** The API server refused an object; `apply` goes on with the others. */
class Invalid extends Error {}

function applyJob(s: State, obj: Json): string {
  const name = obj.metadata.name as string;
  const template = obj.spec.template as Json;
  const existing = s.jobs[name];
  if (existing && !same(existing.template, template)) {
    throw new Invalid(
      `The Job "${name}" is invalid: spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable`,
    );
  }
  if (existing) return `job.batch/${name} unchanged`;
  const metadata = { labels: obj.metadata.labels ?? {} };
  s.jobs[name] = {
    manifest: obj,
    metadata,
    template,
    image: imageOf(template) ?? "",
    ...(docker ? runJobInDocker(template) : {}),
  };
  return `job.batch/${name} created`;
}

/** Makes the Docker backend's one container run `image`; the reason it cannot, or undefined. */
function runLiveImageInDocker(image: string, template: Json): string | undefined {
  const inspect = spawnSync("docker", ["inspect", "--format", "{{.Config.Image}}", docker!.container], {
    encoding: "utf8",
  });
  if (inspect.status === 0 && inspect.stdout.trim() === image) return undefined;
  spawnSync("docker", ["rm", "--force", docker!.container], { encoding: "utf8" });
  const env = Object.entries(docker!.env).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
  const args = template.spec?.containers?.[0]?.args ?? [];
  const run = spawnSync(
    "docker",
    [
      "run",
      "--detach",
      "--name",
      docker!.container,
      "--network",
      "host",
      "--read-only",
      "--tmpfs",
      "/tmp",
      ...env,
      image,
      ...args,
    ],
    { encoding: "utf8" },
  );
  return run.status === 0 ? undefined : `${run.stderr}`.trim() || `docker run exited with ${run.status}`;
}

/** `kubectl annotate`: KEY=VALUE sets (refused over another value without --overwrite), KEY- removes. */
function annotate(target: Annotations, args: string[]): void {
  const set: Annotations = {};
  const remove: string[] = [];
  for (const a of args) {
    if (a.endsWith("-") && !a.includes("=")) remove.push(a.slice(0, -1));
    else if (a.includes("=")) set[a.slice(0, a.indexOf("="))] = a.slice(a.indexOf("=") + 1);
    else fail(`error: invalid annotation format: ${a}`);
  }
  if (Object.keys(set).length === 0 && remove.length === 0) fail("error: at least one annotation update is required");
  if (flags.overwrite !== "true") {
    const clashes = Object.entries(set)
      .filter(([k, v]) => k !== CHANGE_CAUSE && target[k] !== undefined && target[k] !== v)
      .map(([k]) => `'${k}' already has a value (${target[k]})`);
    if (clashes.length > 0) {
      fail(`error: --overwrite is false but found the following declared annotation(s): ${clashes.join("; ")}`);
    }
  }
  Object.assign(target, set);
  for (const k of remove) delete target[k];
}

function kustomize(dir: string): string {
  const real = process.env.FAKE_REAL_KUBECTL;
  if (real) {
    const r = spawnSync(real, ["kustomize", dir], { encoding: "utf8" });
    if (r.status !== 0) fail(r.stderr.trim() || `error: kustomize ${dir} failed`);
    return r.stdout;
  }
  const k = parse(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as Json;
  const parts: string[] = [];
  for (const res of (k.resources ?? []) as string[]) {
    const p = resolve(dir, res);
    if (statSync(p).isDirectory()) parts.push(kustomize(p));
    else parts.push(readFileSync(p, "utf8"));
  }
  return parts.map((p) => p.trim()).join("\n---\n");
}

/** The kinds other than Deployment, ReplicaSet and Job that commands name, by the words kubectl accepts. */
const KINDS: Record<string, string[]> = {
  ConfigMap: ["configmap", "configmaps", "cm"],
  CronJob: ["cronjob", "cronjobs", "cj", "cronjob.batch"],
  PersistentVolumeClaim: ["pvc", "persistentvolumeclaim", "persistentvolumeclaims"],
  PersistentVolume: ["pv", "persistentvolume", "persistentvolumes"],
};
/** Kinds without a namespace (https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/). */
const CLUSTER_SCOPED = new Set(["Namespace", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding"]);
function kindOf(word: string): string | undefined {
  const w = word.toLowerCase();
  const known = Object.entries(KINDS).find(([, names]) => names.includes(w))?.[0];
  if (known) return known;
  const stored = new Set(Object.keys(s.objects).map((key) => key.slice(0, key.indexOf("/"))));
  return [...stored].find((k) => [k.toLowerCase(), `${k.toLowerCase()}s`, typeName(k)].includes(w));
}
/** An object as `get` prints it: with the fields the API server sets. */
function served(obj: Json): Json {
  const name = obj.metadata?.name as string;
  const metadata = { ...obj.metadata, uid: obj.metadata?.uid ?? `uid-${name}`, resourceVersion: "1" };
  if (!CLUSTER_SCOPED.has(obj.kind) && !metadata.namespace) metadata.namespace = namespace;
  return { ...obj, metadata };
}
const matchesSelector = (labels: Record<string, string> | undefined, selector: string) =>
  selector
    .split(",")
    .filter(Boolean)
    .every((kv) => labels?.[kv.split("=")[0]!] === kv.split("=")[1]);

/** The values at one jsonpath expression like `.items[*].status.active` (`\.`: a dot inside a key). */
function pathValues(root: unknown, expr: string): unknown[] {
  const steps = expr
    .replace(/^\./, "")
    .split(/(?<!\\)\./)
    .flatMap((step) => {
      const m = /^(.*?)(\[\*\])?$/.exec(step.replaceAll("\\.", "."))!;
      return m[2] ? [m[1]!, "[*]"].filter(Boolean) : [m[1]!];
    });
  let current: unknown[] = [root];
  for (const step of steps) {
    current = current.flatMap((v) => {
      if (v === null || typeof v !== "object") return [];
      if (step === "[*]") return Array.isArray(v) ? v : Object.values(v);
      const next = (v as Json)[step];
      return next === undefined ? [] : [next];
    });
  }
  return current;
}
function jsonpath(root: unknown, template: string): string {
  return template.replace(/\{([^}]*)\}/g, (_, expr: string) =>
    pathValues(root, expr)
      .map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v)))
      .join(" "),
  );
}
/** Prints what `get` found in the format -o asks for (json, jsonpath=…, name). */
function print(obj: Json): void {
  const format = flags.o ?? "";
  if (format === "json") out(JSON.stringify(obj));
  else if (format.startsWith("jsonpath=")) process.stdout.write(jsonpath(obj, format.slice("jsonpath=".length)));
  else if (format === "name") {
    const items: Json[] = obj.kind === "List" ? obj.items : [obj];
    if (items.length > 0) out(items.map((i) => `${typeName(i.kind)}/${i.metadata.name}`).join("\n"));
  } else fail(`error: the fake prints -o json, -o jsonpath=… and -o name, not ${format || "a table"}`);
}
/** The pods `get pods` lists: the live ones, or after a scale to 0 those still terminating, a while. */
function shownPods(s: State): ReturnType<typeof livePods> {
  const d = s.deployment;
  if (!d || (d.replicas ?? 1) > 0) return livePods(s);
  if (!d.terminating || d.terminating.listings <= 0) return [];
  d.terminating.listings--;
  save(s);
  return livePods(s);
}

const [verb, ...rest] = words;
const s = load();
switch (verb) {
  case "kustomize": {
    out(kustomize(rest[0] ?? "."));
    break;
  }
  case "apply": {
    if (flags.f !== "-" && flags.k === undefined) fail("error: only -f - and -k DIR are supported by the fake");
    const source = flags.k !== undefined ? kustomize(flags.k) : readFileSync(0, "utf8");
    const docs = parseAllDocuments(source)
      .map((d) => d.toJS() as Json)
      .filter(Boolean);
    const lines: string[] = [];
    const errors: string[] = [];
    for (const obj of docs) {
      if (obj.kind === "Deployment") lines.push(applyDeployment(s, obj));
      else if (obj.kind === "Job") {
        try {
          lines.push(applyJob(s, obj));
        } catch (err) {
          if (!(err instanceof Invalid)) throw err;
          errors.push(`Error from server (Invalid): error when applying patch: ${err.message}`);
        }
      } else {
        const key = `${obj.kind}/${obj.metadata.name}`;
        const verbDone =
          s.objects[key] === undefined ? "created" : same(s.objects[key], obj) ? "unchanged" : "configured";
        s.objects[key] = obj;
        lines.push(`${typeName(obj.kind)}/${obj.metadata.name} ${verbDone}`);
      }
    }
    save(s);
    out(lines.join("\n"));
    if (errors.length > 0) fail(errors.join("\n"));
    break;
  }
  case "annotate": {
    const { kind, name } = ref(rest[0]);
    const pairs = rest.slice(1);
    if (isDeployment(kind)) {
      if (!s.deployment || s.deployment.name !== name) notFound("deployments.apps", name);
      annotate(s.deployment!.annotations, pairs);
      out(`deployment.apps/${name} annotated`);
    } else if (isReplicaSet(kind)) {
      const rs = s.revisions.find((r) => r.name === name);
      if (!rs) notFound("replicasets.apps", name);
      annotate(rs.annotations, pairs);
      out(`replicaset.apps/${name} annotated`);
    } else fail(`error: the fake only annotates deployments and replicasets, not ${kind}`);
    reconcile(s); // the controller sees the change and syncs the new ReplicaSet again
    save(s);
    break;
  }
  case "delete": {
    const { kind, name } = ref(rest[0], rest[1]);
    if (!isKind(kind, "job", "jobs", "job.batch")) fail(`error: the fake only deletes jobs, not ${kind}`);
    if (!s.jobs[name]) {
      if (flags["ignore-not-found"] === "true") break;
      notFound("jobs.batch", name);
    }
    delete s.jobs[name];
    save(s);
    out(`job.batch "${name}" deleted`);
    break;
  }
  case "get": {
    if (flags.raw !== undefined) {
      // `--raw <path>`: the flag parser read the path as a word.
      await podProxy(s, flags.raw === "true" ? (rest[0] ?? "") : flags.raw);
      break;
    }
    const { kind, name } = ref(rest[0], rest[1]);
    if (isPod(kind)) {
      const selector = flags.selector ?? flags.l ?? "";
      const wanted = selector
        .split(",")
        .filter(Boolean)
        .map((kv) => kv.split("="));
      const items = shownPods(s)
        .filter((p) => wanted.every(([k, v]) => p.labels[k!] === v))
        .map((p) => ({ apiVersion: "v1", kind: "Pod", metadata: { name: p.name, namespace, labels: p.labels } }));
      print({ apiVersion: "v1", kind: "List", items });
    } else if (isDeployment(kind)) {
      if (!s.deployment || s.deployment.name !== name) notFound("deployments.apps", name);
      print(deploymentJson(s));
    } else if (isReplicaSet(kind) && name) {
      const rs = s.revisions.find((r) => r.name === name);
      if (!rs) notFound("replicasets.apps", name);
      print(replicaSetJson(s, rs));
    } else if (isReplicaSet(kind)) {
      const selector = flags.selector ?? flags.l ?? "";
      const matches =
        s.deployment !== undefined &&
        selector.split(",").every((kv) => {
          const [k, v] = kv.split("=");
          return s.deployment!.selector[k!] === v;
        });
      const items = matches ? s.revisions.map((r) => replicaSetJson(s, r)) : [];
      print({ apiVersion: "v1", kind: "List", items });
    } else if (isKind(kind, "job", "jobs", "job.batch")) {
      if (name) {
        const job = s.jobs[name];
        if (!job) notFound("jobs.batch", name);
        print(jobJson(name, job));
      } else {
        const selector = flags.selector ?? flags.l ?? "";
        const items = Object.entries(s.jobs)
          .filter(([, job]) => matchesSelector(job.metadata.labels, selector))
          .map(([jobName, job]) => jobJson(jobName, job));
        print({ apiVersion: "v1", kind: "List", items });
      }
    } else if (kindOf(kind)) {
      const k = kindOf(kind)!;
      if (name) {
        const obj = s.objects[`${k}/${name}`];
        if (!obj) notFound(`${k.toLowerCase()}s`, name);
        print(served(obj));
      } else {
        const selector = flags.selector ?? flags.l ?? "";
        const items = Object.entries(s.objects)
          .filter(([key, obj]) => key.startsWith(`${k}/`) && matchesSelector(obj.metadata?.labels, selector))
          .map(([, obj]) => served(obj));
        print({ apiVersion: "v1", kind: "List", items });
      }
    } else fail(`error: the server doesn't have a resource type "${kind}"`);
    break;
  }
  case "scale": {
    const { kind, name } = ref(rest[0], rest[1]);
    if (!isDeployment(kind)) fail(`error: the fake only scales deployments, not ${kind}`);
    if (!s.deployment || s.deployment.name !== name) notFound("deployments.apps", name);
    const replicas = Number(flags.replicas);
    if (!Number.isInteger(replicas) || replicas < 0) fail("error: The --replicas=COUNT flag is required");
    const d = s.deployment!;
    if (replicas === 0 && (d.replicas ?? 1) > 0)
      d.terminating = { pods: d.replicas ?? 1, listings: behaviour().podsLinger ?? 1 };
    d.replicas = replicas;
    save(s);
    out(`deployment.apps/${name} scaled`);
    break;
  }
  case "create": {
    // Only the client-side rendering of a Secret: no cluster involved, so the real kubectl renders it.
    if (rest[0] !== "secret" || flags["dry-run"] !== "client")
      fail("error: the fake only creates secrets with --dry-run=client");
    const real = process.env.FAKE_REAL_KUBECTL ?? fail("error: FAKE_REAL_KUBECTL must name the real kubectl");
    const r = spawnSync(real, raw, { stdio: "inherit" });
    process.exit(r.status ?? 1);
    break;
  }
  case "logs": {
    const { name } = ref(rest[0], rest[1]);
    const job = s.jobs[name];
    if (!job) fail(`error: error from server (NotFound): jobs.batch "${name}" not found`);
    if (job.log !== undefined) {
      out(job.log);
      break;
    }
    const failed = behaviour().images?.[job.image]?.migration === "fail";
    out(
      failed
        ? 'applying migration 0002_add_stops_index\nerror: relation "stops" does not exist'
        : "migrations up to date",
    );
    break;
  }
  case "rollout": {
    const [sub, target] = rest;
    const { name } = ref(target, rest[2]);
    if (!s.deployment || s.deployment.name !== name) notFound("deployments.apps", name);
    const d = s.deployment!;
    if (sub === "restart") {
      const template = structuredClone(d.template);
      const now = process.env.FAKE_KUBECTL_NOW ? new Date(process.env.FAKE_KUBECTL_NOW) : new Date();
      const restartedAt = now.toISOString().replace(/\.\d+Z$/, "Z");
      template.metadata = { ...template.metadata };
      template.metadata.annotations = { ...template.metadata.annotations, [RESTARTED_AT]: restartedAt };
      if (same(template, d.template)) {
        fail(
          `error: failed to create patch for ${name}: if restart has already been triggered within the past second, please wait before attempting to trigger another`,
        );
      }
      d.template = template;
      reconcile(s);
      save(s);
      out(`deployment.apps/${name} restarted`);
    } else if (sub === "status") {
      const image = imageOf(d.template) ?? "";
      const b = behaviour();
      const config = Object.values(s.objects["ConfigMap/transportation-config"]?.data ?? {});
      const badConfig = b.brokenConfig !== undefined && config.some((v) => String(v).includes(b.brokenConfig!));
      const outcome = badConfig ? "stall" : (b.images?.[image]?.rollout ?? "succeed");
      out(`Waiting for deployment "${name}" rollout to finish: 0 of 3 updated replicas are available...`);
      if (outcome === "stall") fail(`error: deployment "${name}" exceeded its progress deadline`);
      if (outcome === "timeout") fail("error: timed out waiting for the condition");
      const cannot = docker ? runLiveImageInDocker(image, d.template) : undefined;
      if (cannot) fail(`${cannot}\nerror: deployment "${name}" exceeded its progress deadline`);
      out(`deployment "${name}" successfully rolled out`);
    } else if (sub === "history") {
      const rows = [...s.revisions].sort((a, b) => a.revision - b.revision);
      const width = Math.max(8, ...rows.map((r) => String(r.revision).length));
      out(`deployment.apps/${name} `);
      out(`${"REVISION".padEnd(width)}  CHANGE-CAUSE`);
      for (const r of rows) out(`${String(r.revision).padEnd(width)}  ${r.annotations[CHANGE_CAUSE] ?? "<none>"}`);
    } else if (sub === "undo") {
      const sorted = [...s.revisions].sort((a, b) => a.revision - b.revision);
      const wanted = Number(flags["to-revision"] ?? 0);
      let target: ReplicaSet | undefined;
      if (wanted === 0) {
        target = sorted.filter((r) => r.revision !== d.revision).pop();
        if (!target) fail(`error: no rollout history found for deployment "${name}"`);
      } else {
        target = sorted.find((r) => r.revision === wanted);
        if (!target) fail(`error: unable to find specified revision ${wanted} in history`);
      }
      if (same(target.template, d.template)) {
        out(`deployment.apps/${name} skipped rollback (current template already matches revision ${wanted})`);
        break;
      }
      // kubectl's patch: spec.template and metadata.annotations replaced by the ReplicaSet's.
      const kept = Object.fromEntries(Object.entries(d.annotations).filter(([k]) => SKIPPED.has(k)));
      const copied = Object.fromEntries(Object.entries(target.annotations).filter(([k]) => !SKIPPED.has(k)));
      d.annotations = { ...kept, ...copied };
      d.template = target.template;
      reconcile(s);
      save(s);
      out(`deployment.apps/${name} rolled back`);
    } else fail(`error: unknown command "${sub}" for "kubectl rollout"`);
    break;
  }
  case "port-forward": {
    const upstream = new URL(process.env.FAKE_CLUSTER_URL ?? fail("error: FAKE_CLUSTER_URL is not set"));
    const server = createServer((client) => {
      const up = createConnection({ host: upstream.hostname, port: Number(upstream.port) });
      client.pipe(up).pipe(client);
      const close = () => {
        client.destroy();
        up.destroy();
      };
      client.on("error", close);
      up.on("error", close);
    });
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      out(`Forwarding from 127.0.0.1:${port} -> 8000`);
    });
    process.on("SIGTERM", () => process.exit(0));
    break;
  }
  default:
    fail(`error: unknown command "${verb}" for "kubectl"`);
}
