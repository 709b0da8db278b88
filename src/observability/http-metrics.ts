// RED metrics per route template: http_requests_total and http_request_duration_seconds share one
// series per (method, route, status), found with a map lookup and a short scan, as the access log finds
// its cached line part. Label values are bounded: the route is the matched template (never the raw
// path: a scan of random URLs must not create series), unknown methods count as OTHER.
import { CounterExport, HistogramExport, HistogramSeries, LATENCY_BUCKETS } from "./fast-metrics";

/** Requests no route matched (404s, and requests refused before routing such as 413). */
export const UNMATCHED_ROUTE = "unmatched";
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** A safety net only: templates × methods × statuses stay far below it. */
const MAX_SERIES = 2000;

interface Series extends HistogramSeries {
  readonly method: string;
  readonly status: number;
}

export interface HttpMetrics {
  /** One finished request; `route` is the matched template, or undefined when none matched. */
  record(method: string, route: string | undefined, status: number, seconds: number): void;
  readonly exports: [CounterExport, HistogramExport];
}

export function createHttpMetrics(): HttpMetrics {
  const byRoute = new Map<string, Series[]>();
  const all: Series[] = [];
  let overflow: Series | undefined;

  const create = (method: string, route: string, status: number): Series => {
    if (all.length >= MAX_SERIES) {
      overflow ??= Object.assign(
        new HistogramSeries({ method: "OTHER", route: "overflow", status: 0 }, LATENCY_BUCKETS),
        {
          method: "OTHER",
          status: 0,
        },
      );
      if (!all.includes(overflow)) all.push(overflow);
      return overflow;
    }
    const series = Object.assign(new HistogramSeries({ method, route, status }, LATENCY_BUCKETS), { method, status });
    all.push(series);
    const list = byRoute.get(route);
    if (list) list.push(series);
    else byRoute.set(route, [series]);
    return series;
  };

  return {
    record(rawMethod, template, status, seconds) {
      const route = template ?? UNMATCHED_ROUTE;
      const method = METHODS.has(rawMethod) ? rawMethod : "OTHER";
      const list = byRoute.get(route);
      if (list !== undefined)
        for (const s of list)
          if (s.status === status && s.method === method) {
            s.observe(seconds);
            return;
          }
      create(method, route, status).observe(seconds);
    },
    exports: [
      new CounterExport("http_requests_total", "HTTP requests answered, by method, route template and status", () =>
        all.map((s) => ({ labels: s.labels, value: s.count })),
      ),
      new HistogramExport(
        "http_request_duration_seconds",
        "Time from receiving a request to its response, by method, route template and status",
        () => all,
      ),
    ],
  };
}
