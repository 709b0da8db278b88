// `npm run k8s:validate -- [staging|production|all]`: renders each overlay and checks every object
// against the Kubernetes schema, for unknown fields, and against the policy checks (scripts/k8s/policy.ts).
// Exits 1 with one line per finding; 2 when kubectl is missing.
import { kubectlMissingReason, OVERLAYS, renderOverlay } from "./manifests";
import { policyFindings } from "./policy";
import { schemaErrors } from "./schema";

const target = process.argv.slice(2).find((a) => !a.startsWith("-")) ?? "all";
const overlays = target === "all" ? [...OVERLAYS] : [target];

const missing = kubectlMissingReason();
if (missing) {
  console.error(`k8s:validate: ${missing}`);
  process.exit(2);
}
let findings = 0;
for (const overlay of overlays) {
  const objects = renderOverlay(overlay);
  const problems = [...schemaErrors(objects), ...policyFindings(objects)];
  findings += problems.length;
  for (const p of problems) console.log(`${overlay}: ${p}`);
  console.log(`${overlay}: ${objects.length} objects, ${problems.length} findings`);
}
process.exit(findings > 0 ? 1 : 0);
