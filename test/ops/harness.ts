// Runs the ops commands the way a workflow step does (bun, GITHUB_* files, @actions/core) against the
// fake kubectl on PATH and a stand-in for the cluster's Service: an HTTP server that answers /ready
// and /version for whatever image the fake Deployment currently runs.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { stringify } from "yaml";
import { renderWithImage, toYaml } from "../../scripts/ops/lib/render";
import { GATE_ANNOTATION } from "../../scripts/ops/lib/rollout";
import { BUN, REPO_ROOT } from "../support/repo";
import { runProcess } from "../support/run";

export const fakeKubectlDir = join(REPO_ROOT, "test/ops/fake-kubectl");
export const fixtureOverlay = join(REPO_ROOT, "test/ops/fixtures/overlay");
export const IMAGE = "ghcr.io/acme/transportation-api";

export interface ImageBehaviour {
  rollout?: "succeed" | "stall" | "timeout";
  migration?: "complete" | "fail";
  /** The pods never pass /ready. */
  ready?: boolean;
  /** /version reports this instead of the image tag (a mis-tagged build). */
  reportsVersion?: string;
  /** The pods' /metrics: share of /v1 requests answered 5xx (default 0). */
  errorRatio?: number;
  /** The pods' /metrics: seconds every /v1 request takes (default 4 ms). */
  latency?: number;
  /** false: the pods serve no /metrics (a build from before they existed). */
  metrics?: boolean;
}

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** /v1 requests a pod has answered more at each reading of its /metrics. */
const REQUESTS_PER_READING = 50;

/**
 * A pod's /metrics as the service writes them, for a pod that has answered `n` /v1 requests (and ten
 * times as many probes, which the analysis must leave out): `errorRatio` of them 5xx, each taking `latency`.
 */
export function syntheticMetrics(n: number, behaviour: ImageBehaviour): string {
  const errors = Math.round(n * (behaviour.errorRatio ?? 0));
  const latency = behaviour.latency ?? 0.004;
  const route = 'method="GET",route="/v1/stops/:stopId"';
  const lines = [
    "# TYPE http_requests_total counter",
    `http_requests_total{${route},status="200"} ${n - errors}`,
    `http_requests_total{${route},status="500"} ${errors}`,
    `http_requests_total{method="GET",route="/ready",status="503"} ${n * 10}`,
    "# TYPE http_request_duration_seconds histogram",
    ...BUCKETS.map(
      (le) => `http_request_duration_seconds_bucket{${route},status="200",le="${le}"} ${latency <= le ? n : 0}`,
    ),
    `http_request_duration_seconds_bucket{${route},status="200",le="+Inf"} ${n}`,
    `http_request_duration_seconds_count{${route},status="200"} ${n}`,
  ];
  return `${lines.join("\n")}\n`;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

interface FakeState {
  deployment?: { revision: number; annotations: Record<string, string> };
  /** The Deployment's ReplicaSets, one per revision. */
  revisions: Array<{
    name: string;
    revision: number;
    annotations: Record<string, string>;
    template: { spec: { containers: Array<{ image: string }> } };
  }>;
  /** Jobs by name, with the image their pod template runs. */
  jobs?: Record<string, FakeJob>;
  /** Every other object, by "Kind/name". */
  objects?: Record<string, K8sObject>;
}
interface FakeJob {
  metadata: K8sObject["metadata"];
  template: { spec?: { containers?: Array<{ image: string }> } };
  image: string;
  status?: unknown;
}
/** A Kubernetes object as JSON (the fields the harness reads are typed). */
export interface K8sObject {
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; [field: string]: unknown };
  spec?: Record<string, unknown> & { template?: unknown };
  status?: unknown;
  [field: string]: unknown;
}

export class FakeCluster {
  readonly dir = mkdtempSync(join(tmpdir(), "tapi-fake-kube-"));
  private behaviours: Record<string, ImageBehaviour> = {};
  private brokenConfig: string | undefined;
  private server: Server | undefined;
  /** Readings of each pod's /metrics so far (each adds REQUESTS_PER_READING requests). */
  private readings = new Map<string, number>();
  url = "";

