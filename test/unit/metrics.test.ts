// What GET /metrics says about the requests the service answered: RED series per route template,
// histogram buckets from 1 ms to 10 s, the dependency and readiness gauges, build_info, and sources
// with nothing to report left absent rather than read as 0.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics, createMetricsHandler } from "../../src/observability/metrics";
import { parseExposition, samplesOf, sampleValue } from "../support/prometheus-text";
import { createTestApp, type TestApp } from "../support/test-app";

const KEY = "metrics-test-key-0123";

async function scrape(metrics: ReturnType<typeof createMetrics>) {
  return parseExposition((await metrics.render()).body);
}

describe("request metrics", () => {
  it("count and time requests per method, route template and status, with cumulative buckets", async () => {
    const metrics = createMetrics({ version: "1.2.3", commit: "abc", processMetrics: false });
    metrics.request("GET", "/v1/stops/:stopId", 200, 0.004);
    metrics.request("GET", "/v1/stops/:stopId", 200, 0.3);
    metrics.request("GET", "/v1/stops/:stopId", 404, 0.0005);
    metrics.request("BREW", undefined, 404, 12);
    const s = await scrape(metrics);
    const stop = { method: "GET", route: "/v1/stops/:stopId", status: "200" };
    expect(sampleValue(s, "http_requests_total", stop)).toBe(2);
    expect(sampleValue(s, "http_request_duration_seconds_bucket", { ...stop, le: "0.001" })).toBe(0);
    expect(sampleValue(s, "http_request_duration_seconds_bucket", { ...stop, le: "0.005" })).toBe(1);
    expect(sampleValue(s, "http_request_duration_seconds_bucket", { ...stop, le: "0.25" })).toBe(1);
    expect(sampleValue(s, "http_request_duration_seconds_bucket", { ...stop, le: "0.5" })).toBe(2);
    expect(sampleValue(s, "http_request_duration_seconds_bucket", { ...stop, le: "+Inf" })).toBe(2);
    expect(sampleValue(s, "http_request_duration_seconds_sum", stop)).toBeCloseTo(0.304, 9);
    const buckets = samplesOf(s, "http_request_duration_seconds_bucket", stop).map((b) => b.labels.le);
    expect(buckets).toEqual([
      "0.001",
      "0.0025",
      "0.005",
      "0.01",
      "0.025",
      "0.05",
      "0.1",
      "0.25",
      "0.5",
      "1",
      "2.5",
      "5",
      "10",
      "+Inf",
    ]);
    // An unknown method and an unmatched path never become label values of their own.
    expect(sampleValue(s, "http_requests_total", { method: "OTHER", route: "unmatched", status: "404" })).toBe(1);
    expect(sampleValue(s, "http_request_duration_seconds_bucket", { method: "OTHER", le: "10" })).toBe(0);
    expect(sampleValue(s, "build_info", { version: "1.2.3", commit: "abc" })).toBe(1);
  });

  it("leaves gauges absent until their source reports, and reports Redis only once a client exists", async () => {
    const metrics = createMetrics({ version: "1", commit: "c", processMetrics: false });
    let feed: number | undefined;
    metrics.watch.gauge("gtfs_active_feed_version", "test", () => feed);
    let s = await scrape(metrics);
    expect(samplesOf(s, "gtfs_active_feed_version")).toEqual([]);
    expect(samplesOf(s, "redis_connection_up")).toEqual([]);
    expect(samplesOf(s, "app_ready")).toEqual([]);
    feed = 7;
    metrics.redisUp(false);
    metrics.readiness({ database: "ok", redis: "error: redis ping timed out after 1000 ms" }, false);
    s = await scrape(metrics);
    expect(sampleValue(s, "gtfs_active_feed_version")).toBe(7);
    expect(sampleValue(s, "redis_connection_up")).toBe(0);
    expect(sampleValue(s, "readiness_check_up", { check: "database" })).toBe(1);
    expect(sampleValue(s, "readiness_check_up", { check: "redis" })).toBe(0);
    expect(sampleValue(s, "app_ready")).toBe(0);
  });

  it("reads the GTFS-Realtime stats per source at scrape time", async () => {
    const metrics = createMetrics({ version: "1", commit: "c", processMetrics: false });
    let age: number | undefined;
    let failures = 0;
    metrics.watch.realtime(() => ({
      maxAgeSeconds: 300,
      sources: [{ source: "vehicle_positions", snapshotAgeSeconds: age, pollFailures: failures }],
    }));
    let s = await scrape(metrics);
    expect(samplesOf(s, "gtfs_realtime_snapshot_age_seconds")).toEqual([]);
    expect(sampleValue(s, "gtfs_realtime_poll_failures_total", { source: "vehicle_positions" })).toBe(0);
    expect(sampleValue(s, "gtfs_realtime_max_age_seconds")).toBe(300);
    age = 12;
    failures = 3;
    s = await scrape(metrics);
    expect(sampleValue(s, "gtfs_realtime_snapshot_age_seconds", { source: "vehicle_positions" })).toBe(12);
    expect(sampleValue(s, "gtfs_realtime_poll_failures_total", { source: "vehicle_positions" })).toBe(3);
  });

  it("counts query failures by kind and the rate limiter's refusals and fallbacks", async () => {
    const metrics = createMetrics({ version: "1", commit: "c", processMetrics: false });
    metrics.query(0.002);
    metrics.query(10, "timeout");
    metrics.query(0.001, "connection");
    metrics.rateLimited();
    metrics.rateLimitFallback(true);
    metrics.rateLimitFallback(true);
    let s = await scrape(metrics);
    expect(sampleValue(s, "db_query_duration_seconds_count")).toBe(3);
    expect(sampleValue(s, "db_query_errors_total", { reason: "timeout" })).toBe(1);
    expect(sampleValue(s, "db_query_errors_total", { reason: "connection" })).toBe(1);
    expect(sampleValue(s, "db_query_errors_total", { reason: "query" })).toBe(0);
    expect(sampleValue(s, "http_rate_limited_total")).toBe(1);
    expect(sampleValue(s, "ratelimit_backend_fallback")).toBe(1);
    expect(sampleValue(s, "ratelimit_backend_fallbacks_total")).toBe(1);
    metrics.rateLimitFallback(false);
    s = await scrape(metrics);
    expect(sampleValue(s, "ratelimit_backend_fallback")).toBe(0);
  });

  it("includes the process metrics: memory, CPU and event-loop lag", async () => {
    const metrics = createMetrics({ version: "1", commit: "c" });
    const s = await scrape(metrics);
    for (const name of [
      "process_resident_memory_bytes",
      "process_cpu_seconds_total",
      "nodejs_eventloop_lag_p99_seconds",
    ])
      expect(samplesOf(s, name).length, name).toBe(1);
  });

  it("serves only GET /metrics on the metrics port", async () => {
    const handler = createMetricsHandler(createMetrics({ version: "1", commit: "c", processMetrics: false }));
    const ok = await handler(new Request("http://127.0.0.1:9464/metrics"));
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await ok.text()).toContain("# TYPE http_request_duration_seconds histogram");
    const other = await handler(new Request("http://127.0.0.1:9464/v1/stops"));
    expect(other.status).toBe(404);
    expect((await other.json()).error.code).toBe("NOT_FOUND");
  });
});

