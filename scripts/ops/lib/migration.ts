// The migration Job runs the new image with `migrate` before the Deployment changes, so the new
// pods start against the schema they expect. A Job's pod template is immutable: the previous run is
// deleted first, then the Job is created again and watched until Complete or Failed.
import type { Kubectl } from "./kubectl";

export interface MigrationResult {
  ok: boolean;
  message: string;
}

interface JobStatus {
  status?: { conditions?: Array<{ type: string; status: string; message?: string; reason?: string }> };
}

export async function runMigrationJob(
  kubectl: Kubectl,
  jobName: string,
  jobYaml: string,
  opts: { timeoutSeconds: number; pollMs: number },
): Promise<MigrationResult> {
  await kubectl.ok(["delete", `job/${jobName}`, "--ignore-not-found", "--wait=true"]);
  await kubectl.ok(["apply", "-f", "-"], { input: jobYaml });
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  for (;;) {
    const out = await kubectl.ok(["get", `job/${jobName}`, "-o", "json"], { echo: false });
    const conditions = (JSON.parse(out) as JobStatus).status?.conditions ?? [];
    const done = (type: string) => conditions.find((c) => c.type === type && c.status === "True");
    const complete = done("Complete");
    if (complete) return { ok: true, message: `job/${jobName} completed` };
    const failed = done("Failed");
    if (failed) {
      // The Job's own output says which migration broke; show its tail in the log.
      await kubectl.run(["logs", `job/${jobName}`, "--tail=50"]);
      const why = [failed.reason, failed.message].filter(Boolean).join(": ");
      return { ok: false, message: `job/${jobName} failed${why ? ` (${why})` : ""}` };
    }
    if (Date.now() + opts.pollMs > deadline) {
      await kubectl.run(["logs", `job/${jobName}`, "--tail=50"]);
      return { ok: false, message: `job/${jobName} did not finish within ${opts.timeoutSeconds} s` };
    }
    await new Promise((r) => setTimeout(r, opts.pollMs));
  }
}
