// A fake kubectl that keeps one Deployment's revision history, ReplicaSets, Jobs and applied objects
// in $FAKE_KUBECTL_STATE/state.json and answers with kubectl's own texts and exit codes. What the
// "cluster" does with an image is configured per image in $FAKE_KUBECTL_STATE/behaviour.json:
//   { "images": { "<image>": { "rollout": "succeed" | "stall" | "timeout", "migration": "complete" | "fail" } } }
// Every invocation's argv is appended to calls.jsonl, so tests can assert the command sequence.
// `port-forward` proxies to $FAKE_CLUSTER_URL (the test's stand-in for the Service).
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { join, resolve } from "node:path";
import { parse, parseAllDocuments, stringify } from "yaml";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are untyped JSON here
type Json = Record<string, any>;
interface RevisionEntry {
  revision: number;
  template: Json;
  changeCause?: string;
}
interface State {
  deployment?: {
    name: string;
    namespace: string;
    selector: Record<string, string>;
    annotations: Json;
    revision: number;
  };
  revisions: RevisionEntry[];
  jobs: Record<string, { template: Json; image: string }>;
  objects: Record<string, string>;
}
interface Behaviour {
  images?: Record<string, { rollout?: "succeed" | "stall" | "timeout"; migration?: "complete" | "fail" }>;
}

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

function currentEntry(s: State): RevisionEntry | undefined {
  return s.revisions.find((r) => r.revision === s.deployment?.revision);
}
function notFound(kind: string, name: string): never {
  fail(`Error from server (NotFound): ${kind} "${name}" not found`);
}

function deploymentJson(s: State): Json {
  const d = s.deployment!;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: d.name,
      namespace: d.namespace,
      annotations: { ...d.annotations, "deployment.kubernetes.io/revision": String(d.revision) },
    },
    spec: { selector: { matchLabels: d.selector }, template: currentEntry(s)?.template },
  };
}

function applyDeployment(s: State, obj: Json): string {
  const name = obj.metadata.name as string;
  const template = obj.spec.template as Json;
  const annotations = obj.metadata.annotations ?? {};
  const next = Math.max(0, ...s.revisions.map((r) => r.revision)) + 1;
  const cause = annotations["kubernetes.io/change-cause"];
  if (!s.deployment) {
    s.deployment = { name, namespace, selector: obj.spec.selector?.matchLabels ?? {}, annotations, revision: 1 };
    s.revisions.push({ revision: 1, template, changeCause: cause });
    return `deployment.apps/${name} created`;
  }
  const current = currentEntry(s);
  if (current && same(current.template, template)) {
    const unchanged = same(s.deployment.annotations, annotations);
    s.deployment.annotations = annotations;
    return `deployment.apps/${name} ${unchanged ? "unchanged" : "configured"}`;
  }
  // Like the controller: an old ReplicaSet with the same template is reused and renumbered.
  const old = s.revisions.find((r) => same(r.template, template));
  if (old) {
    old.revision = next;
    old.changeCause = cause ?? old.changeCause;
  } else s.revisions.push({ revision: next, template, changeCause: cause });
  s.deployment.annotations = annotations;
  s.deployment.revision = next;
  return `deployment.apps/${name} configured`;
}

function applyJob(s: State, obj: Json): string {
  const name = obj.metadata.name as string;
  const template = obj.spec.template as Json;
  const existing = s.jobs[name];
  if (existing && !same(existing.template, template)) {
    fail(`The Job "${name}" is invalid: spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable`);
  }
  s.jobs[name] = { template, image: imageOf(template) ?? "" };
  return `job.batch/${name} ${existing ? "unchanged" : "created"}`;
}

