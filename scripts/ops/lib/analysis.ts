// The analysis window: after the readiness gate, a release must also serve users well. For `window`
// seconds the new pods' request metrics are read (at the start, every `interval`, and at the end),
// and the 5xx ratio and p99 latency of the user-facing routes are judged against limits and against
// the previous version's figures. A breach fails the deploy, which then rolls back exactly as after a
// failed readiness gate (deploy.ts); the reason names the metric and the figures.
//
// Where the figures come from:
// - the pods' own /metrics, through the API server's pod proxy (`kubectl get --raw
//   /api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy/metrics`, the "connect GET requests to proxy of
//   Pod" endpoint of the Kubernetes API; RBAC: `get` on `pods/proxy`). The previous version's figures
//   are its pods' counters read just before the Deployment changed (everything since they started);
// - or Prometheus (`--prometheus-url`), which has both versions' history: the same figures from
//   `increase(…[window])` over the new pods now and over the old pods just before the deploy.
// Settings come from the overlay's rollout-analysis.yaml (per environment), overridden by flags.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import {
  difference,
  type Figures,
  figures,
  percent,
  quantile,
  type RequestTotals,
  requestTotals,
  seconds,
} from "./exposition";
import type { Kubectl } from "./kubectl";
import { numberOption, type OptionSpec, type Options, UsageError } from "./options";

export const analysisSpecs: OptionSpec[] = [
  {
    name: "analysis-window",
    description:
      "seconds the new version's metrics are watched after the gate; 0 = no analysis (default: the overlay's rollout-analysis.yaml, else 0)",
  },
  { name: "analysis-interval", description: "seconds between readings during the window (default 15)" },
  { name: "max-error-ratio", description: "5xx share of user requests that fails the release (default 0.05)" },
  {
    name: "max-error-ratio-increase",
    description: "5xx share above the previous version's that fails it (default 0.02)",
  },
  { name: "max-p99", description: "p99 latency in seconds that fails the release (default 1)" },
  { name: "max-p99-factor", description: "p99 this many times the previous version's fails it (default 2)" },
  { name: "p99-tolerance", description: "seconds of p99 growth never judged against the factor (default 0.05)" },
  { name: "min-requests", description: "user requests needed for a verdict; fewer pass with a note (default 20)" },
  { name: "analysis-routes", description: "regular expression of the route templates judged (default ^/v1)" },
  { name: "metrics-port", description: "the pods' metrics port for the pod proxy (default 9464)" },
  { name: "prometheus-url", description: "read the figures from this Prometheus instead of the pods (default: none)" },
  {
    name: "prometheus-job",
    description: "job label of the service's series in Prometheus (default transportation-api)",
  },
];

const DEFAULTS: Record<string, string> = {
  "analysis-window": "0",
  "analysis-interval": "15",
  "max-error-ratio": "0.05",
  "max-error-ratio-increase": "0.02",
  "max-p99": "1",
  "max-p99-factor": "2",
  "p99-tolerance": "0.05",
  "min-requests": "20",
  "analysis-routes": "^/v1",
  "metrics-port": "9464",
  "prometheus-url": "",
  "prometheus-job": "transportation-api",
};

export const ANALYSIS_FILE = "rollout-analysis.yaml";

export interface AnalysisSettings {
  window: number;
  interval: number;
  maxErrorRatio: number;
  maxErrorRatioIncrease: number;
  maxP99: number;
  maxP99Factor: number;
  p99Tolerance: number;
  minRequests: number;
  routes: RegExp;
  metricsPort: number;
  prometheusUrl: string | undefined;
  prometheusJob: string;
}

