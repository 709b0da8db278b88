// `npm run k8s:render -- [staging|production|backup-staging|backup-production|all] [--out DIR]`: prints
// (or writes DIR/<name>.yaml) the manifests a kustomization holds, as `kubectl kustomize` renders them.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KUSTOMIZATIONS, kubectlMissingReason, renderYaml } from "./manifests";

const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const outDir = outIndex >= 0 ? args[outIndex + 1] : undefined;
const positional = args.filter((a, i) => !a.startsWith("--") && (outIndex < 0 || i !== outIndex + 1));
const target = positional[0] ?? "all";
const overlays = target === "all" ? KUSTOMIZATIONS.map((k) => k.name) : [target];

const missing = kubectlMissingReason();
if (missing) {
  console.error(`k8s:render: ${missing}`);
  process.exit(2);
}
if (outDir) mkdirSync(outDir, { recursive: true });
for (const overlay of overlays) {
  const yaml = renderYaml(overlay);
  if (outDir) {
    const file = join(outDir, `${overlay}.yaml`);
    writeFileSync(file, yaml);
    console.error(`k8s:render: wrote ${file}`);
  } else {
    if (overlays.length > 1) process.stdout.write(`# ---- overlay: ${overlay}\n`);
    process.stdout.write(overlays.length > 1 ? `${yaml}---\n` : yaml);
  }
}
