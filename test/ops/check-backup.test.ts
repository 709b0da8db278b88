// npm run backup:check against the fake kubectl: the CronJob's status, its latest Job and the reclaim
// policy of the volume the backups are on, as the API server reports them (CronJob status
// lastSuccessfulTime: https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/; Job
// conditions: https://kubernetes.io/docs/concepts/workloads/controllers/job/; PV reclaim policy:
// https://kubernetes.io/docs/concepts/storage/persistent-volumes/#reclaiming).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeCluster, type K8sObject } from "./harness";

const SLOW = 60_000;
let cluster: FakeCluster;
beforeEach(async () => {
  cluster = new FakeCluster();
  await cluster.start();
});
afterEach(async () => {
  await cluster.stop();
});

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");
const backups = (o: {
  lastSuccess?: string;
  suspend?: boolean;
  jobFailed?: boolean;
  reclaim?: string;
}): K8sObject[] => [
  {
    kind: "CronJob",
    metadata: { name: "transportation-backup", namespace: "transportation-backup" },
    spec: { schedule: "0 2 * * *", suspend: o.suspend ?? false },
    status: { lastScheduleTime: hoursAgo(2), ...(o.lastSuccess ? { lastSuccessfulTime: o.lastSuccess } : {}) },
  },
  {
    kind: "Job",
    metadata: {
      name: "transportation-backup-29000000",
      labels: { app: "transportation-backup" },
      creationTimestamp: hoursAgo(26),
    },
    status: { conditions: [{ type: "Complete", status: "True" }] },
  },
  {
    kind: "Job",
    metadata: {
      name: "transportation-backup-29001440",
      labels: { app: "transportation-backup" },
      creationTimestamp: hoursAgo(2),
    },
    status: {
      conditions: [
        o.jobFailed
          ? {
              type: "Failed",
              status: "True",
              reason: "BackoffLimitExceeded",
              message: "Job has reached the specified backoff limit",
            }
          : { type: "Complete", status: "True" },
      ],
    },
  },
  {
    kind: "PersistentVolumeClaim",
    metadata: { name: "transportation-backups" },
    spec: { volumeName: "pvc-0a1b2c" },
    status: { phase: "Bound" },
  },
  {
    kind: "PersistentVolume",
    metadata: { name: "pvc-0a1b2c" },
    spec: { persistentVolumeReclaimPolicy: o.reclaim ?? "Retain" },
  },
];

describe("backup:check", () => {
  it(
    "passes when the last backup is recent, the latest Job did not fail and the volume is retained",
    async () => {
      cluster.putObjects(backups({ lastSuccess: hoursAgo(3) }));
      const r = await cluster.run("check-backup", []);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/backups ok: last successful backup \S+ \(3\.0 h ago\), volume retained/);
      expect(r.outputs.ok).toBe("true");
      for (const c of cluster.calls()) expect(c.join(" ")).toContain("--namespace transportation-backup");
    },
    SLOW,
  );

  it(
    "names every risk: a stale last backup, a failed Job, a volume deleted with its claim",
    async () => {
      cluster.putObjects(backups({ lastSuccess: hoursAgo(30), jobFailed: true, reclaim: "Delete" }));
      const r = await cluster.run("check-backup", []);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        /::error title=Backups at risk::no successful backup for 30 h \(last at \S+, limit 26 h\)/,
      );
      expect(r.stdout).toMatch(
        /::error title=Backups at risk::the latest backup Job transportation-backup-29001440 failed \(BackoffLimitExceeded: Job has reached the specified backoff limit\): kubectl -n transportation-backup logs job\/transportation-backup-29001440/,
      );
      expect(r.stdout).toMatch(
        /::error title=Backups at risk::the backups' volume pvc-0a1b2c is deleted with pvc\/transportation-backups \(reclaim policy Delete\): kubectl patch pv pvc-0a1b2c/,
      );
      expect(r.outputs.ok).toBe("false");
    },
    SLOW,
  );

  it(
    "fails for a CronJob that never succeeded or is suspended, and honours --max-age-hours",
    async () => {
      cluster.putObjects(backups({ suspend: true }));
      const never = await cluster.run("check-backup", []);
      expect(never.code).toBe(1);
      expect(never.stdout).toContain("cronjob/transportation-backup is suspended: no backups are scheduled");
      expect(never.stdout).toContain("cronjob/transportation-backup has never completed a backup");

      cluster.putObjects(backups({ lastSuccess: hoursAgo(30) }));
      expect((await cluster.run("check-backup", ["--max-age-hours", "48"])).code).toBe(0);
    },
    SLOW,
  );
});
