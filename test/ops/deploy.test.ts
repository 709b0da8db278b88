// deploy and rollback against the fake kubectl: the command sequences, what is live afterwards, the
// step outputs, the error annotation and the job summary a person sees.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deployArgs, FakeCluster, IMAGE } from "./harness";

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
      await cluster.seed("1.0.0", "1.1.0", "1.2.0");
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
    "fails when the revision it rolled back to does not become ready",
    async () => {
      await cluster.seed("1.0.0", "1.1.0");
      cluster.behave("1.0.0", { ready: false });
      const r = await cluster.run("rollback", rollbackArgs(["--gate-timeout", "2"]));
      expect(r.code).toBe(1);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.0`);
      expect(r.stdout).toMatch(/::error title=Rollback on production NOT confirmed::.*\/ready answered 503/);
    },
    SLOW,
  );
});

describe("fake kubectl", () => {
  it(
    "answers like kubectl for an undo to a revision it does not have",
    async () => {
      await cluster.seed("1.0.0");
      const { runProcess, fakeKubectlDir } = await import("./harness");
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
