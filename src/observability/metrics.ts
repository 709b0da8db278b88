// The service's metrics, created once per process and passed to whatever records or exposes them
// (no prom-client global registry: tests and one-shot commands each get their own). Request-path
// recording is allocation-free (fast-metrics.ts); gauges whose values live elsewhere (in-flight count,
// pool sizes, shutdown state) are read at scrape time, so they cost the request path nothing.
//
// Hooks for the parts other modules own, so that wiring them is one call:
//   rateLimited(), rateLimitFallback(active)   the /v1 rate limiter (in-process or shared)
//   redisUp(up)                                the Redis client's connection state
//   readiness(checks)                          each /ready evaluation
//   watch.pool / watch.lifecycle / watch.gauge sources read at scrape time
//   watch.realtime(stats)                      the GTFS-Realtime poller's stats hook (snapshot age,
//                                              poll failures), read at scrape time
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import {
  CounterExport,
  GaugeExport,
  HistogramExport,
  HistogramSeries,
  LATENCY_BUCKETS,
  SlotCounter,
} from "./fast-metrics";
import { createHttpMetrics } from "./http-metrics";

export interface MetricsOptions {
  version: string;
  commit: string;
  /** Process metrics (CPU, RSS, heap, event-loop lag, GC where the runtime reports it); default true. */
  processMetrics?: boolean;
}

export type CacheBackend = "redis" | "memory";
export type CacheResult = "hit" | "miss" | "error";

/** How a failed database query failed, as the alert and the runbook tell them apart. */
export type QueryFailure = "timeout" | "connection" | "query";

