// The deploy's analysis window: figures from /metrics readings, the verdict against limits and the
// previous version, and deploys against the fake kubectl whose pods answer /metrics through the pod
// proxy — a healthy release passes, one failing or slow for users is rolled back like a failed gate.

import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AnalysisSettings, analysisSettings, between, judge } from "../../scripts/ops/lib/analysis";
import { figures, quantile, requestTotals } from "../../scripts/ops/lib/exposition";
import { tempDir } from "../deploy/helpers";
import { REPO_ROOT } from "../support/repo";
import { deployArgs, FakeCluster, fixtureOverlay, IMAGE, syntheticMetrics } from "./harness";

const SLOW = 90_000;
const settings = (over: Partial<AnalysisSettings> = {}): AnalysisSettings => ({
  window: 60,
  interval: 15,
  maxErrorRatio: 0.05,
  maxErrorRatioIncrease: 0.02,
  maxP99: 1,
  maxP99Factor: 2,
  p99Tolerance: 0.05,
  minRequests: 20,
  routes: /^\/v1/,
  metricsPort: 9464,
  prometheusUrl: undefined,
  prometheusJob: "transportation-api",
  ...over,
});

describe("analysis figures", () => {
  it("take what happened between two readings, on the user routes only, per pod", () => {
    const routes = /^\/v1/;
    const start = new Map([["a", syntheticMetrics(100, { errorRatio: 0.1 })]]);
    const end = new Map([
      ["a", syntheticMetrics(300, { errorRatio: 0.1 })],
      ["b", syntheticMetrics(50, { errorRatio: 0.1 })], // started during the window: counts from zero
    ]);
    const f = figures(between(start, end, routes));
    expect(f.requests).toBe(250); // the /ready probes (10× as many, all 503) are left out
    expect(f.errors).toBe(25);
    expect(f.errorRatio).toBeCloseTo(0.1, 9);
  });

  it("estimate p99 as histogram_quantile does: linear inside the bucket, the top finite bound for +Inf", () => {
    const b = (pairs: [number, number][]) => new Map(pairs);
    expect(
      quantile(
        0.99,
        b([
          [0.005, 100],
          [0.01, 100],
          [Number.POSITIVE_INFINITY, 100],
        ]),
      ),
    ).toBeCloseTo(0.00495, 9);
    expect(
      quantile(
        0.5,
        b([
          [0.1, 0],
          [0.2, 100],
          [Number.POSITIVE_INFINITY, 100],
        ]),
      ),
    ).toBeCloseTo(0.15, 9);
    expect(
      quantile(
        0.99,
        b([
          [1, 50],
          [Number.POSITIVE_INFINITY, 100],
        ]),
      ),
    ).toBe(1);
    expect(
      quantile(
        0.99,
        b([
          [1, 0],
          [Number.POSITIVE_INFINITY, 0],
        ]),
      ),
    ).toBeNaN();
    const slow = figures(requestTotals([syntheticMetrics(100, { latency: 2 })], /^\/v1/));
    expect(slow.p99).toBeGreaterThan(2);
  });
});

describe("analysis settings", () => {
  it("come per environment from the overlay's rollout-analysis.yaml, and flags override them", () => {
    const overlay = (env: string) => join(REPO_ROOT, "deploy/k8s/overlays", env);
    expect(analysisSettings({}, overlay("production"))).toMatchObject({ window: 120, maxErrorRatio: 0.02, maxP99: 1 });
    expect(analysisSettings({}, overlay("staging"))).toMatchObject({ window: 60, maxErrorRatio: 0.05 });
    expect(analysisSettings({ "analysis-window": "30" }, overlay("production")).window).toBe(30);
    // No file: no analysis unless asked for.
    expect(analysisSettings({}, fixtureOverlay).window).toBe(0);
  });
});

describe("analysis verdict", () => {
  const f = (requests: number, errors: number, p99: number) => ({
    requests,
    errors,
    errorRatio: requests ? errors / requests : 0,
    p99,
  });

  it("fails a 5xx ratio over the limit and names the figures and the previous version's", () => {
    const v = judge(f(1000, 200, 0.01), f(5000, 5, 0.01), settings());
    expect(v.ok).toBe(false);
    expect(v.reason).toBe(
      "5xx ratio 20.0% (200 of 1000 requests to ^/v1) is over the 5.0% limit; the previous version: 0.1%",
    );
  });

  it("fails a 5xx ratio under the limit but well above the previous version's", () => {
    const v = judge(f(1000, 40, 0.01), f(5000, 5, 0.01), settings());
    expect(v.ok).toBe(false);
    expect(v.reason).toContain(
      "5xx ratio 4.0% (40 of 1000 requests to ^/v1) is more than 2.0% above the previous version's",
    );
  });

  it("fails p99 over the limit, or over twice the previous version's beyond the tolerance", () => {
    expect(judge(f(1000, 0, 1.8), f(1000, 0, 0.02), settings()).reason).toBe(
      "p99 latency 1.80 s is over the 1.00 s limit; the previous version: 20 ms",
    );
    expect(judge(f(1000, 0, 0.4), f(1000, 0, 0.1), settings()).reason).toBe(
      "p99 latency 400 ms is over 2× the previous version's 100 ms",
    );
    // 2 ms → 5 ms is more than twice, but within the tolerance: not a regression worth a rollback.
    expect(judge(f(1000, 0, 0.005), f(1000, 0, 0.002), settings()).ok).toBe(true);
  });

  it("passes a healthy release, and does not judge a window with too little traffic", () => {
    const ok = judge(f(1000, 1, 0.02), f(1000, 1, 0.02), settings());
    expect(ok).toMatchObject({ ok: true });
    expect(ok.reason).toBe(
      "5xx ratio 0.1% (1 of 1000 requests to ^/v1), p99 latency 20 ms; the previous version: 0.1%, 20 ms",
    );
    const quiet = judge(f(5, 5, 3), undefined, settings());
    expect(quiet).toMatchObject({ ok: true, reason: "not judged: only 5 requests to ^/v1 in the window (needs 20)" });
  });
});