  async start(): Promise<void> {
    this.writeBehaviour();
    this.server = createServer((req, res) => {
      const image = this.liveImage();
      const b = image ? (this.behaviours[image] ?? {}) : {};
      // The image's tag is the version it was built with (a digest after it does not change that).
      const version = b.reportsVersion ?? (image ? tagOf(image) : undefined);
      const url = new URL(req.url ?? "/", "http://fake");
      if (url.pathname === "/metrics") {
        // A pod, reached through the fake kubectl's pod proxy (get --raw …/proxy/metrics).
        const pod = url.searchParams.get("pod") ?? "";
        const behaviour = this.behaviours[url.searchParams.get("image") ?? ""] ?? {};
        if (behaviour.metrics === false) {
          res.statusCode = 404;
          res.end("404 page not found");
          return;
        }
        const n = (this.readings.get(pod) ?? 0) + REQUESTS_PER_READING;
        this.readings.set(pod, n);
        res.setHeader("content-type", "text/plain; version=0.0.4");
        res.end(syntheticMetrics(n, behaviour));
        return;
      }
      res.setHeader("content-type", "application/json");
      if (req.url === "/ready") {
        const ready = image !== undefined && b.ready !== false;
        res.statusCode = ready ? 200 : 503;
        res.end(
          JSON.stringify({ status: ready ? "ready" : "not ready", checks: { database: ready ? "ok" : "error" } }),
        );
      } else if (req.url === "/version" && image) {
        res.end(JSON.stringify({ version, commit: "abc123", build_time: "2026-01-01T00:00:00Z" }));
      } else {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { code: "NOT_FOUND", message: "no route" } }));
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const addr = this.server.address();
    this.url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  behave(tag: string, behaviour: ImageBehaviour, image = IMAGE): void {
    this.behaviours[`${image}:${tag}`] = behaviour;
    this.writeBehaviour();
  }

  /** New pods never become ready while the ConfigMap transportation-config contains `text`. */
  breakOnConfig(text: string | undefined): void {
    this.brokenConfig = text;
    this.writeBehaviour();
  }

  private writeBehaviour(): void {
    writeFileSync(
      join(this.dir, "behaviour.json"),
      JSON.stringify({ images: this.behaviours, brokenConfig: this.brokenConfig }),
    );
  }

  state(): FakeState {
    const p = join(this.dir, "state.json");
    return existsSync(p) ? JSON.parse(readFileSync(p, "utf8")) : { revisions: [] };
  }

  /**
   * Puts objects into the cluster as the API server would return them, status included (a CronJob's
   * last successful run, the Jobs it made, PVCs and PVs), replacing those of the same kind and name.
   */
  putObjects(objects: K8sObject[]): void {
    const s: FakeState = existsSync(join(this.dir, "state.json"))
      ? this.state()
      : { revisions: [], jobs: {}, objects: {} };
    for (const obj of objects) {
      const name = obj.metadata.name;
      if (obj.kind === "Job") {
        const template = (obj.spec?.template ?? {}) as FakeJob["template"];
        const image = template.spec?.containers?.[0]?.image ?? "";
        s.jobs = { ...s.jobs, [name]: { metadata: obj.metadata, template, image, status: obj.status } };
      } else s.objects = { ...s.objects, [`${obj.kind}/${name}`]: obj };
    }
    writeFileSync(join(this.dir, "state.json"), JSON.stringify(s, null, 2));
  }

  /** An object the cluster holds, e.g. "ConfigMap/transportation-config", as YAML text. */
  object(id: string): string | undefined {
    const obj = this.state().objects?.[id];
    return obj === undefined ? undefined : stringify(obj);
  }

  /** The live Deployment's annotations. */
  annotations(): Record<string, string> {
    return this.state().deployment?.annotations ?? {};
  }

  liveImage(): string | undefined {
    const s = this.state();
    const live = s.revisions.find((r) => r.revision === s.deployment?.revision);
    return live?.template.spec.containers[0]?.image;
  }

  liveRevision(): number | undefined {
    return this.state().deployment?.revision;
  }

  /** revision → image tag, as the fake's history holds it. */
  history(): Record<number, string> {
    const entries = this.state().revisions.map((r) => [r.revision, tagOf(r.template.spec.containers[0]!.image)]);
    return Object.fromEntries(entries);
  }

  /** revision → the readiness gate verdict on its ReplicaSet ("-" when none is recorded). */
  verdicts(): Record<number, string> {
    const entries = this.state().revisions.map((r) => [r.revision, r.annotations[GATE_ANNOTATION] ?? "-"]);
    return Object.fromEntries(entries);
  }

  /** Runs the fake kubectl directly, scoped like the ops commands scope it. */
  kubectl(
    args: string[],
    input?: string,
    env: NodeJS.ProcessEnv = {},
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    return runProcess(join(fakeKubectlDir, "kubectl"), [...args, "--namespace", "transportation-system"], {
      env: this.env(env),
      input,
    });
  }

  /** kubectl invocations so far, without the --namespace scope (checked separately). */
  calls(): string[][] {
    const p = join(this.dir, "calls.jsonl");
    if (!existsSync(p)) return [];
    return readFileSync(p, "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as string[]);
  }

  clearCalls(): void {
    writeFileSync(join(this.dir, "calls.jsonl"), "");
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const clean: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env))
      if (!k.startsWith("INPUT_") && !k.startsWith("GITHUB_")) clean[k] = v;
    return {
      ...clean,
      PATH: [fakeKubectlDir, join(REPO_ROOT, "node_modules/.bin"), process.env.PATH ?? ""].join(delimiter),
      BUN: BUN,
      KUBECTL: "",
      FAKE_KUBECTL_STATE: this.dir,
      FAKE_CLUSTER_URL: this.url,
      ...extra,
    };
  }

