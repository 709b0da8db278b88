// deploy/scripts/restore-k8s.sh: the command sequence against the fake kubectl of test/ops (no cluster
// here; it answers as kubectl does, sources in fake-kubectl.ts), with a real PostgreSQL behind --local so
// the restore in the middle is real too.
import { spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectlMissingReason, parseManifests, renderOverlay } from "../../scripts/k8s/manifests";
import { policyFindings } from "../../scripts/k8s/policy";
import { schemaErrors } from "../../scripts/k8s/schema";
import { eventually } from "../support/app-server";
import { postgresBinDir } from "../support/processes";
import { BUN } from "../support/repo";
import { runProcess } from "../support/run";
import { createTestDatabase, stopPrivateServers, type TestDatabase } from "../support/services";
import {
  dumpsIn,
  FAKE_KUBECTL,
  FakeKubectlState,
  fakeKubectlBin,
  fingerprint,
  loadProjectDatabase,
  query,
  SCRIPTS,
  script,
  tempDir,
} from "./helpers";

// biome-ignore lint/suspicious/noExplicitAny: tests poke at untyped manifests.
type Any = any;

interface Cluster {
  dir: string;
  calls(): string[];
  called(): boolean;
  replicas(): string;
  applied(): string[];
  /** The Deployment's restore mark, "" when absent. */
  mark(): string;
  /** How the cluster behaves (see fake-kubectl.ts). */
  behave(b: { podsLinger?: number; job?: "complete" | "fail" | "running"; rollout?: "stall" }): void;
  /** A restore Job that still runs, left by an earlier run; finish() ends it. */
  runningJob(): { finish(): void };
}

const MARK = "transportation-ai.com/restore-in-progress";
const READ_MARK =
  "get deployment transportation-api -o jsonpath={.metadata.annotations.transportation-ai\\.com/restore-in-progress}";
const UNMARK = `annotate deployment/transportation-api ${MARK}-`;
const API_IMAGE = "ghcr.io/acme/transportation-api:1.0.0";
/** The restore Job's image: restore-k8s.sh's default. */
const JOB_IMAGE = /^image=(\S+)$/m.exec(readFileSync(join(SCRIPTS, "restore-k8s.sh"), "utf8"))![1]!;

async function fakeCluster(replicas = 3): Promise<Cluster> {
  const fake = new FakeKubectlState();
  await fake.seed(
    "transportation-system",
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: transportation-api }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: transportation-api } }
  template:
    metadata: { labels: { app: transportation-api } }
    spec: { containers: [{ name: api, image: "${API_IMAGE}" }] }
