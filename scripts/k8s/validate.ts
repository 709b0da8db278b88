// `npm run k8s:validate -- [staging|production|backup-staging|backup-production|all|DIR]`: renders each
// kustomization (the application overlays and their backups) and checks every object against the
// Kubernetes schema, for unknown fields, and against the policy checks (scripts/k8s/policy.ts).
// Exits 1 with one line per finding; 2 when kubectl is missing.
import { KUSTOMIZATIONS, kubectlMissingReason, renderOverlay } from "./manifests";
import { policyFindings } from "./policy";
import { schemaErrors } from "./schema";

const target = process.argv.slice(2).find((a) => !a.startsWith("-")) ?? "all";
const names = target === "all" ? KUSTOMIZATIONS.map((k) => k.name) : [target];

const missing = kubectlMissingReason();
if (missing) {
  console.error(`k8s:validate: ${missing}`);
  process.exit(2);
}
let findings = 0;
for (const name of names) {
  const objects = renderOverlay(name);
  const problems = [...schemaErrors(objects), ...policyFindings(objects)];
  findings += problems.length;
  for (const p of problems) console.log(`${name}: ${p}`);
  console.log(`${name}: ${objects.length} objects, ${problems.length} findings`);
}
process.exit(findings > 0 ? 1 : 0);