describe("the service's request path records what it answered", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ API_KEY: KEY, APP_VERSION: "4.5.6" });
  });
  afterAll(() => t.close());

  it("labels requests with the matched template, never the raw path", async () => {
    await t.fetch("/health");
    await t.fetch("/ready");
    await t.fetch("/v1/stops/STOP-1", { headers: { "x-api-key": KEY } });
    await t.fetch("/v1/stops/STOP-2", { headers: { "x-api-key": KEY } });
    await t.fetch("/v1/stops/STOP-3"); // no key: 401 before routing
    await t.fetch(`/no-such-path-${Date.now()}`);
    const s = await scrape(t.metrics);
    expect(sampleValue(s, "http_requests_total", { route: "/health", status: "200" })).toBe(1);
    const stops = samplesOf(s, "http_requests_total", { route: "/v1/stops/:stopId" });
    expect(stops.reduce((n, x) => n + x.value, 0)).toBe(2);
    expect(sampleValue(s, "http_requests_total", { route: "unmatched", status: "404" })).toBe(1);
    expect(sampleValue(s, "http_requests_total", { status: "401" })).toBe(1);
    expect(s.some((x) => Object.values(x.labels).some((v) => v.includes("STOP-") || v.startsWith("/no-such")))).toBe(
      false,
    );
    expect(sampleValue(s, "readiness_check_up", { check: "database" })).toBe(1);
    expect(sampleValue(s, "http_requests_in_flight")).toBe(0);
    expect(sampleValue(s, "build_info", { version: "4.5.6" })).toBe(1);
  });

  it("writes the caller's W3C trace id into the access line when tracing is off", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    await t.fetch("/health", { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, "x-request-id": "tp-1" } });
    await t.fetch("/health", { headers: { traceparent: "00-not-a-trace-01", "x-request-id": "tp-2" } });
    const lines = t.logLines();
    expect(lines.find((l) => l.req_id === "tp-1")?.trace_id).toBe(traceId);
    expect(lines.find((l) => l.req_id === "tp-2")).not.toHaveProperty("trace_id");
  });
});
