// Options shared by deploy, rollback and verify: where the cluster is, and how the readiness gate
// reaches and judges the service.
import { Kubectl } from "./kubectl";
import { numberOption, type OptionSpec, type Options, UsageError } from "./options";
import { startPortForward } from "./port-forward";
import { type GateResult, readinessGate } from "./readiness-gate";
import { group, info } from "./report";

export const clusterSpecs: OptionSpec[] = [
  { name: "namespace", description: "Kubernetes namespace", default: "transportation-system" },
  { name: "context", description: "kubeconfig context (empty: current context)", default: "" },
  { name: "deployment", description: "Deployment (and app container) name", default: "transportation-api" },
];

export const gateSpecs: OptionSpec[] = [
  { name: "url", description: "base URL the gate polls (e.g. the ingress host)" },
  {
    name: "port-forward",
    description: "reach the Service through `kubectl port-forward` instead of --url",
    boolean: true,
  },
  { name: "service", description: "Service for --port-forward", default: "transportation-api" },
  { name: "service-port", description: "Service port for --port-forward", default: "80" },
  { name: "ready-count", description: "consecutive good polls required", default: "3" },
  { name: "gate-timeout", description: "seconds the gate may take in total", default: "120" },
  { name: "interval", description: "seconds between polls", default: "2" },
  { name: "request-timeout", description: "seconds one HTTP request may take", default: "5" },
];

export function kubectlFrom(options: Options): Kubectl {
  return new Kubectl({ namespace: options.namespace!, context: options.context || undefined });
}

export function checkGateTarget(options: Options): void {
  if (!options.url && options["port-forward"] !== "true") {
    throw new UsageError("the readiness gate needs --url <base-url> or --port-forward");
  }
}

/** Runs the gate once against the configured target, in its own log group. */
export async function runGate(
  kubectl: Kubectl,
  options: Options,
  expectedVersion: string | undefined,
  title: string,
): Promise<GateResult> {
  return group(title, async () => {
    const forward =
      options["port-forward"] === "true"
        ? await startPortForward(kubectl, options.service!, numberOption(options, "service-port"))
        : undefined;
    try {
      const result = await readinessGate({
        url: forward?.url ?? options.url!,
        expectedVersion,
        consecutive: Math.max(1, Math.floor(numberOption(options, "ready-count"))),
        intervalMs: numberOption(options, "interval") * 1000,
        timeoutMs: numberOption(options, "gate-timeout") * 1000,
        requestTimeoutMs: numberOption(options, "request-timeout") * 1000,
        log: info,
      });
      info(result.ok ? `gate passed: ${result.reason}` : `gate FAILED: ${result.reason}`);
      return result;
    } finally {
      await forward?.stop();
    }
  });
}