/** Flags (or workflow inputs) over the overlay's rollout-analysis.yaml over the defaults. */
export function analysisSettings(options: Options, overlayDir: string): AnalysisSettings {
  const file = join(overlayDir, ANALYSIS_FILE);
  const fromFile: Record<string, unknown> = existsSync(file) ? (parse(readFileSync(file, "utf8")) ?? {}) : {};
  for (const key of Object.keys(fromFile))
    if (!(key in DEFAULTS))
      throw new UsageError(`${file}: unknown setting "${key}" (known: ${Object.keys(DEFAULTS).join(", ")})`);
  const merged: Options = {};
  for (const key of Object.keys(DEFAULTS))
    merged[key] = options[key] ?? (fromFile[key] === undefined ? undefined : String(fromFile[key])) ?? DEFAULTS[key];
  let routes: RegExp;
  try {
    routes = new RegExp(merged["analysis-routes"]!);
  } catch {
    throw new UsageError(`--analysis-routes is not a regular expression: ${merged["analysis-routes"]}`);
  }
  return {
    window: numberOption(merged, "analysis-window"),
    interval: Math.max(1, numberOption(merged, "analysis-interval")),
    maxErrorRatio: numberOption(merged, "max-error-ratio"),
    maxErrorRatioIncrease: numberOption(merged, "max-error-ratio-increase"),
    maxP99: numberOption(merged, "max-p99"),
    maxP99Factor: numberOption(merged, "max-p99-factor"),
    p99Tolerance: numberOption(merged, "p99-tolerance"),
    minRequests: numberOption(merged, "min-requests"),
    routes,
    metricsPort: numberOption(merged, "metrics-port"),
    prometheusUrl: merged["prometheus-url"] || undefined,
    prometheusJob: merged["prometheus-job"]!,
  };
}

export interface Verdict {
  ok: boolean;
  /** One line: the breach (metric, figure, limit, previous figure), or what passed. */
  reason: string;
  current: Figures;
  previous: Figures | undefined;
}

/** Judges the new version's figures against the limits and the previous version's. */
export function judge(current: Figures, previous: Figures | undefined, s: AnalysisSettings): Verdict {
  const routes = s.routes.source.replaceAll("\\/", "/");
  const scope = `${current.requests} requests to ${routes}`;
  if (current.requests < s.minRequests)
    return {
      ok: true,
      reason: `not judged: only ${current.requests} requests to ${routes} in the window (needs ${s.minRequests})`,
      current,
      previous,
    };
  const before = (f: (x: Figures) => string) =>
    previous && previous.requests > 0 ? `; the previous version: ${f(previous)}` : "";
  const breaches: string[] = [];
  const ratio = `5xx ratio ${percent(current.errorRatio)} (${current.errors} of ${scope})`;
  if (current.errorRatio > s.maxErrorRatio) breaches.push(`${ratio} is over the ${percent(s.maxErrorRatio)} limit`);
  else if (previous && previous.requests > 0 && current.errorRatio > previous.errorRatio + s.maxErrorRatioIncrease)
    breaches.push(`${ratio} is more than ${percent(s.maxErrorRatioIncrease)} above the previous version's`);
  if (breaches.length > 0) breaches[breaches.length - 1] += before((p) => percent(p.errorRatio));
  const p99 = `p99 latency ${seconds(current.p99)}`;
  if (current.p99 > s.maxP99)
    breaches.push(`${p99} is over the ${seconds(s.maxP99)} limit${before((p) => seconds(p.p99))}`);
  else if (
    previous &&
    Number.isFinite(previous.p99) &&
    current.p99 > previous.p99 * s.maxP99Factor &&
    current.p99 - previous.p99 > s.p99Tolerance
  )
    breaches.push(`${p99} is over ${s.maxP99Factor}× the previous version's ${seconds(previous.p99)}`);
  if (breaches.length > 0) return { ok: false, reason: breaches.join("; "), current, previous };
  return {
    ok: true,
    reason: `${ratio}, ${p99}${before((p) => `${percent(p.errorRatio)}, ${seconds(p.p99)}`)}`,
    current,
    previous,
  };
}

// --- where the figures come from ---------------------------------------------------------------------

interface Pod {
  name: string;
  labels: Record<string, string>;
}