`,
  );
  return {
    dir: fake.dir,
    calls: () => fake.calls(),
    called: () => fake.called(),
    replicas: () => String(fake.state().deployment.replicas),
    applied: () => fake.applied(),
    mark: () => fake.state().deployment.annotations[MARK] ?? "",
    behave: ({ podsLinger, job, rollout }) =>
      fake.behave({
        podsLinger,
        images: { [JOB_IMAGE]: { migration: job }, [API_IMAGE]: { rollout } },
      }),
    runningJob() {
      const state = fake.state();
      state.jobs["transportation-restore-20250101020000"] = {
        metadata: { labels: { app: "transportation-restore" } },
        template: {},
        image: JOB_IMAGE,
        status: { active: 1 },
      };
      fake.save(state);
      return {
        finish() {
          const s = fake.state();
          s.jobs["transportation-restore-20250101020000"].status = { succeeded: 1 };
          fake.save(s);
        },
      };
    },
  };
}

const missingKubectl = kubectlMissingReason();
if (missingKubectl) console.warn(`SKIPPED restore Job policy check: ${missingKubectl}`);
const itWithKubectl = missingKubectl ? it.skip : it;

/** The calls with the namespace flag stripped, so assertions read like the procedure. */
const steps = (c: Cluster) => c.calls().map((l) => l.replace(/^--namespace transportation-(system|backup) /, ""));

describe("restore-k8s.sh", () => {
  let db: TestDatabase;
  let backup: string;
  let bin: string;
  const cleanup: string[] = [];
  const cluster = async (replicas?: number) => {
    const c = await fakeCluster(replicas);
    cleanup.push(c.dir);
    return c;
  };
  const restoreK8s = (c: Cluster, args: string[], env: Record<string, string> = {}) =>
    script("restore-k8s.sh", args, { PATH_PREFIX: bin, FAKE_KUBECTL_STATE: c.dir, BUN, POLL_INTERVAL: "0", ...env });

  beforeAll(async () => {
    bin = fakeKubectlBin();
    cleanup.push(bin);
    db = await createTestDatabase("k8srestore");
    await loadProjectDatabase(db.url, 2_000);
    const dir = tempDir("k8sbackups");
    cleanup.push(dir);
    const result = await script("backup.sh", [], { DATABASE_URL: db.url, BACKUP_DIR: dir });
    expect(result.code).toBe(0);
    backup = join(dir, dumpsIn(dir)[0]!);
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
    for (const d of cleanup) rmSync(d, { recursive: true, force: true });
    await stopPrivateServers();
  }, 60_000);

  it("stops the API, restores, scales back to the previous count and waits for the rollout", async () => {
    const before = await fingerprint(db.url);
    await query(db.url, "delete from stop_times; update stops set stop_name = 'changed'");
    const c = await cluster(3);
    const result = await restoreK8s(c, ["--local", backup], { DATABASE_URL: db.url });
    expect(result.stderr).toContain("restore of");
    expect(result.code).toBe(0);
    expect(await fingerprint(db.url)).toEqual(before);
    const s = steps(c);
    expect(s.slice(0, 2)).toEqual(["get deployment transportation-api -o jsonpath={.spec.replicas}", READ_MARK]);
    // marked before anything stops, with the count to come back to
    expect(s[2]).toMatch(
      new RegExp(
        `^annotate deployment/transportation-api ${MARK}=since=\\S+ replicas=3 backup=transportation_db_\\d{8}_\\d{6}\\.dump by=\\S+$`,
      ),
    );
    expect(s.slice(3)).toEqual([
      "scale deployment/transportation-api --replicas=0",
      // polled until the pods are gone (the fake shows them once more after the scale-down)
      "get pods -l app=transportation-api -o name",
      "get pods -l app=transportation-api -o name",
      "scale deployment/transportation-api --replicas=3",
      "rollout status deployment/transportation-api --timeout=600s",
      UNMARK,
    ]);
    expect(c.calls().every((l) => l.startsWith("--namespace transportation-system "))).toBe(true);
    expect(c.replicas()).toBe("3");
    expect(c.mark()).toBe("");
  }, 60_000);

  it("scales back even when the restore fails, and the database stays as it was", async () => {
    const truncated = join(tempDir("trunc"), "transportation_db_20200101_020000.dump");
    cleanup.push(join(truncated, ".."));
    writeFileSync(truncated, readFileSync(backup).subarray(0, 1500));
    await query(db.url, "update routes set route_type = 7");
    const before = await fingerprint(db.url);
    const c = await cluster(4);
    const result = await restoreK8s(c, ["--local", truncated, "--context", "prod-eu"], { DATABASE_URL: db.url });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/restore failed/);
    expect(await fingerprint(db.url)).toEqual(before);
    const s = c.calls();
    expect(s.every((l) => l.startsWith("--namespace transportation-system --context prod-eu "))).toBe(true);
    expect(s.at(-3)).toMatch(/scale deployment\/transportation-api --replicas=4$/);
    expect(s.at(-2)).toMatch(/rollout status deployment\/transportation-api/);
    expect(s.at(-1)).toMatch(new RegExp(`${UNMARK}$`));
    expect(c.replicas()).toBe("4");
  }, 60_000);

  it("runs an in-cluster restore Job that reads the backup volume", async () => {
    const c = await cluster(3);
    const name = "transportation_db_20250101_020000.dump";
    const result = await restoreK8s(c, [name, "--timeout", "120"]);
    expect(result.code).toBe(0);
    const s = steps(c);
    expect(s[3]).toBe("scale deployment/transportation-api --replicas=0");
    const apply = s.indexOf("apply -f -");
    expect(apply).toBeGreaterThan(s.lastIndexOf("get pods -l app=transportation-api -o name"));
    expect(s[apply + 1]).toMatch(/^get job transportation-restore-\d{14} -o jsonpath=/);
    expect(s.slice(-3)).toEqual([
      "scale deployment/transportation-api --replicas=3",
      "rollout status deployment/transportation-api --timeout=120s",
      UNMARK,
    ]);

    // The Job runs in the backup namespace, next to the volume; the Deployment is the application's.
    const jobCall = (call: string) => / (apply -f -|get job |logs job\/)/.test(call);
    for (const call of c.calls())
      expect(call).toMatch(
        jobCall(call) ? /^--namespace transportation-backup / : /^--namespace transportation-system /,
      );
    const [manifest] = c.applied();
    const [job] = parseManifests(manifest!) as Any[];
    expect(job.kind).toBe("Job");
    expect(job.metadata.namespace).toBe("transportation-backup");
    expect(job.spec.backoffLimit).toBe(0); // a restore is never retried on its own
    // The script's own timeout (120 s) stops the Job first, so it decides what happens to the API.
    expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(120);
    expect(job.spec.template.spec.containers[0].command).toEqual([
      "bash",
      "/opt/transportation/scripts/restore.sh",
      `/backups/${name}`,
    ]);
    expect(schemaErrors([job])).toEqual([]);
  }, 60_000);

  itWithKubectl(
    "builds a restore Job that passes the policy checks next to the rendered production backups",
    async () => {
      const c = await cluster(3);
      expect((await restoreK8s(c, ["latest"])).code).toBe(0);
      const [job] = parseManifests(c.applied()[0]!);
      // Its volumes must name the PVC and ConfigMap that production's backups render, a policy must let it
      // reach PostgreSQL, and it must be locked down.
      expect(policyFindings([...renderOverlay("backup-production"), job!])).toEqual([]);
    },
    60_000,
  );

  it("scales back when interrupted while waiting for the pods to stop", async () => {
    const c = await cluster(5);
    c.behave({ podsLinger: 1_000_000 }); // the pods never go away
    const child = spawn("bash", [join(SCRIPTS, "restore-k8s.sh"), "latest"], {
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        FAKE_KUBECTL_STATE: c.dir,
        BUN,
        POLL_INTERVAL: "0.05",
      },
      stdio: "ignore",
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!c.called() || !c.calls().some((l) => l.includes("get pods"))) {
      if (Date.now() > deadline) throw new Error("restore-k8s.sh never started polling the pods");
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(steps(c).slice(-3)).toEqual([
      "scale deployment/transportation-api --replicas=5",
      "rollout status deployment/transportation-api --timeout=600s",
      UNMARK,
    ]);
    expect(steps(c).some((l) => l.startsWith("apply"))).toBe(false); // never got to the restore
    expect(c.replicas()).toBe("5");
    expect(c.mark()).toBe("");
  }, 60_000);

  it("fails when the restore Job fails, after scaling back", async () => {
    const c = await cluster(2);
    c.behave({ job: "fail" });
    const result = await restoreK8s(c, ["latest"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/job\/transportation-restore-\d+ failed/);
    expect(steps(c).slice(-3)).toEqual([
      "scale deployment/transportation-api --replicas=2",
      "rollout status deployment/transportation-api --timeout=600s",
      UNMARK,
    ]);
  }, 60_000);

  it("fails when the API does not become ready again", async () => {
    const c = await cluster(3);
    c.behave({ rollout: "stall" });
    const result = await restoreK8s(c, ["latest"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/did not become ready/);
  }, 60_000);

  it("refuses to start when the Deployment already stands at 0, unless told the count", async () => {
    const c = await cluster(0);
    const refused = await restoreK8s(c, ["latest"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/already stands at 0 replicas/);
    expect(steps(c)).toEqual(["get deployment transportation-api -o jsonpath={.spec.replicas}", READ_MARK]);

    const told = await restoreK8s(c, ["latest", "--replicas", "3"]);
    expect(told.code).toBe(0);
    expect(c.replicas()).toBe("3");
  }, 60_000);

  /** restore-k8s.sh as a child process, to signal it mid-way. */
  function startRestoreK8s(c: Cluster, args: string[], env: Record<string, string> = {}) {
    const child = spawn("bash", [join(SCRIPTS, "restore-k8s.sh"), ...args], {
      env: {
        ...process.env,
        PATH: `${bin}:${postgresBinDir()}:${process.env.PATH}`,
        FAKE_KUBECTL_STATE: c.dir,
        BUN,
        POLL_INTERVAL: "0.05",
        ...env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    return { child, exited, stderr: () => stderr };
  }
  const callsInclude = (c: Cluster, prefix: string) => c.called() && steps(c).some((l) => l.startsWith(prefix));

  it("leaves the API down, marked, when interrupted while the restore Job runs: the Job is deleted and waited for", async () => {
    const c = await cluster(5);
    c.behave({ job: "running" });
    const run = startRestoreK8s(c, ["latest"]);
    await eventually(async () => callsInclude(c, "get job transportation-restore-"), 30_000, "the Job to be polled");
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(143);
    const s = steps(c);
    const deleted = s.findIndex((l) => l.startsWith("delete job transportation-restore-"));
    expect(s[deleted]).toMatch(
      /^delete job transportation-restore-\d{14} --cascade=foreground --wait=true --timeout=600s$/,
    );
    expect(s.slice(deleted + 1)).toEqual([]); // nothing after: no scale-up, the mark stays
    expect(s.filter((l) => l.startsWith("scale"))).toEqual(["scale deployment/transportation-api --replicas=0"]);
    expect(c.replicas()).toBe("0");
    expect(c.mark()).toMatch(/replicas=5/);
    expect(run.stderr()).toMatch(
      /interrupted by SIGTERM: job\/transportation-restore-\d+ was deleted and its pod has stopped; its transaction rolled back/,
    );
    expect(run.stderr()).toMatch(
      /The API is DOWN: deployment\/transportation-api stands at 0 replicas and keeps the mark/,
    );
    expect(run.stderr()).toContain("restore-k8s.sh --resume -n transportation-system latest");
  }, 60_000);

  it("leaves the API down when the restore Job does not finish within --timeout", async () => {
    const c = await cluster(3);
    // 2 s, not 1: the script counts whole seconds, and the pods' wait must not run out first.
    c.behave({ job: "running" });
    const result = await restoreK8s(c, ["latest", "--timeout", "2"], { POLL_INTERVAL: "0.1" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/job\/transportation-restore-\d+ did not finish within 2s: job\/\S+ was deleted/);
    expect(
      steps(c).some((l) => /^delete job transportation-restore-\d+ --cascade=foreground --wait=true/.test(l)),
    ).toBe(true);
    expect(c.replicas()).toBe("0");
    expect(c.mark()).not.toBe("");
  }, 60_000);

  it("with --local, stops restore.sh on SIGTERM so that it rolls back, and leaves the API down", async () => {
    const before = await fingerprint(db.url);
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    const c = await cluster(3);
    try {
      await holder.query("begin; lock table stop_times in access share mode");
      const run = startRestoreK8s(c, ["--local", backup], { DATABASE_URL: db.url, RESTORE_LOCK_TIMEOUT: "600" });
      const waiting = async () =>
        (
          await query<{ n: number }>(
            db.url,
            "select count(*)::int as n from pg_stat_activity where application_name like 'transportation-restore-%' and wait_event_type = 'Lock'",
          )
        )[0]!.n > 0;
      await eventually(waiting, 30_000, "the restore to wait for the lock");
      run.child.kill("SIGTERM");
      expect(await run.exited).toBe(143);
      expect(run.stderr()).toMatch(/restore: ERROR: interrupted by SIGTERM: the restore was stopped and rolled back/);
      expect(run.stderr()).toMatch(/The API is DOWN/);
    } finally {
      await holder.query("rollback");
      await holder.end();
    }
    expect(await fingerprint(db.url)).toEqual(before);
    expect(c.replicas()).toBe("0");
    expect(steps(c).filter((l) => l.startsWith("scale"))).toEqual(["scale deployment/transportation-api --replicas=0"]);
  }, 60_000);

  it("refuses to start on a Deployment marked by another restore, and --resume finishes an interrupted one", async () => {
    const c = await cluster(0);
    // The mark an interrupted run left (as restore-k8s.sh writes it).
    const marked = await runProcess(
      FAKE_KUBECTL,
      [
        "annotate",
        "deployment/transportation-api",
        `${MARK}=since=2025-01-01T02:00:00Z replicas=4 backup=latest by=ops@laptop`,
        "--namespace",
        "transportation-system",
      ],
      { env: { ...process.env, FAKE_KUBECTL_STATE: c.dir, BUN } },
    );
    expect(marked.code, marked.stderr).toBe(0);
    rmSync(join(c.dir, "calls.jsonl"));
    const refused = await restoreK8s(c, ["latest"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /is marked as being restored \(since=2025-01-01T02:00:00Z replicas=4 .*run again with --resume/,
    );
    expect(steps(c).some((l) => l.startsWith("scale"))).toBe(false);

    const job = c.runningJob();
    const stillRunning = await restoreK8s(c, ["latest", "--resume"]);
    expect(stillRunning.code).toBe(1);
    expect(stillRunning.stderr).toMatch(/a restore Job is still running/);
    job.finish();

    const resumed = await restoreK8s(c, ["latest", "--resume"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(c.replicas()).toBe("4"); // the count noted by the interrupted run
    expect(c.mark()).toBe("");
  }, 60_000);

  it("rejects a backup name that is not a backup file, before calling kubectl", async () => {
    const c = await cluster(3);
    for (const bad of ["../etc/passwd", "backup.sql", "transportation_db_2025.dump"]) {
      const result = await restoreK8s(c, [bad]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/BACKUP must be a file name on the backup volume/);
    }
    expect(() => c.calls()).toThrow(); // no call was ever recorded
  }, 60_000);
});
