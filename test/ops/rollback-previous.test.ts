// "Roll back to the previous revision" after real deploys against the fake kubectl, which renumbers
// revisions and copies annotations the way Kubernetes does: the release that just failed and was
// undone is never the "previous" one, a revision that failed needs --force, revisions without a
// recorded verdict are only taken when named, and a verdict never leaks onto the next release.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RESTORE_ANNOTATION } from "../../scripts/ops/lib/restore-guard";
import { GATE_ANNOTATION } from "../../scripts/ops/lib/rollout";
import { REPO_ROOT } from "../support/repo";
import { deployArgs, FakeCluster, IMAGE } from "./harness";

const SLOW = 90_000; // several deploys and rollbacks, each a bun process and a dozen fake kubectl calls
let cluster: FakeCluster;
beforeEach(async () => {
  cluster = new FakeCluster();
  await cluster.start();
});
afterEach(async () => {
  await cluster.stop();
});

const undos = () => cluster.calls().filter((c) => c[0] === "rollout" && c[1] === "undo");
const rollbackArgs = (extra: string[] = []) => [
  "--environment",
  "staging",
  "--reason",
  "rehearsing",
  "--url",
  cluster.url,
  "--interval",
  "0.05",
  "--gate-timeout",
  "15",
  ...extra,
];

/** deploy.ts for one version; a version set up not to become ready fails its gate within 1 s. */
async function deploy(tag: string, expectedCode: number) {
  const r = await cluster.run("deploy", deployArgs(cluster, tag, ["--gate-timeout", "1"]));
  expect(r.code, r.stdout + r.stderr).toBe(expectedCode);
  return r;
}

describe("rollback to the previous revision", () => {
  it(
    "after a failed release was undone, stays on the good version instead of redeploying the failed one",
    async () => {
      await deploy("1.0.0", 0);
      cluster.behave("1.1.0", { ready: false });
      const failed = await deploy("1.1.0", 1);
      expect(failed.outputs).toMatchObject({ result: "rolled-back", "live-version": "1.0.0" });
      // Kubernetes renumbered the restored revision above the failed one.
      expect(cluster.history()).toEqual({ 2: "1.1.0", 3: "1.0.0" });
      expect(cluster.verdicts()).toEqual({ 2: "failed", 3: "passed" });

      cluster.clearCalls();
      const r = await cluster.run("rollback", rollbackArgs());
      expect(r.code).toBe(1);
      expect(undos()).toEqual([]);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.0`);
      expect(r.stdout).toContain(
        `::error title=Rollback refused::no revision other than the live one (revision 3 (${IMAGE}:1.0.0)) passed its readiness gate: revision 2 (${IMAGE}:1.1.0) failed. Name one with --to-revision (one that failed also needs --force)`,
      );
    },
    SLOW,
  );

  it(
    "goes to the newest other revision that passed, passing over the failed one",
    async () => {
      await deploy("1.0.0", 0);
      await deploy("1.1.0", 0);
      cluster.behave("1.2.0", { ready: false });
      await deploy("1.2.0", 1);
      expect(cluster.history()).toEqual({ 1: "1.0.0", 3: "1.2.0", 4: "1.1.0" });
      expect(cluster.verdicts()).toEqual({ 1: "passed", 3: "failed", 4: "passed" });

      cluster.clearCalls();
      const r = await cluster.run("rollback", rollbackArgs());
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(undos()[0]).toContain("--to-revision=1");
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.0`);
      expect(r.stdout).toContain(`passing over revision 3 (${IMAGE}:1.2.0): failed its readiness gate (`);
      expect(r.outputs).toMatchObject({ changed: "true", revision: "5", "live-version": "1.0.0" });
      expect(cluster.verdicts()).toEqual({ 3: "failed", 4: "passed", 5: "passed" });
    },
    SLOW,
  );

  it(
    "refuses a revision that failed its gate unless forced, and records what the forced one does",
    async () => {
      await deploy("1.0.0", 0);
      cluster.behave("1.1.0", { ready: false });
      await deploy("1.1.0", 1);

      cluster.clearCalls();
      // As the workflow passes an unticked boolean input.
      const refused = await cluster.run("rollback", rollbackArgs(["--to-revision", "2"]), { INPUT_FORCE: "false" });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(
        /::error title=Rollback refused::revision 2 \(ghcr\.io\/acme\/transportation-api:1\.1\.0\) failed its readiness gate \(\d{4}-\d\d-\d\dT[\d:.]+Z deploy 1\.1\.0 failed at readiness gate: not ready within 1 s: \/ready answered 503.*\); add --force to roll back to it anyway/,
      );
      expect(refused.outputs.changed).toBe("false");
      expect(undos()).toEqual([]);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.0`);

      // The operator knows better (the fault was elsewhere and is fixed): forced, gated, recorded.
      cluster.behave("1.1.0", {});
      const forced = await cluster.run("rollback", rollbackArgs(["--to-revision", "2", "--force"]));
      expect(forced.code, forced.stdout + forced.stderr).toBe(0);
      expect(forced.stdout).toContain(`forced: revision 2 (${IMAGE}:1.1.0) failed its readiness gate (`);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.1.0`);
      expect(cluster.verdicts()).toEqual({ 3: "passed", 4: "passed" });
    },
    SLOW,
  );

  it(
    "treats revisions deployed before verdicts were recorded as unknown: named, never picked on their own",
    async () => {
      await cluster.seed("1.0.0", "1.1.0", "1.2.0");
      const r = await cluster.run("rollback", rollbackArgs());
      expect(r.code).toBe(1);
      expect(undos()).toEqual([]);
      expect(r.stdout).toContain(
        `::error title=Rollback refused::no revision other than the live one (revision 3 (${IMAGE}:1.2.0)) passed its readiness gate: revision 1 (${IMAGE}:1.0.0) has no gate on record, revision 2 (${IMAGE}:1.1.0) has no gate on record. Name one with --to-revision`,
      );
      expect(r.stdout).toMatch(/REVISION {2}GATE {5}IMAGE\n1 {9}- {8}ghcr/);

      const named = await cluster.run("rollback", rollbackArgs(["--to-revision", "2"]));
      expect(named.code, named.stdout + named.stderr).toBe(0);
      expect(named.stdout).toContain(
        `revision 2 (${IMAGE}:1.1.0) has no readiness gate on record; the gate after the rollback decides`,
      );
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.1.0`);
      expect(cluster.verdicts()).toEqual({ 1: "-", 3: "-", 4: "passed" });
    },
    SLOW,
  );

  it(
    "takes a revision an operator vouched for with the command docs/operations.md gives",
    async () => {
      await cluster.seed("1.0.0", "1.1.0", "1.2.0");
      const command = readFileSync(join(REPO_ROOT, "docs/operations.md"), "utf8")
        .split("\n")
        .find((line) => line.startsWith("kubectl annotate rs/<replicaset> "));
      expect(command).toBeDefined();
      const replicaSet = cluster.state().revisions.find((r) => r.revision === 1)!.name;
      const vouched = await cluster.kubectl(command!.replace("<replicaset>", replicaSet).split(" ").slice(1));
      expect(vouched.code, vouched.stderr).toBe(0);

      // Revision 2 has no verdict, so "previous" goes past it to the one vouched for.
      const r = await cluster.run("rollback", rollbackArgs());
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`passing over revision 2 (${IMAGE}:1.1.0): no readiness gate on record`);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.0`);
    },
    SLOW,
  );

  it(
    "keeps a verdict copied by an undo off the next release: its failure is recorded as a failure",
    async () => {
      await deploy("1.0.0", 0);
      cluster.behave("1.1.0", { ready: false });
      await deploy("1.1.0", 1);
      // The automatic undo copied revision 1's "passed" onto the Deployment and took it off again.
      expect(cluster.state().deployment?.annotations[GATE_ANNOTATION]).toBeUndefined();

      cluster.behave("1.2.0", { ready: false });
      await deploy("1.2.0", 1);
      expect(cluster.history()).toEqual({ 2: "1.1.0", 4: "1.2.0", 5: "1.0.0" });
      expect(cluster.verdicts()).toEqual({ 2: "failed", 4: "failed", 5: "passed" });
    },
    SLOW,
  );

  it(
    "keeps a verdict that a hand-run kubectl undo left on the Deployment off the next release",
    async () => {
      await deploy("1.0.0", 0);
      await deploy("1.1.0", 0);
      // Someone rolls back by hand: kubectl copies revision 1's annotations, "passed" included.
      const undo = await cluster.kubectl(["rollout", "undo", "deployment/transportation-api", "--to-revision=1"]);
      expect(undo.code, undo.stderr).toBe(0);
      expect(cluster.state().deployment?.annotations[GATE_ANNOTATION]).toBe("passed");

      cluster.behave("1.2.0", { ready: false });
      await deploy("1.2.0", 1);
      expect(cluster.history()).toEqual({ 2: "1.1.0", 4: "1.2.0", 5: "1.0.0" });
      expect(cluster.verdicts()).toEqual({ 2: "passed", 4: "failed", 5: "passed" });
      expect(cluster.state().deployment?.annotations[GATE_ANNOTATION]).toBeUndefined();
    },
    SLOW,
  );
});

