// What the analysis window needs from the service's /metrics text: the request counts and the latency
// histogram of the user-facing routes, summed over pods, and the figures computed from two readings
// (counters only grow while a pod lives, so the difference of two readings is what happened between
// them). The quantile is estimated the way PromQL's histogram_quantile does it: find the bucket the
// rank falls in and interpolate linearly inside it (prometheus/prometheus promql/quantile.go).

export interface RequestTotals {
  requests: number;
  errors: number;
  /** Cumulative counts per bucket upper bound (`le`), +Inf included. */
  buckets: Map<number, number>;
}

export interface Figures {
  requests: number;
  errors: number;
  errorRatio: number;
  /** Seconds; NaN when there were no requests. */
  p99: number;
}

const LINE = /^(http_requests_total|http_request_duration_seconds_bucket)\{(.*)\}\s+(\S+)/;

function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
  return labels;
}

/** Sums one pod's (or many pods') exposition text over the routes `routes` matches. */
export function requestTotals(texts: string[], routes: RegExp): RequestTotals {
  const totals: RequestTotals = { requests: 0, errors: 0, buckets: new Map() };
  for (const text of texts)
    for (const line of text.split("\n")) {
      const m = LINE.exec(line);
      if (!m) continue;
      const labels = labelsOf(m[2]!);
      if (!routes.test(labels.route ?? "")) continue;
      const value = Number(m[3]);
      if (m[1] === "http_requests_total") {
        totals.requests += value;
        if (/^5/.test(labels.status ?? "")) totals.errors += value;
      } else {
        const le = labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(labels.le);
        totals.buckets.set(le, (totals.buckets.get(le) ?? 0) + value);
      }
    }
  return totals;
}

/** What happened between two readings (a pod missing from `before` counts from zero). */
export function difference(after: RequestTotals, before: RequestTotals | undefined): RequestTotals {
  if (!before) return after;
  const buckets = new Map<number, number>();
  for (const [le, count] of after.buckets) buckets.set(le, Math.max(0, count - (before.buckets.get(le) ?? 0)));
  return {
    requests: Math.max(0, after.requests - before.requests),
    errors: Math.max(0, after.errors - before.errors),
    buckets,
  };
}

/** histogram_quantile over cumulative buckets. */
export function quantile(q: number, buckets: Map<number, number>): number {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (sorted.length < 2 || total === 0) return Number.NaN;
  const rank = q * total;
  let i = sorted.findIndex(([, count]) => count >= rank);
  if (i === sorted.length - 1) return sorted[sorted.length - 2]![0]; // in +Inf: the highest finite bound
  if (i < 0) i = sorted.length - 1;
  const [upper, count] = sorted[i]!;
  const [lower, below] = i === 0 ? [0, 0] : sorted[i - 1]!;
  if (count === below) return upper;
  return lower + (upper - lower) * ((rank - below) / (count - below));
}

export function figures(totals: RequestTotals): Figures {
  return {
    requests: totals.requests,
    errors: totals.errors,
    errorRatio: totals.requests > 0 ? totals.errors / totals.requests : 0,
    p99: quantile(0.99, totals.buckets),
  };
}

export const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
export const seconds = (s: number) =>
  Number.isNaN(s) ? "n/a" : s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(2)} s`;