export interface PoolStats {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** What the GTFS-Realtime side reports (its stats hook), read at each scrape. */
export interface RealtimeStats {
  /** Past this age a snapshot is ignored and answers say "stale" (realtime.max_age). */
  maxAgeSeconds: number;
  sources: Array<{
    /** trip_updates, alerts or vehicle_positions. */
    source: string;
    /** Seconds since the time the snapshot being served describes; undefined before the first one. */
    snapshotAgeSeconds: number | undefined;
    /** Polls that failed since start (a counter; each replica counts its own). */
    pollFailures: number;
  }>;
}

export interface Metrics {
  readonly registry: Registry;
  /** One finished HTTP request (the fetch handler calls this once per request). */
  request(method: string, route: string | undefined, status: number, seconds: number): void;
  /** One database query: its time, and how it failed if it did. */
  query(seconds: number, failure?: QueryFailure): void;
  /** The counter slot of a cache outcome, resolved once when wiring (a read's hit/miss/error, a write's error). */
  cacheSlot(backend: CacheBackend, op: "get" | "set", result: CacheResult | "ok"): number;
  /** Counts one outcome in a slot from cacheSlot. */
  cacheResult(slot: number): void;
  rateLimited(): void;
  rateLimitFallback(active: boolean): void;
  redisUp(up: boolean): void;
  readiness(checks: Record<string, string>, ready: boolean): void;
  readonly watch: {
    pool(pool: PoolStats, max: number): void;
    lifecycle(state: { readonly inFlight: number; readonly shuttingDown: boolean }): void;
    /** A gauge read at scrape time; `read` returns one value, or several by label set. */
    gauge(name: string, help: string, read: () => number | undefined | Promise<number | undefined>): void;
    labelledGauge(
      name: string,
      help: string,
      labelNames: string[],
      read: () => Promise<Array<{ labels: Record<string, string>; value: number }>>,
    ): void;
    /** gtfs_realtime_snapshot_age_seconds, gtfs_realtime_poll_failures_total (per source), gtfs_realtime_max_age_seconds. */
    realtime(stats: () => RealtimeStats): void;
  };
  /** The exposition text and its content type, for GET /metrics. */
  render(): Promise<{ body: string; contentType: string }>;
}

/**
 * prom-client's per-heap-space gauges call v8.getHeapSpaceStatistics(), which Bun answers with a census
 * of the whole JavaScriptCore heap: 48 ms with 300k objects, the event loop stopped meanwhile, on every
 * scrape. The heap totals (process.memoryUsage: nodejs_heap_size_*_bytes) stay.
 */
const SLOW_DEFAULT_METRICS = [
  "nodejs_heap_space_size_total_bytes",
  "nodejs_heap_space_size_used_bytes",
  "nodejs_heap_space_size_available_bytes",
];

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  if (options.processMetrics !== false) {
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
    for (const name of SLOW_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }

  const http = createHttpMetrics();
  for (const m of http.exports) registry.registerMetric(m as never);

  const queryTimes = new HistogramSeries({}, LATENCY_BUCKETS);
  registry.registerMetric(
    new HistogramExport("db_query_duration_seconds", "Database query round trips, as the client saw them", () => [
      queryTimes,
    ]) as never,
  );
  const queryErrors = new SlotCounter(
    "db_query_errors_total",
    "Failed database queries: timeout (statement or connection-acquire timeout), connection (lost or refused), query",
  );
  const errorSlots: Record<QueryFailure, number> = {
    timeout: queryErrors.slot({ reason: "timeout" }),
    connection: queryErrors.slot({ reason: "connection" }),
    query: queryErrors.slot({ reason: "query" }),
  };
  registry.registerMetric(queryErrors as never);

  const cacheOps = new SlotCounter(
    "cache_operations_total",
    "Cache reads by result (hit, miss, error) and failed writes",
  );
  registry.registerMetric(cacheOps as never);

  const limited = new SlotCounter("http_rate_limited_total", "Requests to /v1 refused with 429 by the rate limiter");
  const limitedSlot = limited.slot({});
  registry.registerMetric(limited as never);
  const fallback = new Gauge({
    name: "ratelimit_backend_fallback",
    help: "1 while the shared rate limiter has fallen back to per-replica counting",
    registers: [registry],
  });
  fallback.set(0);
  let fallbackActive = false;
  const fallbacks = new Counter({
    name: "ratelimit_backend_fallbacks_total",
    help: "Times the shared rate limiter fell back to per-replica counting",
    registers: [registry],
  });

  // Created on first use: an unlabelled prom-client gauge reads 0 until set, which would page
  // "Redis down" on a replica that has no Redis configured.
  let redis: Gauge | undefined;
  let readyGauge: Gauge | undefined;
  const readinessGauge = new Gauge({
    name: "readiness_check_up",
    help: "Result of each /ready check at its last evaluation (1 ok, 0 failed)",
    labelNames: ["check"],
    registers: [registry],
  });

  new Gauge({
    name: "build_info",
    help: "The running build: always 1, with its version and commit as labels",
    labelNames: ["version", "commit"],
    registers: [registry],
  })
    .labels(options.version, options.commit)
    .set(1);

  const watched = new Set<string>();
  const once = (name: string) => {
    if (watched.has(name)) throw new Error(`metric ${name} is already watched`);
    watched.add(name);
  };

  const metrics: Metrics = {
    registry,
    request: http.record,
    query(seconds, failure) {
      queryTimes.observe(seconds);
      if (failure !== undefined) queryErrors.inc(errorSlots[failure]);
    },
    cacheSlot: (backend, op, result) => cacheOps.slot({ backend, op, result }),
    cacheResult: (slot) => cacheOps.inc(slot),
    rateLimited: () => limited.inc(limitedSlot),
    rateLimitFallback(active) {
      if (active && fallbackActive === false) fallbacks.inc();
      fallbackActive = active;
      fallback.set(active ? 1 : 0);
    },
    redisUp(up) {
      redis ??= new Gauge({
        name: "redis_connection_up",
        help: "1 while the Redis client is connected and ready; absent when no Redis is configured",
        registers: [registry],
      });
      redis.set(up ? 1 : 0);
    },
    readiness(checks, ready) {
      for (const [check, result] of Object.entries(checks))
        readinessGauge.labels(check).set(result.startsWith("error") || result === "shutting down" ? 0 : 1);
      readyGauge ??= new Gauge({
        name: "app_ready",
        help: "1 when the last /ready evaluation answered ready",
        registers: [registry],
      });
      readyGauge.set(ready ? 1 : 0);
    },
    watch: {
      pool(pool, max) {
        once("db_pool");
        new Gauge({
          name: "db_pool_connections",
          help: "Database pool connections by state (idle, in_use) and the pool's ceiling (max)",
          labelNames: ["state"],
          registers: [registry],
          collect() {
            this.labels("idle").set(pool.idleCount);
            this.labels("in_use").set(pool.totalCount - pool.idleCount);
            this.labels("max").set(max);
          },
        });
        new Gauge({
          name: "db_pool_waiting_requests",
          help: "Queries waiting for a free pool connection",
          registers: [registry],
          collect() {
            this.set(pool.waitingCount);
          },
        });
      },
      lifecycle(state) {
        once("lifecycle");
        new Gauge({
          name: "http_requests_in_flight",
          help: "Requests received and not yet answered",
          registers: [registry],
          collect() {
            this.set(state.inFlight);
          },
        });
        new Gauge({
          name: "app_shutting_down",
          help: "1 once the process received SIGTERM and is draining",
          registers: [registry],
          collect() {
            this.set(state.shuttingDown ? 1 : 0);
          },
        });
      },
      gauge(name, help, read) {
        once(name);
        registry.registerMetric(
          new GaugeExport(name, help, async () => {
            const value = await read();
            return value === undefined ? [] : [{ labels: {}, value }];
          }) as never,
        );
      },
      labelledGauge(name, help, _labelNames, read) {
        once(name);
        registry.registerMetric(new GaugeExport(name, help, read) as never);
      },
      realtime(stats) {
        once("gtfs_realtime");
        registry.registerMetric(
          new GaugeExport(
            "gtfs_realtime_snapshot_age_seconds",
            "Age of the GTFS-Realtime snapshot being served, per source (absent before the first)",
            async () =>
              stats().sources.flatMap(({ source, snapshotAgeSeconds }) =>
                snapshotAgeSeconds === undefined ? [] : [{ labels: { source }, value: snapshotAgeSeconds }],
              ),
          ) as never,
        );
        registry.registerMetric(
          new CounterExport("gtfs_realtime_poll_failures_total", "GTFS-Realtime polls that failed, per source", () =>
            stats().sources.map(({ source, pollFailures }) => ({ labels: { source }, value: pollFailures })),
          ) as never,
        );
        registry.registerMetric(
          new GaugeExport(
            "gtfs_realtime_max_age_seconds",
            "realtime.max_age: past it a snapshot is ignored and answers show the timetable only",
            async () => [{ labels: {}, value: stats().maxAgeSeconds }],
          ) as never,
        );
      },
    },
    async render() {
      return { body: await registry.metrics(), contentType: registry.contentType };
    },
  };
  return metrics;
}

/** GET /metrics on the metrics port; everything else there is a 404 (portable: web Request/Response). */
export function createMetricsHandler(metrics: Metrics): (request: Request) => Promise<Response> {
  return async (request) => {
    const path = new URL(request.url).pathname;
    if (path !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD"))
      return Response.json(
        { error: { code: "NOT_FOUND", message: "this port serves GET /metrics only" } },
        { status: 404 },
      );
    const { body, contentType } = await metrics.render();
    return new Response(request.method === "HEAD" ? null : body, {
      headers: { "content-type": contentType, "cache-control": "no-store" },
    });
  };
}