function kustomize(dir: string): string {
  const k = parse(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as Json;
  const parts: string[] = [];
  for (const res of (k.resources ?? []) as string[]) {
    const p = resolve(dir, res);
    if (statSync(p).isDirectory()) parts.push(kustomize(p));
    else parts.push(readFileSync(p, "utf8"));
  }
  return parts.map((p) => p.trim()).join("\n---\n");
}

const [verb, ...rest] = words;
const s = load();
switch (verb) {
  case "kustomize": {
    out(kustomize(rest[0] ?? "."));
    break;
  }
  case "apply": {
    if (flags.f !== "-") fail("error: only -f - is supported by the fake");
    const docs = parseAllDocuments(readFileSync(0, "utf8"))
      .map((d) => d.toJS() as Json)
      .filter(Boolean);
    const lines: string[] = [];
    for (const obj of docs) {
      if (obj.kind === "Deployment") lines.push(applyDeployment(s, obj));
      else if (obj.kind === "Job") lines.push(applyJob(s, obj));
      else {
        const key = `${obj.kind}/${obj.metadata.name}`;
        const text = stringify(obj);
        const verbDone =
          s.objects[key] === undefined ? "created" : s.objects[key] === text ? "unchanged" : "configured";
        s.objects[key] = text;
        lines.push(`${typeName(obj.kind)}/${obj.metadata.name} ${verbDone}`);
      }
    }
    save(s);
    out(lines.join("\n"));
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
    const { kind, name } = ref(rest[0], rest[1]);
    if (flags.o !== "json") fail("error: the fake only prints -o json");
    if (isKind(kind, "deployment", "deployments", "deploy", "deployment.apps")) {
      if (!s.deployment || s.deployment.name !== name) notFound("deployments.apps", name);
      out(JSON.stringify(deploymentJson(s)));
    } else if (isKind(kind, "replicasets", "replicaset", "rs")) {
      const selector = flags.selector ?? flags.l ?? "";
      const matches =
        s.deployment !== undefined &&
        selector.split(",").every((kv) => {
          const [k, v] = kv.split("=");
          return s.deployment!.selector[k!] === v;
        });
      const items = matches
        ? s.revisions.map((r) => ({
            kind: "ReplicaSet",
            metadata: {
              name: `${s.deployment!.name}-rev${r.revision}`,
              annotations: {
                "deployment.kubernetes.io/revision": String(r.revision),
                ...(r.changeCause ? { "kubernetes.io/change-cause": r.changeCause } : {}),
              },
            },
            spec: { template: r.template },
          }))
        : [];
      out(JSON.stringify({ apiVersion: "v1", kind: "List", items }));
    } else if (isKind(kind, "job", "jobs", "job.batch")) {
      const job = s.jobs[name];
      if (!job) notFound("jobs.batch", name);
      const outcome = behaviour().images?.[job.image]?.migration ?? "complete";
      const condition =
        outcome === "complete"
          ? { type: "Complete", status: "True" }
          : {
              type: "Failed",
              status: "True",
              reason: "BackoffLimitExceeded",
              message: "Job has reached the specified backoff limit",
            };
      out(JSON.stringify({ kind: "Job", metadata: { name }, status: { conditions: [condition] } }));
    } else fail(`error: the server doesn't have a resource type "${kind}"`);
    break;
  }
  case "logs": {
    const { name } = ref(rest[0], rest[1]);
    const job = s.jobs[name];
    if (!job) fail(`error: error from server (NotFound): jobs.batch "${name}" not found`);
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
    if (sub === "status") {
      const outcome = behaviour().images?.[imageOf(currentEntry(s)?.template) ?? ""]?.rollout ?? "succeed";
      out(`Waiting for deployment "${name}" rollout to finish: 0 of 3 updated replicas are available...`);
      if (outcome === "stall") fail(`error: deployment "${name}" exceeded its progress deadline`);
      if (outcome === "timeout") fail("error: timed out waiting for the condition");
      out(`deployment "${name}" successfully rolled out`);
    } else if (sub === "history") {
      const rows = [...s.revisions].sort((a, b) => a.revision - b.revision);
      const width = Math.max(8, ...rows.map((r) => String(r.revision).length));
      out(`deployment.apps/${name} `);
      out(`${"REVISION".padEnd(width)}  CHANGE-CAUSE`);
      for (const r of rows) out(`${String(r.revision).padEnd(width)}  ${r.changeCause ?? "<none>"}`);
    } else if (sub === "undo") {
      const sorted = [...s.revisions].sort((a, b) => a.revision - b.revision);
      const wanted = Number(flags["to-revision"] ?? 0);
      let target: RevisionEntry | undefined;
      if (wanted === 0) {
        target = sorted.filter((r) => r.revision !== d.revision).pop();
        if (!target) fail(`error: no rollout history found for deployment "${name}"`);
      } else {
        target = sorted.find((r) => r.revision === wanted);
        if (!target) fail(`error: unable to find specified revision ${wanted} in history`);
      }
      if (target.revision === d.revision) {
        out(`deployment.apps/${name} skipped rollback (current template already matches revision ${d.revision})`);
        break;
      }
      target.revision = Math.max(...sorted.map((r) => r.revision)) + 1;
      d.revision = target.revision;
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