export async function podsOf(kubectl: Kubectl, selector: Record<string, string>): Promise<Pod[]> {
  const query = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const out = await kubectl.ok(["get", "pods", "--selector", query, "-o", "json"], { echo: false });
  const items =
    (JSON.parse(out) as { items?: { metadata?: { name?: string; labels?: Record<string, string> } }[] }).items ?? [];
  return items.map((p) => ({ name: p.metadata?.name ?? "", labels: p.metadata?.labels ?? {} })).filter((p) => p.name);
}

/** One reading of every pod's /metrics through the API server's pod proxy, by pod name. */
export async function readPods(kubectl: Kubectl, pods: Pod[], port: number): Promise<Map<string, string>> {
  const ns = kubectl.target.namespace;
  const texts = await Promise.all(
    pods.map(async (p) => {
      const r = await kubectl.run(["get", "--raw", `/api/v1/namespaces/${ns}/pods/${p.name}:${port}/proxy/metrics`], {
        echo: false,
      });
      if (r.code !== 0) throw new Error(`reading ${p.name}'s metrics through the pod proxy failed: ${r.stderr.trim()}`);
      return [p.name, r.stdout] as const;
    }),
  );
  return new Map(texts);
}

/** Totals of a reading, over the pods read. */
export const totalsOf = (reading: Map<string, string>, routes: RegExp): RequestTotals =>
  requestTotals([...reading.values()], routes);

/** Per pod: what happened between two readings (pods that appeared count from zero, vanished ones are left out). */
export function between(start: Map<string, string>, end: Map<string, string>, routes: RegExp): RequestTotals {
  let sum: RequestTotals = { requests: 0, errors: 0, buckets: new Map() };
  for (const [pod, text] of end) {
    const before = start.has(pod) ? requestTotals([start.get(pod)!], routes) : undefined;
    const d = difference(requestTotals([text], routes), before);
    const buckets = new Map(sum.buckets);
    for (const [le, n] of d.buckets) buckets.set(le, (buckets.get(le) ?? 0) + n);
    sum = { requests: sum.requests + d.requests, errors: sum.errors + d.errors, buckets };
  }
  return sum;
}

