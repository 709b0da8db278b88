// The database connection budget of a rendered overlay: everything that may be connected to PostgreSQL
// at once must fit under its max_connections (`database.max_connections` in the ConfigMap's config).
// At the peak that matters (the HPA at maxReplicas, a rollout surging one more pod, a migration, a
// backup and an import running) the API pods may each open their whole pool (pool_size + max_overflow).
// Through PgBouncer (deploy/k8s/components/pgbouncer) the pods' pools go to the pooler instead, and the
// server sees only the pooler's own pools; Jobs always connect directly (session advisory locks,
// pg_dump), so they count either way.
import { parse } from "yaml";
import { type K8sObject, objectId } from "./manifests";

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML; the schema check runs first.
type Any = any;

/** Jobs and CronJobs declare how many connections one run opens, on the object's metadata. */
export const CONNECTIONS_ANNOTATION = "transportation-api/database-connections";
/** Superuser slots PostgreSQL keeps back (superuser_reserved_connections) + an operator's psql and monitoring. */
export const RESERVED_CONNECTIONS = 3 + 5;
/**
 * A feed import (a Job made from docs/operations.md, not part of the render): its loading session, the
 * second session that builds indexes beside it, and one from its pool.
 */
export const IMPORT_CONNECTIONS = 3;
/**
 * The backups, which live in their own namespace and kustomization (deploy/k8s/backup) and so are not
 * in an application render: what their CronJob's annotation declares (a test keeps the two equal).
 */
export const BACKUP_CONNECTIONS = 1;

export interface Budget {
  maxConnections: number;
  lines: { what: string; connections: number }[];
  total: number;
}

function config(objects: K8sObject[]): Any {
  const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "transportation-config");
  const text = (cm as Any)?.data?.["config.yaml"];
  return typeof text === "string" ? parse(text) : undefined;
}

/** Peak pod count of a Deployment: the HPA's maximum (or its replicas) plus a rollout's surge. */
function peakPods(d: K8sObject, objects: K8sObject[]): { pods: number; how: string } {
  const spec = d.spec as Any;
  const hpa = objects.find(
    (o) =>
      o.kind === "HorizontalPodAutoscaler" &&
      (o.spec as Any)?.scaleTargetRef?.kind === "Deployment" &&
      (o.spec as Any)?.scaleTargetRef?.name === d.metadata.name,
  );
  const replicas = hpa ? Number((hpa.spec as Any).maxReplicas) : Number(spec?.replicas ?? 1);
  const rawSurge = spec?.strategy?.rollingUpdate?.maxSurge ?? "25%";
  const surge =
    typeof rawSurge === "string" && rawSurge.endsWith("%")
      ? Math.ceil((replicas * Number(rawSurge.slice(0, -1))) / 100)
      : Number(rawSurge);
  return { pods: replicas + surge, how: `${hpa ? "maxReplicas" : "replicas"} ${replicas} + maxSurge ${surge}` };
}

/** PgBouncer's pool settings, from its container's environment (undefined: no pooler rendered). */
function pooler(
  objects: K8sObject[],
): { replicas: number; peak: number; settings: Record<string, string> } | undefined {
  const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "transportation-pgbouncer");
  if (!deployment) return undefined;
  const container = ((deployment.spec as Any)?.template?.spec?.containers ?? [])[0];
  const settings: Record<string, string> = {};
  for (const e of (container?.env ?? []) as Any[]) if (typeof e.value === "string") settings[e.name] = e.value;
  return {
    replicas: Number((deployment.spec as Any)?.replicas ?? 1),
    peak: peakPods(deployment, objects).pods,
    settings,
  };
}

export function connectionBudget(objects: K8sObject[]): { budget?: Budget; findings: string[] } {
  const findings: string[] = [];
  const api = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "transportation-api");
  // The budget is the application's: a render without its API (the backups' own kustomization) has none.
  if (!api) return { findings };
  const db = config(objects)?.database;
  const maxConnections = Number(db?.max_connections);
  if (!Number.isInteger(maxConnections) || maxConnections <= 0)
    return { findings: ["ConfigMap/transportation-config: database.max_connections is not set (the server's limit)"] };
  const ceiling = Number(db.pool_size) + Number(db.max_overflow);
  const lines: Budget["lines"] = [];
  const pgbouncer = pooler(objects);
  {
    const { pods, how } = peakPods(api, objects);
    if (pgbouncer) {
      // PgBouncer's defaults where the environment does not set them (pgbouncer.ini(5)).
      const perPool =
        Number(pgbouncer.settings.DEFAULT_POOL_SIZE ?? 20) + Number(pgbouncer.settings.RESERVE_POOL_SIZE ?? 0);
      lines.push({
        what: `PgBouncer: ${pgbouncer.peak} pods at a rollout's peak × a server pool of ${perPool}`,
        connections: pgbouncer.peak * perPool,
      });
      const clients = pods * ceiling;
      const accepted = pgbouncer.replicas * Number(pgbouncer.settings.MAX_CLIENT_CONN ?? 100);
      if (clients > accepted)
        findings.push(
          `Deployment/transportation-pgbouncer: accepts ${accepted} clients (max_client_conn × pods) but the API may open ${clients} (${how}, pools of ${ceiling})`,
        );
    } else lines.push({ what: `API: (${how}) pods × pool ceiling ${ceiling}`, connections: pods * ceiling });
  }
  for (const job of objects.filter((o) => o.kind === "Job" || o.kind === "CronJob")) {
    const declared = (job.metadata.annotations as Record<string, string> | undefined)?.[CONNECTIONS_ANNOTATION];
    const n = Number(declared);
    if (declared === undefined || !Number.isInteger(n) || n < 0) {
      findings.push(`${objectId(job)}: annotation ${CONNECTIONS_ANNOTATION} (connections one run opens) is not set`);
      continue;
    }
    lines.push({ what: objectId(job), connections: n });
  }
  lines.push({ what: "the backups (deploy/k8s/backup)", connections: BACKUP_CONNECTIONS });
  lines.push({ what: "a feed import Job", connections: IMPORT_CONNECTIONS });
  lines.push({ what: "reserved (superuser slots, operators, monitoring)", connections: RESERVED_CONNECTIONS });
  const total = lines.reduce((sum, l) => sum + l.connections, 0);
  if (total > maxConnections)
    findings.push(
      `ConfigMap/transportation-config: the database connection budget is ${total} at peak but max_connections is ${maxConnections}: ${lines
        .map((l) => `${l.what} = ${l.connections}`)
        .join(
          "; ",
        )}. Lower pool_size/max_overflow or maxReplicas, raise the server's max_connections, or add PgBouncer (deploy/k8s/components/pgbouncer)`,
    );
  return { budget: { maxConnections, lines, total }, findings };
}
