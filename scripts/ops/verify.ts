// verify: the readiness gate alone — /ready 200 N polls in a row and /version = the expected version,
// within a deadline. Exit 0 when it passes, 1 when it does not.
import { runCommand } from "./lib/command";
import { checkGateTarget, clusterSpecs, gateSpecs, kubectlFrom, runGate } from "./lib/gate-options";
import type { OptionSpec, Options } from "./lib/options";
import { errorAnnotation, setOutput, writeSummary } from "./lib/report";

const specs: OptionSpec[] = [
  { name: "expected-version", description: "version /version must report (empty: only /ready counts)", default: "" },
  ...gateSpecs,
  ...clusterSpecs,
];

async function verify(options: Options): Promise<number> {
  checkGateTarget(options);
  const expected = options["expected-version"] || undefined;
  const gate = await runGate(kubectlFrom(options), options, expected, "Readiness gate");
  setOutput("ready", gate.ok);
  setOutput("version", gate.observedVersion ?? "");
  if (!gate.ok) errorAnnotation(gate.reason, "Readiness gate failed");
  await writeSummary({
    title: gate.ok ? "✅ service ready" : "❌ service not ready",
    facts: [
      ["URL", options.url ?? "(port-forward)"],
      ["Expected version", expected ?? "(any)"],
      ["Observed version", gate.observedVersion ?? "?"],
      ["Result", gate.reason],
      ["Polls", String(gate.polls)],
    ],
  });
  return gate.ok ? 0 : 1;
}

await runCommand("verify", "Run the readiness gate against a running service.", specs, verify);
