// backup:check: are the Kubernetes backups being made, and do they outlive their claim? Fails (exit 1,
// one line per finding) when the backup CronJob is suspended, has never succeeded or not for
// --max-age-hours, when its latest Job failed, or when the volume holding the backups would be deleted
// with its claim (reclaim policy other than Retain). The same facts, for alerting, are in
// kube-state-metrics (kube_cronjob_status_last_successful_time, kube_job_status_failed).
import { runCommand } from "./lib/command";
import { kubectlFrom } from "./lib/gate-options";
import type { Kubectl } from "./lib/kubectl";
import { numberOption, type OptionSpec, type Options } from "./lib/options";
import { errorAnnotation, info, setOutput, writeSummary } from "./lib/report";

const specs: OptionSpec[] = [
  { name: "namespace", description: "namespace of the backups", default: "transportation-backup" },
  { name: "context", description: "kubeconfig context (empty: current context)", default: "" },
  { name: "cronjob", description: "the backup CronJob", default: "transportation-backup" },
  { name: "pvc", description: "the claim the backups are written to", default: "transportation-backups" },
  // A daily schedule plus the run's own hour and some slack: one missed night is found the next morning.
  { name: "max-age-hours", description: "the last successful backup may be this old", default: "26" },
];

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface K8s {
  metadata?: { name?: string; creationTimestamp?: string };
  spec?: { suspend?: boolean; volumeName?: string; persistentVolumeReclaimPolicy?: string };
  status?: { lastSuccessfulTime?: string; lastScheduleTime?: string; conditions?: Condition[] };
}

async function getJson<T>(kubectl: Kubectl, args: string[]): Promise<T> {
  return JSON.parse(await kubectl.ok([...args, "-o", "json"], { echo: false })) as T;
}

const hoursSince = (iso: string) => (Date.now() - Date.parse(iso)) / 3_600_000;

async function checkBackup(options: Options): Promise<number> {
  const kubectl = kubectlFrom(options);
  const maxAge = numberOption(options, "max-age-hours");
  const findings: string[] = [];
  const facts: Array<[string, string]> = [];

  const cron = await getJson<K8s>(kubectl, ["get", `cronjob/${options.cronjob}`]);
  const last = cron.status?.lastSuccessfulTime;
  facts.push(["Last successful backup", last ?? "never"], ["Last schedule", cron.status?.lastScheduleTime ?? "never"]);
  if (cron.spec?.suspend) findings.push(`cronjob/${options.cronjob} is suspended: no backups are scheduled`);
  if (!last) findings.push(`cronjob/${options.cronjob} has never completed a backup`);
  else if (hoursSince(last) > maxAge)
    findings.push(
      `no successful backup for ${Math.floor(hoursSince(last))} h (last at ${last}, limit ${maxAge} h): ` +
        `kubectl -n ${options.namespace} get jobs -l app=transportation-backup`,
    );

  const jobs = await getJson<{ items?: K8s[] }>(kubectl, ["get", "jobs", "-l", "app=transportation-backup"]);
  const latest = [...(jobs.items ?? [])]
    .sort((a, b) => String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)))
    .at(-1);
  const failed = latest?.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
  if (latest) facts.push(["Latest Job", `${latest.metadata?.name} (${failed ? "failed" : "not failed"})`]);
  if (latest && failed)
    findings.push(
      `the latest backup Job ${latest.metadata?.name} failed (${[failed.reason, failed.message].filter(Boolean).join(": ")}): ` +
        `kubectl -n ${options.namespace} logs job/${latest.metadata?.name}`,
    );

  const claim = await getJson<K8s>(kubectl, ["get", `pvc/${options.pvc}`]);
  const volume = claim.spec?.volumeName;
  if (!volume) findings.push(`pvc/${options.pvc} is not bound to a volume yet`);
  else {
    const pv = await getJson<K8s>(kubectl, ["get", `pv/${volume}`]);
    const policy = pv.spec?.persistentVolumeReclaimPolicy ?? "Delete";
    facts.push(["Volume", `${volume} (reclaim policy ${policy})`]);
    if (policy !== "Retain")
      findings.push(
        `the backups' volume ${volume} is deleted with pvc/${options.pvc} (reclaim policy ${policy}): ` +
          `kubectl patch pv ${volume} -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'`,
      );
  }

  for (const [k, v] of facts) info(`${k}: ${v}`);
  setOutput("ok", findings.length === 0);
  if (findings.length > 0) {
    for (const f of findings) errorAnnotation(f, "Backups at risk");
  } else info(`backups ok: last successful backup ${last} (${hoursSince(last!).toFixed(1)} h ago), volume retained`);
  await writeSummary({
    title: findings.length === 0 ? "✅ backups ok" : "❌ backups at risk",
    facts: [...facts, ...findings.map((f): [string, string] => ["Finding", f])],
  });
  return findings.length === 0 ? 0 : 1;
}

await runCommand("check-backup", "Check that the Kubernetes backups run and outlive their claim.", specs, checkBackup);
