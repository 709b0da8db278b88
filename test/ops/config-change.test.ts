// A configuration change as docs/operations.md tells an operator to make it, run as written against the
// fake kubectl, on a "live" cluster that the real deploy put a release into from the real production
// overlay (rendered by the real `kubectl kustomize`). The release that runs must stay the one that runs.

import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { docBlocks } from "../support/docs";
import { REPO_ROOT } from "../support/repo";
import { runProcess } from "../support/run";
import { FakeCluster } from "./harness";

const SLOW = 120_000;
const REPOSITORY = "ghcr.io/transportation-ai/transportation-api";
const DIGEST = `sha256:${"5e1f".repeat(16)}`;
const LIVE = `${REPOSITORY}:1.4.0@${DIGEST}`;

const realKubectl = spawnSync("bash", ["-c", "command -v kubectl"], { encoding: "utf8" }).stdout.trim();

/** A checkout of its own: the deploy/ folder copied (the test edits it), the code linked. */
function checkout(): string {
  const dir = mkdtempSync(join(tmpdir(), "tapi-checkout-"));
  cpSync(join(REPO_ROOT, "deploy"), join(dir, "deploy"), { recursive: true });
  for (const entry of ["package.json", "node_modules", "scripts", "src", "config.yaml"])
    symlinkSync(join(REPO_ROOT, entry), join(dir, entry));
  return dir;
}

describe.skipIf(!realKubectl)("a configuration change, as documented", () => {
  let cluster: FakeCluster;
  let dir: string;
  const env = () => ({ FAKE_REAL_KUBECTL: realKubectl });

  beforeEach(async () => {
    cluster = new FakeCluster();
    await cluster.start();
    dir = checkout();
    // The live state: release 1.4.0 deployed by digest from the committed production overlay.
    const deployed = await cluster.run(
      "deploy",
      [
        ...["--environment", "production", "--image", REPOSITORY, "--version", "1.4.0", "--digest", DIGEST],
        ...["--port-forward", "--interval", "0.05", "--migration-poll", "0.05"],
        // The live state only: production's 2-minute analysis window is not what this test is about.
        ...["--analysis-window", "0"],
      ],
      env(),
      dir,
    );
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    expect(cluster.liveImage()).toBe(LIVE);
    cluster.clearCalls();
  }, SLOW);
  afterEach(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const editConfig = (from: string, to: string) => {
    const file = join(dir, "deploy/k8s/base/config.yaml");
    const text = readFileSync(file, "utf8");
    expect(text).toContain(from);
    writeFileSync(file, text.replace(from, to));
  };
  const runDocs = () => {
    const [block] = docBlocks("docs/operations.md", "Configuration change");
    return runProcess("bash", ["-euo", "pipefail", "-c", block!], { cwd: dir, env: cluster.env(env()) });
  };

  it(
    "ships the new ConfigMap and restarts the pods on the image that was live",
    async () => {
      editConfig("statement_timeout: 10", "statement_timeout: 12");
      const r = await runDocs();
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(cluster.object("ConfigMap/transportation-config")).toContain("statement_timeout: 12");
      // Same image, one new revision: the restart.
      expect(cluster.liveImage()).toBe(LIVE);
      expect(cluster.history()).toEqual({ 1: "1.4.0", 2: "1.4.0" });
      const live = cluster.state().revisions.find((rev) => rev.revision === 2) as unknown as {
        template: { metadata: { annotations: Record<string, string> } };
      };
      expect(live.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]).toBeTruthy();
      // The restart passed its gate, so a later rollback to "the previous revision" may choose it; the
      // release's own revision keeps its CHANGE-CAUSE (the controller copies the Deployment's
      // annotations onto the ReplicaSet that is current when they change).
      expect(cluster.verdicts()).toEqual({ 1: "passed", 2: "passed" });
      const causes = Object.fromEntries(
        cluster.state().revisions.map((rev) => [rev.revision, rev.annotations["kubernetes.io/change-cause"]]),
      );
      expect(causes[1]).toMatch(/^deploy 1\.4\.0, /);
      expect(causes[2]).toMatch(/^configuration change /);
      // The Deployment and the migration Job were never applied.
      const applied = cluster.calls().filter((c) => c[0] === "apply");
      expect(applied.length).toBeGreaterThan(0);
      expect(cluster.calls().some((c) => c.includes("job/transportation-migrate"))).toBe(false);
      expect(r.stdout).toContain("configuration applied to production, 1.4.0 kept");
      expect(r.stdout).toMatch(/gate passed: \/ready 200 and version 1\.4\.0 3 times in a row/);
    },
    SLOW,
  );

  it(
    "puts the previous configuration and revision back when the new one keeps pods from starting",
    async () => {
      const data = () => parse(cluster.object("ConfigMap/transportation-config") ?? "").data;
      const before = data();
      // Whatever pool the committed ConfigMap sets, a pool of 0 keeps the pods from starting.
      const committed = /pool_size: \d+/.exec(readFileSync(join(REPO_ROOT, "deploy/k8s/base/config.yaml"), "utf8"))![0];
      editConfig(committed, "pool_size: 0");
      cluster.breakOnConfig("pool_size: 0");
      const r = await runDocs();
      expect(r.code).toBe(1);
      expect(cluster.object("ConfigMap/transportation-config")).toContain(committed);
      expect(data()).toEqual(before);
      expect(cluster.liveImage()).toBe(LIVE);
      // revision 1's template is live again (renumbered 3 by the undo, as kubectl does)
      expect(cluster.history()).toEqual({ 2: "1.4.0", 3: "1.4.0" });
      // the restart that failed is never "the previous revision"; the one restored served again
      expect(cluster.verdicts()).toEqual({ 2: "failed", 3: "passed" });
      expect(r.stdout + r.stderr).toMatch(
        /Configuration change on production failed - previous configuration serving.*failed at rollout/,
      );
    },
    SLOW,
  );

  it("the committed overlays name no image that could run", () => {
    for (const overlay of ["staging", "production"]) {
      const out = execFileSync(realKubectl, ["kustomize", join(REPO_ROOT, "deploy/k8s/overlays", overlay)], {
        encoding: "utf8",
      });
      const appImages = [...out.matchAll(/image: (\S*transportation-api\S*)/g)].map((m) => m[1]);
      expect(appImages.length).toBe(3); // the Deployment, the migration Job and the feed refresh CronJob
      for (const image of appImages) expect(image).toBe(`${REPOSITORY}@sha256:${"0".repeat(64)}`);
    }
  });
});