/** Figures from Prometheus over `[window]` ending at `at` (Unix seconds), for the pods named. */
export async function prometheusFigures(
  s: AnalysisSettings,
  pods: string[],
  windowSeconds: number,
  at: number,
): Promise<Figures> {
  // PromQL regexes are anchored and written inside a double-quoted string (backslashes doubled).
  const promString = (re: string) => re.replaceAll("\\", "\\\\").replaceAll('"', '\\"');
  const routes = `${s.routes.source.replaceAll("\\/", "/").replace(/^\^/, "")}.*`;
  const podNames = pods.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
  const sel = `job="${promString(s.prometheusJob)}", pod=~"${promString(podNames)}", route=~"${promString(routes)}"`;
  const range = `[${Math.max(1, Math.round(windowSeconds))}s]`;
  const one = async (q: string) => {
    const url = `${s.prometheusUrl!.replace(/\/+$/, "")}/api/v1/query?${new URLSearchParams({ query: q, time: String(at) })}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { result: { value: [number, string] }[] };
    };
    if (body.status !== "success") throw new Error(`Prometheus query failed: ${body.error ?? res.status}`);
    const v = Number(body.data?.result[0]?.value[1]);
    return Number.isFinite(v) ? v : Number.NaN;
  };
  const requests = await one(`sum(increase(http_requests_total{${sel}}${range}))`);
  const errors = await one(`sum(increase(http_requests_total{${sel}, status=~"5.."}${range}))`);
  const p99 = await one(
    `histogram_quantile(0.99, sum by (le) (increase(http_request_duration_seconds_bucket{${sel}}${range})))`,
  );
  const n = Number.isNaN(requests) ? 0 : Math.round(requests);
  const e = Number.isNaN(errors) ? 0 : Math.round(errors);
  return { requests: n, errors: e, errorRatio: n > 0 ? e / n : 0, p99 };
}

export { figures, quantile };

// --- the window ------------------------------------------------------------------------------------

export interface Baseline {
  /** The pods serving before the Deployment changed (the previous version). */
  pods: string[];
  /** Their /metrics just before the change (pod-proxy mode). */
  reading: Map<string, string> | undefined;
  /** Unix seconds when it was taken (Prometheus mode queries up to then). */
  at: number;
}

/** The previous version's pods and, without Prometheus, their counters; taken before the Deployment changes. */
export async function takeBaseline(
  kubectl: Kubectl,
  selector: Record<string, string>,
  s: AnalysisSettings,
): Promise<Baseline> {
  const pods = await podsOf(kubectl, selector);
  const reading = s.prometheusUrl ? undefined : await readPods(kubectl, pods, s.metricsPort);
  return { pods: pods.map((p) => p.name), reading, at: Date.now() / 1000 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Watches the new pods for the window and judges them. A breach that is already certain (enough
 * requests) ends the window early: a release failing one request in five need not be watched longer.
 */
export async function runAnalysis(
  kubectl: Kubectl,
  newPods: Record<string, string>,
  s: AnalysisSettings,
  baseline: Baseline | undefined,
  log: (line: string) => void,
): Promise<Verdict> {
  const pods = await podsOf(kubectl, newPods);
  if (pods.length === 0) throw new Error(`no pods match ${JSON.stringify(newPods)}`);
  const names = pods.map((p) => p.name);
  const started = Date.now();
  log(
    `analysis: ${s.window} s on ${names.join(", ")} via ${s.prometheusUrl ? `Prometheus ${s.prometheusUrl}` : "the pod proxy"}; ` +
      `fails on 5xx over ${percent(s.maxErrorRatio)} or p99 over ${seconds(s.maxP99)}, or well above the previous version`,
  );
  let previous: Figures | undefined;
  if (baseline && baseline.pods.length > 0) {
    previous = s.prometheusUrl
      ? await prometheusFigures(s, baseline.pods, s.window, baseline.at).catch(() => undefined)
      : baseline.reading
        ? figures(totalsOf(baseline.reading, s.routes))
        : undefined;
    if (previous)
      log(
        `analysis: previous version: ${previous.requests} requests, 5xx ${percent(previous.errorRatio)}, p99 ${seconds(previous.p99)}`,
      );
  }
  let start: Map<string, string> | undefined;
  if (!s.prometheusUrl) {
    try {
      start = await readPods(kubectl, pods, s.metricsPort);
    } catch (err) {
      // A release without a metrics port (one built before it, e.g. a hotfix of an older line) cannot
      // be judged here; that is not a reason to undo it. A reading that fails later, once it worked, is.
      return {
        ok: true,
        reason: `not judged: the new pods' metrics could not be read (${(err as Error).message})`,
        current: { requests: 0, errors: 0, errorRatio: 0, p99: Number.NaN },
        previous,
      };
    }
  }
  const reading = async (): Promise<Figures> => {
    const elapsed = (Date.now() - started) / 1000;
    if (s.prometheusUrl) return prometheusFigures(s, names, elapsed, Date.now() / 1000);
    return figures(between(start!, await readPods(kubectl, pods, s.metricsPort), s.routes));
  };
  for (;;) {
    const left = started + s.window * 1000 - Date.now();
    await sleep(Math.max(0, Math.min(left, s.interval * 1000)));
    const current = await reading();
    const elapsed = Math.round((Date.now() - started) / 1000);
    log(
      `analysis: ${elapsed} s: ${current.requests} requests, 5xx ${percent(current.errorRatio)}, p99 ${seconds(current.p99)}`,
    );
    const verdict = judge(current, previous, s);
    // Within a quarter second of the end counts as the end (no second reading right after it).
    const done = Date.now() - started >= s.window * 1000 - 250;
    if (done || (!verdict.ok && current.requests >= s.minRequests)) return verdict;
  }
}