// kubectl's undo replaces the Deployment's annotations with the restored ReplicaSet's, and the
// controller has copied restore-k8s.sh's mark onto the ReplicaSet that was live while it was set.
describe("restore-k8s.sh's mark through a rollback", () => {
  const mark = () => cluster.state().deployment?.annotations[RESTORE_ANNOTATION];
  const setMark = async () => {
    const r = await cluster.kubectl(["annotate", "deployment/transportation-api", `${RESTORE_ANNOTATION}=${MARK}`]);
    expect(r.code, r.stderr).toBe(0);
  };
  const MARK = "since=2026-01-01T02:00:00Z replicas=2 backup=transportation_db_20260101_020000.dump by=ops@host";

  it(
    "keeps the mark on a Deployment that is being restored, so no deploy scales it up afterwards",
    async () => {
      await deploy("1.0.0", 0);
      await deploy("1.1.0", 0);
      await setMark(); // revision 1's ReplicaSet has never seen it
      const r = await cluster.run("rollback", rollbackArgs());
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.0`);
      expect(mark()).toBe(MARK);
      const refused = await cluster.run("deploy", deployArgs(cluster, "1.2.0"));
      expect(refused.outputs.result).toBe("refused");
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.0`);
    },
    SLOW,
  );

  it(
    "does not bring back the mark of a restore that is over with the revision that was live during it",
    async () => {
      await deploy("1.0.0", 0);
      await setMark(); // the controller copies it onto revision 1's ReplicaSet, where it stays
      expect(
        (await cluster.kubectl(["annotate", "deployment/transportation-api", `${RESTORE_ANNOTATION}-`])).code,
      ).toBe(0);
      expect(cluster.state().revisions.find((r) => r.revision === 1)?.annotations[RESTORE_ANNOTATION]).toBe(MARK);
      await deploy("1.1.0", 0);

      const r = await cluster.run("rollback", rollbackArgs());
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(cluster.liveImage()).toBe(`${IMAGE}:1.0.0`);
      expect(mark()).toBeUndefined();
      await deploy("1.2.0", 0);
    },
    SLOW,
  );
});
