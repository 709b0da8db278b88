// deploy and rollback against the fake kubectl: the command sequences, what is live afterwards, the
// step outputs, the error annotation and the job summary a person sees.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RESTORE_ANNOTATION } from "../../scripts/ops/lib/restore-guard";
import { REPO_ROOT } from "../support/repo";
import { runProcess } from "../support/run";
import { deployArgs, FakeCluster, fakeKubectlDir, IMAGE } from "./harness";

const SLOW = 60_000; // each case spawns bun and a dozen fake kubectl calls
let cluster: FakeCluster;
beforeEach(async () => {
  cluster = new FakeCluster();
  await cluster.start();
});
afterEach(async () => {
  await cluster.stop();
});

const words = (call: string[]) =>
  call.filter((a, i) => !a.startsWith("-") && !call[i - 1]?.match(/^--?(namespace|n|o|f|selector)$/));
const has = (calls: string[][], ...prefix: string[]) => calls.some((c) => prefix.every((p, i) => words(c)[i] === p));

describe("deploy", () => {
  it(
    "deploys a release: configuration, migration, Deployment, rollout, gate — in that order",
    async () => {
      await cluster.seed("1.0.0");
      const r = await cluster.run("deploy", deployArgs(cluster, "1.1.0"));
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.1.0`);
      expect(cluster.history()).toEqual({ 1: "1.0.0", 2: "1.1.0" });
      // the new revision's ReplicaSet records that it passed the gate; the seeded one has no record
      expect(cluster.verdicts()).toEqual({ 1: "-", 2: "passed" });

      const calls = cluster.calls();
      const seq = calls.map((c) => words(c).slice(0, 2).join(" "));
      const order = [
        "apply",
        "delete job/transportation-migrate",
        "apply",
        "get job/transportation-migrate",
        "apply",
        "rollout status",
      ].map((step) => seq.indexOf(step, 0));
      expect(order.every((i) => i >= 0)).toBe(true);
      const idx = (step: string, from = 0) => seq.indexOf(step, from);
      const migrate = idx("delete job/transportation-migrate");
      const jobDone = idx("get job/transportation-migrate");
      const deploymentApply = seq.lastIndexOf("apply");
      expect(idx("apply")).toBeLessThan(migrate); // configuration first
      expect(jobDone).toBeLessThan(deploymentApply); // Deployment only after the migration finished
      expect(deploymentApply).toBeLessThan(idx("rollout status"));
      expect(has(calls, "rollout", "undo")).toBe(false);
      // every cluster call is scoped to the namespace
      for (const c of calls) expect(c.join(" ")).toContain("--namespace transportation-system");

      expect(r.outputs).toMatchObject({
        result: "deployed",
        "rolled-back": "false",
        revision: "2",
        "live-version": "1.1.0",
      });
      expect(r.outputs["previous-revision"]).toBe("1");
      expect(r.summary).toContain("1.1.0 deployed to staging");
      expect(r.stdout).toContain("::group::Readiness gate for 1.1.0");
      // the Secret's value is registered as a secret (masked), never printed
      expect(r.stdout).toContain("::add-mask::super-secret-key");
      expect(r.stdout.replaceAll("::add-mask::super-secret-key", "")).not.toContain("super-secret-key");
    },
    SLOW,
  );

  it(
    "deploys image:version@digest when given the digest, and refuses a malformed one",
    async () => {
      await cluster.seed("1.0.0");
      const digest = `sha256:${"ab12".repeat(16)}`;
      const r = await cluster.run("deploy", deployArgs(cluster, "1.1.0", ["--digest", digest]));
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.1.0@${digest}`);
      // The migration ran the same bytes.
      expect(cluster.state().jobs?.["transportation-migrate"]?.image).toBe(`${IMAGE}:1.1.0@${digest}`);
      expect(r.outputs).toMatchObject({ result: "deployed", "live-version": "1.1.0" });
      const bad = await cluster.run("deploy", deployArgs(cluster, "1.2.0", ["--digest", "sha256:short"]));
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--digest must be sha256: and 64 hex digits");
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.1.0@${digest}`);
    },
    SLOW,
  );

  it(
    "rolls back a stalled rollout and proves the previous version serves",
    async () => {
      await cluster.seed("1.0.0");
      cluster.behave("1.1.0", { rollout: "stall", ready: false });
      const r = await cluster.run("deploy", deployArgs(cluster, "1.1.0"));
      expect(r.code).toBe(1);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.0`);
      // undo re-applies revision 1's template as revision 3, like kubectl does
      expect(cluster.history()).toEqual({ 2: "1.1.0", 3: "1.0.0" });
      // the undone release is recorded as failed, the restored one as passing its gate again
      expect(cluster.verdicts()).toEqual({ 2: "failed", 3: "passed" });
      const undo = cluster.calls().find((c) => words(c)[0] === "rollout" && words(c)[1] === "undo");
      expect(undo).toContain("--to-revision=1");
      expect(r.stdout).toMatch(
        /::error title=Deploy to staging failed - previous version serving::.*failed at rollout: error: deployment "transportation-api" exceeded its progress deadline/,
      );
      expect(r.outputs).toMatchObject({
        result: "rolled-back",
        "rolled-back": "true",
        revision: "3",
        "live-version": "1.0.0",
      });
      expect(r.summary).toContain("not deployed to staging");
      expect(r.summary).toContain("revision 3 (ghcr.io/acme/transportation-api:1.0.0)");
      expect(r.summary).toMatch(/Readiness gate \(live version\) \| \/ready 200 and version 1\.0\.0/);
    },
    SLOW,
  );

  it(
    "rolls back when the new pods are ready but /version reports another version",
    async () => {
      await cluster.seed("1.0.0");
      cluster.behave("1.1.0", { reportsVersion: "1.0.9" });
      const r = await cluster.run("deploy", deployArgs(cluster, "1.1.0", ["--gate-timeout", "2"]));
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("failed at readiness gate");
      expect(r.stdout).toContain("expected version 1.1.0, /version reports 1.0.9");
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.0`);
      expect(r.outputs["rolled-back"]).toBe("true");
    },
    SLOW,
  );

  it(
    "leaves the Deployment untouched when the migration Job fails",
    async () => {
      await cluster.seed("1.0.0");
      cluster.behave("1.1.0", { migration: "fail" });
      const r = await cluster.run("deploy", deployArgs(cluster, "1.1.0"));
      expect(r.code).toBe(1);
      const calls = cluster.calls();
      expect(has(calls, "rollout", "undo")).toBe(false);
      expect(has(calls, "rollout", "status")).toBe(false);
      expect(cluster.history()).toEqual({ 1: "1.0.0" });
      expect(r.stdout).toContain("failed at migration: job/transportation-migrate failed (BackoffLimitExceeded");
      expect(r.stdout).toContain('relation "stops" does not exist'); // the Job's log tail is shown
      expect(r.outputs).toMatchObject({ result: "failed", "rolled-back": "false", revision: "1" });
      expect(r.summary).toContain("the Deployment was not changed; revision 1");
    },
    SLOW,
  );

  it(
    "reports a failed first deploy without inventing a rollback",
    async () => {
      cluster.behave("1.0.0", { rollout: "timeout" });
      const r = await cluster.run("deploy", deployArgs(cluster, "1.0.0"));
      expect(r.code).toBe(1);
      expect(has(cluster.calls(), "rollout", "undo")).toBe(false);
      expect(r.stdout).toContain("error: timed out waiting for the condition");
      expect(r.stdout).toContain("service NOT confirmed");
    },
    SLOW,
  );

  it(
    "reaches the Service through kubectl port-forward when asked to",
    async () => {
      await cluster.seed("1.0.0");
      const args = deployArgs(cluster, "1.1.0").filter((a, i, all) => a !== "--url" && all[i - 1] !== "--url");
      const r = await cluster.run("deploy", [...args, "--port-forward"]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(has(cluster.calls(), "port-forward", "service/transportation-api")).toBe(true);
    },
    SLOW,
  );

  it(
    "takes its inputs from INPUT_* variables inside GitHub Actions",
    async () => {
      await cluster.seed("1.0.0");
      const r = await cluster.run("deploy", ["--overlay", deployArgs(cluster, "x")[7]!, "--interval", "0.05"], {
        INPUT_ENVIRONMENT: "staging",
        INPUT_IMAGE: IMAGE,
        INPUT_VERSION: "1.2.0",
        INPUT_URL: cluster.url,
        "INPUT_MIGRATION-POLL": "0.05",
      });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.2.0`);
    },
    SLOW,
  );

  it(
    "refuses to touch the Deployment while restore-k8s.sh has it marked, and deploys once the mark is gone",
    async () => {
      await cluster.seed("1.0.0");
      // The very annotation restore-k8s.sh sets, set the way it sets it.
      const key = /^readonly RESTORE_ANNOTATION=(\S+)$/m.exec(
        readFileSync(join(REPO_ROOT, "deploy/scripts/restore-k8s.sh"), "utf8"),
      )?.[1];
      expect(key).toBe(RESTORE_ANNOTATION);
      const marked = await cluster.kubectl([
        "annotate",
        "deployment/transportation-api",
        `${key}=since=2025-01-01T02:00:00Z replicas=2`,
      ]);
      expect(marked.code, marked.stderr).toBe(0);
      cluster.clearCalls();

      const refused = await cluster.run("deploy", deployArgs(cluster, "1.1.0"));
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(
        /::error title=Deploy to staging refused - restore in progress::deployment\/transportation-api is being restored \(transportation-ai\.com\/restore-in-progress: since=2025-01-01T02:00:00Z replicas=2\)/,
      );
      expect(refused.outputs.result).toBe("refused"); // so the workflow's fallback rollback stays out of it
      expect(cluster.calls().some((c) => words(c)[0] !== "get")).toBe(false); // read only
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.0`);

      expect((await cluster.kubectl(["annotate", "deployment/transportation-api", `${key}-`])).code).toBe(0);
      const deployed = await cluster.run("deploy", deployArgs(cluster, "1.1.0"));
      expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.1.0`);
    },
    SLOW,
  );

  it(
    "refuses to start without a version, explaining the usage",
    async () => {
      const r = await cluster.run("deploy", ["--environment", "staging", "--image", IMAGE, "--url", cluster.url]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("missing --version");
      expect(cluster.calls()).toEqual([]);
    },
    SLOW,
  );
});