  /**
   * Seeds a history that deploy.ts made: each revision applied, then recorded as having passed its
   * readiness gate on its ReplicaSet, as the deploy does after the gate.
   */
  async seedPassed(...tags: string[]): Promise<void> {
    for (const tag of tags) {
      await this.seed(tag);
      const s = this.state();
      const rs = s.revisions.find((r) => r.revision === s.deployment?.revision)!;
      const r = await this.kubectl(["annotate", `replicaset/${rs.name}`, `${GATE_ANNOTATION}=passed`, "--overwrite"]);
      if (r.code !== 0) throw new Error(`recording ${tag} as passed failed: ${r.stderr}`);
    }
    this.clearCalls();
  }

  /** Seeds the revision history: one `kubectl apply` of the fixture Deployment per tag, oldest first. */
  async seed(...tags: string[]): Promise<void> {
    const rendered = readFileSync(join(fixtureOverlay, "manifests.yaml"), "utf8");
    for (const tag of tags) {
      const { deployment } = renderWithImage(rendered, {
        deploymentName: "transportation-api",
        migrationJobName: "transportation-migrate",
        image: IMAGE,
        tag,
        changeCause: `deploy ${tag}`,
      });
      const r = await runProcess(join(fakeKubectlDir, "kubectl"), ["apply", "-f", "-"], {
        env: this.env(),
        input: toYaml([deployment]),
      });
      if (r.code !== 0) throw new Error(`seeding ${tag} failed: ${r.stderr}`);
    }
    this.clearCalls();
  }

  /** Runs `bun scripts/ops/<command>.ts` as an Actions step would (in `cwd`, default the repository). */
  async run(command: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd = REPO_ROOT): Promise<RunResult> {
    const work = mkdtempSync(join(tmpdir(), "tapi-step-"));
    const outputFile = join(work, "output");
    const summaryFile = join(work, "summary");
    writeFileSync(outputFile, "");
    writeFileSync(summaryFile, "");
    const result = await runProcess(BUN, [join(REPO_ROOT, `scripts/ops/${command}.ts`), ...args], {
      cwd,
      env: this.env({ GITHUB_ACTIONS: "true", GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, ...env }),
    });
    const outputs = parseOutputFile(readFileSync(outputFile, "utf8"));
    const summary = readFileSync(summaryFile, "utf8");
    rmSync(work, { recursive: true, force: true });
    return { ...result, outputs, summary };
  }
}

export function deployArgs(cluster: FakeCluster, tag: string, extra: string[] = []): string[] {
  return [
    "--environment",
    "staging",
    "--image",
    IMAGE,
    "--version",
    tag,
    "--overlay",
    fixtureOverlay,
    "--url",
    cluster.url,
    "--interval",
    "0.05",
    "--gate-timeout",
    "15", // generous: only cases meant to fail wait it out, and they pass a short one
    "--migration-poll",
    "0.05",
    ...extra,
  ];
}

/** GITHUB_OUTPUT as @actions/core writes it: `name<<delimiter\nvalue\ndelimiter`. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (m) {
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i]!);
      outputs[m[1]!] = value.join("\n");
    } else if (lines[i]!.includes("=")) {
      const eq = lines[i]!.indexOf("=");
      outputs[lines[i]!.slice(0, eq)] = lines[i]!.slice(eq + 1);
    }
  }
  return outputs;
}

/** The command words of each call (drops flags), e.g. ["rollout", "undo", "deployment/transportation-api"]. */
export function verbs(calls: string[][]): string[] {
  return calls.map((c) =>
    c
      .filter((a) => !a.startsWith("-") && !/^(transportation-system|-)$/.test(a))
      .slice(0, 2)
      .join(" "),
  );
}

/** `repo:1.2.0` and `repo:1.2.0@sha256:…` → `1.2.0`. */
function tagOf(image: string): string | undefined {
  return image.split("@")[0]!.split(":").pop();
}
