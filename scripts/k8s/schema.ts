// Kubernetes schema checks for rendered manifests:
// - validateSchema: the OpenAPI schema via kubernetes-models (types, required fields, formats);
// - unknownFields: a strict field check. kubernetes-models' validators ignore unknown properties (a typo
//   like `replicsa` passes), while the API server silently drops them. The same package ships TypeScript
//   interfaces generated from that schema, so the checker walks each object against those interfaces.
import { join } from "node:path";
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { CronJob } from "kubernetes-models/batch/v1/CronJob";
import { Job } from "kubernetes-models/batch/v1/Job";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import ts from "typescript";
import { type K8sObject, objectId, REPO_ROOT } from "./manifests";

interface ModelClass {
  new (data: never): { validate(): void };
}

/** Every kind deploy/k8s may render; anything else is an error rather than silently unchecked. */
const MODELS: Record<string, ModelClass> = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "apps/v1/Deployment": Deployment,
  "batch/v1/Job": Job,
  "batch/v1/CronJob": CronJob,
  "networking.k8s.io/v1/Ingress": Ingress,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  // Prometheus Operator custom resources (the monitoring objects), from the same project's CRD models.
  "monitoring.coreos.com/v1/PodMonitor": PodMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule,
};

/** The package that declares a kind's TypeScript interface (core kinds, or a CRD models package). */
const typesModule = (key: string) =>
  key.startsWith("monitoring.coreos.com/")
    ? `@kubernetes-models/prometheus-operator/${key}`
    : `kubernetes-models/${key}`;

const typeKey = (o: Pick<K8sObject, "apiVersion" | "kind">) => `${o.apiVersion}/${o.kind}`;

/** Schema errors of one object (empty when valid). */
export function validateSchema(o: K8sObject): string[] {
  const Model = MODELS[typeKey(o)];
  if (!Model) return [`${objectId(o)}: no schema for ${typeKey(o)} (add it to scripts/k8s/schema.ts)`];
  try {
    new Model(o as never).validate();
    return [];
  } catch (err) {
    return [`${objectId(o)}: ${(err as Error).message}`];
  }
}

// --- strict field check -------------------------------------------------------------------------

let checkerState: { checker: ts.TypeChecker; types: Map<string, ts.Type> } | undefined;

/** One TypeScript program over the generated interfaces (`IDeployment` in kubernetes-models/apps/v1/Deployment, …). */
function loadTypes(): { checker: ts.TypeChecker; types: Map<string, ts.Type> } {
  if (checkerState) return checkerState;
  const keys = Object.keys(MODELS);
  const probePath = join(REPO_ROOT, "scripts", "k8s", "__schema_types__.ts");
  const source = keys
    .map((key, i) => {
      const kind = key.slice(key.lastIndexOf("/") + 1);
      return `import type { I${kind} as T${i} } from "${typesModule(key)}";\nexport type E${i} = T${i};`;
    })
    .join("\n");
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es5.d.ts"],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (f) => (f === probePath ? source : readFile(f));
  host.fileExists = (
    (orig) => (f: string) =>
      f === probePath || orig(f)
  )(host.fileExists.bind(host));
  host.getSourceFile = (f, lang, ...rest) =>
    f === probePath ? ts.createSourceFile(f, source, lang) : getSourceFile(f, lang, ...rest);
  const program = ts.createProgram([probePath], options, host);
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(probePath);
  const moduleSymbol = file && checker.getSymbolAtLocation(file);
  if (!moduleSymbol) throw new Error("could not load the kubernetes-models type declarations");
  const exported = new Map(checker.getExportsOfModule(moduleSymbol).map((s) => [s.name, s]));
  const types = new Map<string, ts.Type>();
  keys.forEach((key, i) => {
    const symbol = exported.get(`E${i}`);
    const type = symbol && checker.getDeclaredTypeOfSymbol(symbol);
    if (!type || checker.getPropertiesOfType(type).length === 0)
      throw new Error(`no type declaration for ${key} in ${typesModule(key)}`);
    types.set(key, type);
  });
  checkerState = { checker, types };
  return checkerState;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

function walk(checker: ts.TypeChecker, value: unknown, declared: ts.Type, path: string, errors: string[]): void {
  if (value === null || value === undefined) return;
  let type = checker.getNonNullableType(declared);
  if (type.isUnion()) {
    // e.g. IntOrString (string | number): only object members can hold fields.
    const objects = type.types.filter((t) => t.flags & ts.TypeFlags.Object);
    if (objects.length !== 1) return;
    type = objects[0]!;
  }
  if (Array.isArray(value)) {
    if (!checker.isArrayType(type)) return; // a type mismatch is validateSchema's to report
    const element = checker.getTypeArguments(type as ts.TypeReference)[0];
    if (element) for (const [i, item] of value.entries()) walk(checker, item, element, `${path}[${i}]`, errors);
    return;
  }
  if (typeof value !== "object" || !(type.flags & ts.TypeFlags.Object)) return;
  const properties = checker.getPropertiesOfType(type);
  const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
  if (properties.length === 0 && !index) return; // free-form object (e.g. RawExtension)
  for (const [key, child] of Object.entries(value)) {
    const property = checker.getPropertyOfType(type, key);
    if (property) {
      walk(checker, child, checker.getTypeOfSymbol(property), `${path}.${key}`, errors);
    } else if (index) {
      walk(checker, child, index.type, `${path}.${key}`, errors);
    } else {
      const near = properties.map((p) => ({ name: p.name, d: editDistance(key, p.name) })).sort((a, b) => a.d - b.d)[0];
      const hint = near && near.d <= 3 ? ` (did you mean "${near.name}"?)` : "";
      errors.push(`${path}.${key}: unknown field${hint}`);
    }
  }
}

/** Fields the Kubernetes schema does not define, as `Kind/name: path: unknown field` lines. */
export function unknownFields(o: K8sObject): string[] {
  const { checker, types } = loadTypes();
  const type = types.get(typeKey(o));
  if (!type) return [`${objectId(o)}: no schema for ${typeKey(o)}`];
  const errors: string[] = [];
  walk(checker, o, type, "", errors);
  return errors.map((e) => `${objectId(o)}: ${e.replace(/^\./, "")}`);
}

/** Schema and strict-field errors of every object. */
export function schemaErrors(objects: K8sObject[]): string[] {
  return objects.flatMap((o) => [...validateSchema(o), ...unknownFields(o)]);
}