describe("deploy with an analysis window", () => {
  let cluster: FakeCluster;
  beforeEach(async () => {
    cluster = new FakeCluster();
    await cluster.start();
  });
  afterEach(async () => {
    await cluster.stop();
  });
  const window = ["--analysis-window", "1", "--analysis-interval", "0.2"];
  const words = (c: string[]) =>
    c
      .filter((a) => !a.startsWith("-"))
      .slice(0, 2)
      .join(" ");

  it(
    "keeps a release that serves users as well as the previous one, reading the pods through the pod proxy",
    async () => {
      await cluster.seedPassed("1.0.0");
      const r = await cluster.run("deploy", deployArgs(cluster, "1.1.0", window));
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.1.0`);
      expect(cluster.verdicts()).toEqual({ 1: "passed", 2: "passed" });
      const raw = cluster.calls().filter((c) => c.includes("--raw"));
      const podsRead = new Set(
        raw.map((c) => /pods\/([^:]+):9464\/proxy\/metrics$/.exec(c[c.indexOf("--raw") + 1]!)?.[1]),
      );
      // Both of the previous revision's pods before the change, both of the new one's during the window.
      expect(podsRead.size).toBe(4);
      expect(r.stdout).toContain("::group::Analysis window for 1.1.0 (1 s)");
      expect(r.stdout).toMatch(
        /analysis passed: 5xx ratio 0\.0% \(\d+ of \d+ requests to \^\/v1\), p99 latency 5 ms; the previous version: 0\.0%, 5 ms/,
      );
      expect(r.summary).toMatch(/\| Analysis \| passed: 5xx ratio 0\.0%/);
    },
    SLOW,
  );

  it(
    "rolls back a ready release that fails a fifth of user requests, naming the metric and the figures",
    async () => {
      await cluster.seedPassed("1.0.0");
      cluster.behave("1.1.0", { errorRatio: 0.2 });
      const r = await cluster.run("deploy", deployArgs(cluster, "1.1.0", window));
      expect(r.code).toBe(1);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.0`);
      expect(cluster.verdicts()).toEqual({ 2: "failed", 3: "passed" });
      expect(cluster.calls().some((c) => words(c) === "rollout undo")).toBe(true);
      const why =
        /5xx ratio 20\.0% \(\d+ of \d+ requests to \^\/v1\) is over the 5\.0% limit; the previous version: 0\.0%/;
      expect(r.stdout).toMatch(new RegExp(`failed at analysis: ${why.source}`));
      expect(r.outputs).toMatchObject({ result: "rolled-back", "rolled-back": "true", "live-version": "1.0.0" });
      expect(r.summary).toMatch(/\| Failed step \| analysis \|/);
      expect(r.summary).toMatch(why);
      expect(r.summary).toMatch(/Readiness gate \(live version\) \| \/ready 200 and version 1\.0\.0/);
      const note = cluster.state().revisions.find((x) => x.revision === 2)!.annotations[
        "transportation-ai.com/readiness-gate-note"
      ];
      expect(note).toMatch(/failed at analysis: 5xx ratio 20\.0%/);
    },
    SLOW,
  );

  it(
    "rolls back a ready release that is slow, from the overlay's rollout-analysis.yaml",
    async () => {
      const overlay = tempDir("overlay");
      cpSync(fixtureOverlay, overlay, { recursive: true });
      writeFileSync(
        join(overlay, "rollout-analysis.yaml"),
        "analysis-window: 1\nanalysis-interval: 0.2\nmax-p99: 0.5\n",
      );
      await cluster.seedPassed("1.0.0");
      cluster.behave("1.1.0", { latency: 0.8 });
      const args = deployArgs(cluster, "1.1.0").map((a) => (a === fixtureOverlay ? overlay : a));
      const r = await cluster.run("deploy", args);
      expect(r.code).toBe(1);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.0`);
      expect(cluster.verdicts()).toEqual({ 2: "failed", 3: "passed" });
      expect(r.summary).toMatch(/p99 latency 995 ms is over the 500 ms limit; the previous version: 5 ms/);
    },
    SLOW,
  );

  it(
    "keeps a release whose pods serve no metrics (an older line's hotfix), saying it was not judged",
    async () => {
      await cluster.seedPassed("1.0.0");
      cluster.behave("1.0.1", { metrics: false });
      const r = await cluster.run("deploy", deployArgs(cluster, "1.0.1", window));
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.1`);
      expect(r.summary).toMatch(/\| Analysis \| passed: not judged: the new pods' metrics could not be read/);
    },
    SLOW,
  );

  it(
    "refuses an unknown setting in rollout-analysis.yaml before changing anything",
    async () => {
      const overlay = tempDir("overlay");
      cpSync(fixtureOverlay, overlay, { recursive: true });
      writeFileSync(join(overlay, "rollout-analysis.yaml"), "analysis-windw: 60\n");
      await cluster.seedPassed("1.0.0");
      const r = await cluster.run(
        "deploy",
        deployArgs(cluster, "1.1.0").map((a) => (a === fixtureOverlay ? overlay : a)),
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('rollout-analysis.yaml: unknown setting "analysis-windw"');
      expect(cluster.history()).toEqual({ 1: "1.0.0" });
    },
    SLOW,
  );
});
