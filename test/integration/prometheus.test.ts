// Debian's Prometheus scraping the real service (`serve` on PostgreSQL) on 127.0.0.1 every second,
// with the alert rules loaded: the request rate and a latency quantile read back through Prometheus'
// HTTP API, every alert rule and dashboard query evaluating against the real series.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analysisSettings, prometheusFigures } from "../../scripts/ops/lib/analysis";
import { type AppServer, eventually, startAppServer } from "../support/app-server";
import { promQuery, type Running, startPrometheus } from "../support/prometheus";
import { REPO_ROOT } from "../support/repo";
import { createTestDatabase, type TestDatabase } from "../support/services";

const RULES = join(REPO_ROOT, "deploy/prometheus/alerts.rules.yaml");
const DASHBOARD = join(REPO_ROOT, "deploy/grafana/transportation-api.json");

describe("Prometheus scrapes the service", () => {
  let db: TestDatabase;
  let app: AppServer;
  let prometheus: Running;
  let traffic: { stop(): Promise<number> };

  beforeAll(async () => {
    db = await createTestDatabase("prom");
    app = await startAppServer({
      args: ["--migrate"],
      metrics: true,
      env: { DATABASE_URL: db.url, LOG_LEVEL: "warn" },
    });
    prometheus = await startPrometheus({
      targets: [new URL(app.metricsUrl!).host],
      interval: "1s",
      rules: [RULES],
      labels: { namespace: "transportation-system", pod: "transportation-api-5d2b-p1" },
    });
    traffic = load(app.url);
  });
  afterAll(async () => {
    await traffic?.stop();
    await prometheus?.stop();
    await app?.stop();
    await db?.drop();
  });

  /** Requests one after the other until stopped (at most 2 minutes): /health, /ready and a /v1 404. */
  function load(base: string) {
    let running = true;
    let sent = 0;
    const done = (async () => {
      const until = Date.now() + 120_000;
      const paths = ["/health", "/health", "/ready", "/v1/stops/nowhere"];
      while (running && Date.now() < until) {
        await fetch(`${base}${paths[sent % paths.length]}`).then((r) => r.arrayBuffer());
        sent++;
      }
    })();
    return {
      async stop() {
        running = false;
        await done;
        return sent;
      },
    };
  }

  const query = (q: string) => promQuery(prometheus.url, q);

  it("reads the request rate per route template through the HTTP API", async () => {
    await eventually(
      async () => (await query('up{job="transportation-api"}'))[0]?.value === 1,
      30_000,
      "the target to be up",
    );
    const rate = 'sum by (route) (rate(http_requests_total{job="transportation-api"}[10s]))';
    await eventually(
      async () => (await query(rate)).some((s) => s.metric.route === "/health" && s.value > 0),
      60_000,
      "a /health rate",
    );
    const routes = Object.fromEntries((await query(rate)).map((s) => [s.metric.route, s.value]));
    expect(routes["/health"]).toBeGreaterThan(1);
    expect(routes["/ready"]).toBeGreaterThan(0);
    // /v1/stops/nowhere is a real route (404 from the handler), named by its template.
    expect(Object.keys(routes)).toContain("/v1/stops/:stopId");
    expect(Object.keys(routes).some((r) => r.includes("nowhere"))).toBe(false);
  });

  it("reads a latency quantile from the histogram", async () => {
    const p99 =
      'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="transportation-api", route="/health"}[10s])))';
    await eventually(async () => Number.isFinite((await query(p99))[0]?.value ?? Number.NaN), 30_000, "a p99");
    const [sample] = await query(p99);
    expect(sample!.value).toBeGreaterThan(0);
    expect(sample!.value).toBeLessThanOrEqual(10);
    const [pool] = await query('db_pool_connections{job="transportation-api", state="max"}');
    expect(pool!.value).toBe(30);
    const [build] = await query('build_info{job="transportation-api"}');
    expect(build!.metric.version).toBeTruthy();
  });

  it("evaluates every alert rule against the real series without errors", async () => {
    await eventually(
      async () => {
        const res = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
          data: { groups: { rules: { health: string; lastEvaluation: string }[] }[] };
        };
        const rules = res.data.groups.flatMap((g) => g.rules);
        return rules.length >= 10 && rules.every((r) => r.health === "ok" && !r.lastEvaluation.startsWith("0001"));
      },
      30_000,
      "every rule evaluated with health ok",
    );
    // A healthy service under light load raises none of the request alerts.
    const firing = (await query('ALERTS{alertstate="firing"}')).map((s) => s.metric.alertname);
    expect(firing).not.toContain("TransportationApiHighErrorRatio");
    expect(firing).not.toContain("TransportationApiDown");
  });

  it("gives the deploy's analysis window its figures (--prometheus-url)", async () => {
    const settings = analysisSettings(
      { "prometheus-url": prometheus.url, "analysis-routes": "^/health", "analysis-window": "10" },
      REPO_ROOT,
    );
    const at = Date.now() / 1000;
    const mine = await prometheusFigures(settings, ["transportation-api-5d2b-p1"], 10, at);
    expect(mine.requests).toBeGreaterThan(0);
    expect(mine.errors).toBe(0);
    expect(mine.p99).toBeGreaterThan(0);
    expect(mine.p99).toBeLessThan(10);
    const others = await prometheusFigures(settings, ["someone-else"], 10, at);
    expect(others.requests).toBe(0);
  });

  it("answers every query of the Grafana dashboard", async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThan(15);
    let answered = 0;
    for (const { title, expr } of exprs) {
      const result = await query(expr.replaceAll("$__rate_interval", "10s"));
      if (result.length > 0) answered++;
      else expect(title, `${title}: ${expr}`).toMatch(/Errors|feed|Rate limited|Cache|Redis|Served|Rows/i);
    }
    expect(answered).toBeGreaterThan(exprs.length / 2);
  });
});
