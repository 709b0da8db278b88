// The alert rules (deploy/prometheus/alerts.rules.yaml) under Debian's promtool: valid, and each
// alert fires on series that should trigger it and stays silent on series that should not
// (deploy/prometheus/alerts.test.yaml). The PrometheusRule in the kustomize base is the same rules,
// and every runbook link lands on a heading of docs/operations.md.

import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROMETHEUS_RULE_FILE, prometheusRuleYaml, RULES_FILE } from "../../scripts/k8s/prometheus-rule";
import { REPO_ROOT } from "../support/repo";
import { tempDir } from "./helpers";

const PROMETHEUS_DIR = join(REPO_ROOT, "deploy", "prometheus");
const TESTS_FILE = join(PROMETHEUS_DIR, "alerts.test.yaml");

interface Rule {
  alert?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (): Rule[] =>
  (parse(readFileSync(RULES_FILE, "utf8")) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

function promtool(args: string[], cwd = PROMETHEUS_DIR) {
  const r = spawnSync("promtool", args, { cwd, encoding: "utf8" });
  if (r.error) throw new Error(`promtool is not installed (apt-get install -y prometheus): ${r.error.message}`);
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, "")
    .replace(/ /g, "-");

describe("alert rules", () => {
  it("pass promtool check rules and promtool test rules", () => {
    const check = promtool(["check", "rules", RULES_FILE]);
    expect(check.code, check.output).toBe(0);
    const test = promtool(["test", "rules", TESTS_FILE]);
    expect(test.code, test.output).toBe(0);
    expect(test.output).toContain("SUCCESS");
  });

  it("test every alert both ways: firing on a series that should trigger it, silent on one that should not", () => {
    const doc = parse(readFileSync(TESTS_FILE, "utf8")) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
    };
    const cases = doc.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const { alert } of rules().filter((r) => r.alert)) {
      expect(
        cases.some((c) => c.alertname === alert && (c.exp_alerts?.length ?? 0) > 0),
        `${alert} fires`,
      ).toBe(true);
      expect(
        cases.some((c) => c.alertname === alert && (c.exp_alerts?.length ?? 0) === 0),
        `${alert} silent`,
      ).toBe(true);
    }
  });

  it("catch a rule that no longer fires when it should", () => {
    const dir = tempDir("alerts-");
    copyFileSync(TESTS_FILE, join(dir, "alerts.test.yaml"));
    // The 5xx ratio threshold raised from 5% to 50%: the 9% case must now fail the test.
    writeFileSync(join(dir, "alerts.rules.yaml"), readFileSync(RULES_FILE, "utf8").replace("> 0.05\n", "> 0.5\n"));
    const broken = promtool(["test", "rules", "alerts.test.yaml"], dir);
    expect(broken.code).not.toBe(0);
    expect(broken.output).toContain("TransportationApiHighErrorRatio");
  });

  it("carry a severity and a runbook link to an entry of docs/operations.md", () => {
    const anchors = new Set(
      [...readFileSync(join(REPO_ROOT, "docs/operations.md"), "utf8").matchAll(/^#{2,4} (.+)$/gm)].map((m) =>
        slug(m[1]!),
      ),
    );
    const alerts = rules().filter((r) => r.alert);
    expect(alerts.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        "TransportationApiReplicasNotReady",
        "TransportationApiHighErrorRatio",
        "TransportationApiHighLatency",
        "TransportationApiDatabaseErrors",
        "TransportationApiRedisDown",
        "TransportationApiMemoryGrowing",
        "TransportationApiEventLoopLag",
        "TransportationFeedStale",
        "TransportationBackupTooOld",
        "TransportationDeployRolledBack",
      ]),
    );
    for (const r of alerts) {
      expect(["critical", "warning"]).toContain(r.labels?.severity);
      const url = r.annotations?.runbook_url ?? "";
      expect(url).toMatch(
        /^https:\/\/github\.com\/transportation-ai\/transportation-api\/blob\/main\/docs\/operations\.md#/,
      );
      expect(anchors.has(url.split("#")[1]!), `${r.alert}: ${url}`).toBe(true);
    }
  });

  it("ship in the kustomize base as a PrometheusRule generated from the same file", () => {
    expect(readFileSync(PROMETHEUS_RULE_FILE, "utf8")).toBe(prometheusRuleYaml());
    const generated = parse(prometheusRuleYaml().replace(/^#.*\n/gm, "")) as { spec: { groups: unknown } };
    expect(generated.spec.groups).toEqual((parse(readFileSync(RULES_FILE, "utf8")) as { groups: unknown }).groups);
  });
});