describe("rollback", () => {
  const rollbackArgs = (extra: string[] = []) => [
    "--environment",
    "production",
    "--reason",
    "bad fares in 1.2.0",
    "--url",
    cluster.url,
    "--interval",
    "0.05",
    "--gate-timeout",
    "15",
    ...extra,
  ];

  it(
    "rolls back to the previous revision and shows the history before and after",
    async () => {
      await cluster.seedPassed("1.0.0", "1.1.0", "1.2.0");
      const r = await cluster.run("rollback", rollbackArgs());
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.1.0`);
      expect(cluster.history()).toEqual({ 1: "1.0.0", 3: "1.2.0", 4: "1.1.0" });
      expect(r.outputs).toMatchObject({ changed: "true", revision: "4", "live-version": "1.1.0" });
      expect(r.summary).toContain("Rollout history before");
      expect(r.summary).toContain("Rollout history after");
      expect(r.summary).toContain("bad fares in 1.2.0");
      expect(r.summary).toMatch(/REVISION {2}CHANGE-CAUSE\n1 {9}deploy 1\.0\.0/);
    },
    SLOW,
  );

  it(
    "rolls back to a given revision, and a second run is a no-op that still verifies",
    async () => {
      await cluster.seed("1.0.0", "1.1.0", "1.2.0");
      const first = await cluster.run("rollback", rollbackArgs(["--to-revision", "1"]));
      expect(first.code, first.stdout + first.stderr).toBe(0);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.0`);
      expect(cluster.history()).toEqual({ 2: "1.1.0", 3: "1.2.0", 4: "1.0.0" });
      expect(first.stdout).toContain("deployment.apps/transportation-api rolled back");

      cluster.clearCalls();
      const again = await cluster.run("rollback", rollbackArgs(["--to-revision", "4"]));
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(has(cluster.calls(), "rollout", "undo")).toBe(false);
      expect(again.outputs.changed).toBe("false");
      expect(again.stdout).toContain("revision 4 (ghcr.io/acme/transportation-api:1.0.0) is already live");
      expect(cluster.history()).toEqual({ 2: "1.1.0", 3: "1.2.0", 4: "1.0.0" });
    },
    SLOW,
  );

  it(
    "refuses a revision that is not in the history and changes nothing",
    async () => {
      await cluster.seed("1.0.0", "1.1.0");
      const r = await cluster.run("rollback", rollbackArgs(["--to-revision", "9"]));
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        "::error title=Rollback refused::revision 9 is not in the rollout history (revisions: 1, 2)",
      );
      expect(has(cluster.calls(), "rollout", "undo")).toBe(false);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.1.0`);
    },
    SLOW,
  );

  it(
    "ends red when the revision it rolled back to fails its gate, records that, and names the way back",
    async () => {
      await cluster.seedPassed("1.0.0", "1.1.0");
      cluster.behave("1.0.0", { ready: false });
      const r = await cluster.run("rollback", rollbackArgs(["--gate-timeout", "1"]));
      expect(r.code).toBe(1);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.0`);
      expect(r.stdout).toMatch(
        /::error title=Rollback on production NOT confirmed::Rollback on production \(revision 2 → 1 \(now numbered 3\)\) did not end healthy: revision 1 \(ghcr\.io\/acme\/transportation-api:1\.0\.0\) failed its readiness gate: not ready within 1 s: \/ready answered 503.*It is live now and recorded as failed\. The revision live before is revision 2 \(ghcr\.io\/acme\/transportation-api:1\.1\.0\) \(passed its readiness gate\): to return to it, roll back with --to-revision 2\./,
      );
      expect(r.summary).toContain("rollback on production not confirmed healthy");
      expect(cluster.verdicts()).toEqual({ 2: "passed", 3: "failed" });

      // The way back it named works, and "previous" will not return to the revision that failed.
      const back = await cluster.run("rollback", rollbackArgs(["--to-revision", "2"]));
      expect(back.code, back.stdout + back.stderr).toBe(0);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.1.0`);
      cluster.clearCalls();
      const previous = await cluster.run("rollback", rollbackArgs());
      expect(previous.code).toBe(1);
      expect(previous.stdout).toContain("::error title=Rollback refused::no revision other than the live one");
      expect(has(cluster.calls(), "rollout", "undo")).toBe(false);
    },
    SLOW,
  );
});

describe("fake kubectl", () => {
  const replicaSet = (revision: number) => cluster.state().revisions.find((r) => r.revision === revision)!;

  it(
    "renumbers the restored revision on undo, keeps its ReplicaSet, and copies its annotations as kubectl does",
    async () => {
      await cluster.seed("1.0.0", "1.1.0");
      const first = replicaSet(1).name;
      expect(first).toMatch(/^transportation-api-[bcdfghjklmnpqrstvwxz2456789]+$/);
      expect((await cluster.kubectl(["annotate", `rs/${first}`, "example.com/note=kept"])).code).toBe(0);

      const undo = await cluster.kubectl(["rollout", "undo", "deployment/transportation-api", "--to-revision=1"]);
      expect(undo.stdout.trim()).toBe("deployment.apps/transportation-api rolled back");
      // The restored template's ReplicaSet gets max+1; the one undone keeps its number.
      expect(cluster.history()).toEqual({ 2: "1.1.0", 3: "1.0.0" });
      expect(replicaSet(3).name).toBe(first);

      const got = await cluster.kubectl(["get", `rs/${first}`, "-o", "json"]);
      const rs = JSON.parse(got.stdout);
      expect(rs.metadata.annotations).toMatchObject({
        "deployment.kubernetes.io/revision": "3",
        "deployment.kubernetes.io/revision-history": "1",
        "kubernetes.io/change-cause": "deploy 1.0.0",
        "example.com/note": "kept",
      });
      expect(rs.metadata.labels["pod-template-hash"]).toBe(first.replace("transportation-api-", ""));
      // The Deployment's annotations are now the ReplicaSet's (kubectl's rollback patch)…
      const deployment = JSON.parse(
        (await cluster.kubectl(["get", "deployment/transportation-api", "-o", "json"])).stdout,
      );
      expect(deployment.metadata.annotations).toEqual({
        "deployment.kubernetes.io/revision": "3",
        "kubernetes.io/change-cause": "deploy 1.0.0",
        "example.com/note": "kept",
      });
      // …and an apply that never set that one leaves it, so the next new ReplicaSet inherits it.
      await cluster.seed("1.2.0");
      expect(replicaSet(4).annotations["example.com/note"]).toBe("kept");
    },
    SLOW,
  );

  it(
    "annotates a ReplicaSet, refusing to overwrite a value without --overwrite, and removes with KEY-",
    async () => {
      await cluster.seed("1.0.0");
      const name = replicaSet(1).name;
      const key = "transportation-ai.com/readiness-gate";
      expect((await cluster.kubectl(["annotate", `replicaset/${name}`, `${key}=failed`])).stdout.trim()).toBe(
        `replicaset.apps/${name} annotated`,
      );
      const clash = await cluster.kubectl(["annotate", `rs/${name}`, `${key}=passed`]);
      expect(clash.code).toBe(1);
      expect(clash.stderr.trim()).toBe(
        `error: --overwrite is false but found the following declared annotation(s): '${key}' already has a value (failed)`,
      );
      expect((await cluster.kubectl(["annotate", `rs/${name}`, `${key}=passed`, "--overwrite"])).code).toBe(0);
      const list = JSON.parse(
        (await cluster.kubectl(["get", "replicasets", "--selector", "app=transportation-api", "-o", "json"])).stdout,
      );
      expect(list.items[0].metadata.annotations[key]).toBe("passed");
      await cluster.kubectl(["annotate", `rs/${name}`, `${key}-`]);
      expect(replicaSet(1).annotations[key]).toBeUndefined();
      const missing = await cluster.kubectl(["annotate", "rs/transportation-api-none", `${key}=passed`]);
      expect(missing.stderr.trim()).toBe(
        'Error from server (NotFound): replicasets.apps "transportation-api-none" not found',
      );
    },
    SLOW,
  );

  it(
    "copies the Deployment's annotations onto the current ReplicaSet on every sync, over what it had",
    async () => {
      await cluster.seed("1.0.0");
      const name = replicaSet(1).name;
      await cluster.kubectl(["annotate", "deployment/transportation-api", "example.com/owner=deployment"]);
      expect(replicaSet(1).annotations["example.com/owner"]).toBe("deployment");
      await cluster.kubectl(["annotate", `rs/${name}`, "example.com/owner=replicaset", "--overwrite"]);
      expect(replicaSet(1).annotations["example.com/owner"]).toBe("deployment");
      // Removing it from the Deployment does not remove it from the ReplicaSet.
      await cluster.kubectl(["annotate", "deployment/transportation-api", "example.com/owner-"]);
      expect(replicaSet(1).annotations["example.com/owner"]).toBe("deployment");
    },
    SLOW,
  );

  it(
    "restarts on the same image as a new revision, and refuses a second restart within the same second",
    async () => {
      await cluster.seed("1.0.0");
      const restart = (now: string) =>
        cluster.kubectl(["rollout", "restart", "deployment/transportation-api"], undefined, { FAKE_KUBECTL_NOW: now });
      const first = await restart("2026-03-01T04:05:06.100Z");
      expect(first.stdout.trim()).toBe("deployment.apps/transportation-api restarted");
      expect(cluster.history()).toEqual({ 1: "1.0.0", 2: "1.0.0" });
      const template = cluster.state().revisions.find((r) => r.revision === 2)!.template as {
        metadata?: { annotations?: Record<string, string> };
      };
      // kubectl writes time.Now() as RFC 3339, to the second
      expect(template.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"]).toBe("2026-03-01T04:05:06Z");
      // the new ReplicaSet carries the Deployment's annotations, like any new revision
      expect(replicaSet(2).annotations["kubernetes.io/change-cause"]).toBe("deploy 1.0.0");

      const again = await restart("2026-03-01T04:05:06.900Z");
      expect(again.code).toBe(1);
      expect(again.stderr.trim()).toBe(
        "error: failed to create patch for transportation-api: if restart has already been triggered within the past second, please wait before attempting to trigger another",
      );
      expect(cluster.history()).toEqual({ 1: "1.0.0", 2: "1.0.0" });
      expect((await restart("2026-03-01T04:05:07.000Z")).code).toBe(0);
      expect(cluster.history()).toEqual({ 1: "1.0.0", 2: "1.0.0", 3: "1.0.0" });
    },
    SLOW,
  );

  it(
    "applies every object it can and reports the ones the server refused at the end, exiting 1",
    async () => {
      const job = (image: string) =>
        `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"once"},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"${image}"}]}}}}`;
      const configMap = (value: string) =>
        `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"key":"${value}"}}`;
      expect((await cluster.kubectl(["apply", "-f", "-"], `${job("a:1")}\n---\n${configMap("1")}`)).code).toBe(0);

      const r = await cluster.kubectl(["apply", "-f", "-"], `${job("a:2")}\n---\n${configMap("2")}`);
      expect(r.code).toBe(1);
      expect(r.stdout.trim()).toBe("configmap/settings configured");
      expect(r.stderr.trim()).toBe(
        'Error from server (Invalid): error when applying patch: The Job "once" is invalid: spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable',
      );
      const got = JSON.parse((await cluster.kubectl(["get", "configmap/settings", "-o", "json"])).stdout);
      expect(got.data).toEqual({ key: "2" });
      expect(got.metadata).toMatchObject({ name: "settings", namespace: "transportation-system" });
      expect(cluster.state().jobs?.once?.image).toBe("a:1");
    },
    SLOW,
  );

  it(
    "answers like kubectl for an undo to a revision it does not have",
    async () => {
      await cluster.seed("1.0.0");
      const r = await runProcess(
        `${fakeKubectlDir}/kubectl`,
        ["rollout", "undo", "deployment/transportation-api", "--to-revision=9", "--namespace", "transportation-system"],
        { env: cluster.env() },
      );
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe("error: unable to find specified revision 9 in history");
    },
    SLOW,
  );
});
