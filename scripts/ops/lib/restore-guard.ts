// deploy/scripts/restore-k8s.sh stops the API for a restore and marks the Deployment with an annotation
// until it has brought it back (or, interrupted, leaves it down and marked). Whatever would apply or
// restart the Deployment checks the mark first: applying it sets staging's fixed replica count, which
// would start pods on a database that is being restored, and a restore's writes could be lost.
import { type Kubectl, KubectlError } from "./kubectl";
import { errorAnnotation, setOutput } from "./report";

/** The annotation restore-k8s.sh sets (RESTORE_ANNOTATION there); a test keeps the two equal. */
export const RESTORE_ANNOTATION = "transportation-ai.com/restore-in-progress";

/** Why the Deployment must be left alone (it is being restored), or undefined; a missing one is no restore. */
export async function restoreInProgress(kubectl: Kubectl, deployment: string): Promise<string | undefined> {
  const r = await kubectl.run(["get", `deployment/${deployment}`, "-o", "json"], { echo: false });
  if (r.code !== 0) {
    if (/NotFound|not found/.test(r.stderr)) return undefined;
    throw new KubectlError(["get", `deployment/${deployment}`], r);
  }
  const annotations = (JSON.parse(r.stdout) as { metadata?: { annotations?: Record<string, string> } }).metadata
    ?.annotations;
  const mark = annotations?.[RESTORE_ANNOTATION];
  if (!mark) return undefined;
  return (
    `deployment/${deployment} is being restored (${RESTORE_ANNOTATION}: ${mark}); nothing is changed until ` +
    "deploy/scripts/restore-k8s.sh has brought the API back. If that restore was abandoned, see " +
    'docs/operations.md, "In Kubernetes: deploy/scripts/restore-k8s.sh"'
  );
}

/** Reports the refusal (annotation, step output `result=refused`) and returns the exit code. */
export function refuseDuringRestore(what: string, reason: string): number {
  errorAnnotation(reason, `${what} refused - restore in progress`);
  setOutput("result", "refused");
  return 1;
}
