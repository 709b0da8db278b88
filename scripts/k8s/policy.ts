// Policy checks on rendered manifests, borrowed from kube-linter / kube-score: what a schema cannot say
// but a production cluster needs. Each finding is `Kind/name: problem`.
import { connectionBudget } from "./connection-budget";
import { expectedNamespace, type K8sObject, objectId } from "./manifests";

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML; the schema check runs first.
type Any = any;

interface PodOwner {
  owner: K8sObject;
  pod: Any; // PodSpec
  labels: Record<string, string>;
}

const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume"]);

/**
 * What the committed overlays give the app image instead of a version: a digest no image has. A tag
 * there would be applied by `kubectl apply -k` and could roll back what runs; deploy tooling supplies
 * the release (image:version@digest) and `npm run config:apply` keeps the live one.
 */
export const UNSET_APP_IMAGE_DIGEST = `sha256:${"0".repeat(64)}`;
const isAppImage = (image: string) => /(^|\/)transportation-api$/.test(image.split("@")[0]!.replace(/:[^/:]+$/, ""));

function podOf(o: K8sObject): PodOwner | undefined {
  const spec = o.spec as Any;
  if (o.kind === "Deployment" || o.kind === "Job")
    return { owner: o, pod: spec?.template?.spec, labels: spec?.template?.metadata?.labels ?? {} };
  if (o.kind === "CronJob") {
    const template = spec?.jobTemplate?.spec?.template;
    return { owner: o, pod: template?.spec, labels: template?.metadata?.labels ?? {} };
  }
  return undefined;
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector || Object.keys(selector).length === 0) return false; // an empty selector selects everything
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** `name:tag` or `name@sha256:…`; an untagged name means `latest`. */
export function imageProblem(image: string | undefined): string | undefined {
  if (!image) return "has no image";
  if (image.includes("@sha256:")) return undefined;
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const tag = lastSegment.includes(":") ? lastSegment.slice(lastSegment.indexOf(":") + 1) : undefined;
  if (!tag) return `image ${image} has no tag (means :latest)`;
  if (tag === "latest") return `image ${image} uses the latest tag`;
  return undefined;
}

function containerFindings(p: PodOwner): string[] {
  const id = objectId(p.owner);
  const out: string[] = [];
  const pod = p.pod ?? {};
  const podSec = pod.securityContext ?? {};
  if (pod.automountServiceAccountToken !== false)
    out.push(`${id}: automountServiceAccountToken is not false (no workload here calls the Kubernetes API)`);
  if (podSec.seccompProfile?.type !== "RuntimeDefault" && podSec.seccompProfile?.type !== "Localhost")
    out.push(`${id}: pod securityContext.seccompProfile is not RuntimeDefault`);
  for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])] as Any[]) {
    const cid = `${id}: container ${c.name}`;
    const sec = c.securityContext ?? {};
    const problem = imageProblem(c.image);
    if (problem) out.push(`${cid}: ${problem}`);
    // Everything else runs exactly the bytes that were tested: a tag alone can be moved under a running
    // cluster (and with IfNotPresent, nodes would run different builds of "the same" image).
    if (typeof c.image === "string" && !isAppImage(c.image) && !c.image.includes("@sha256:"))
      out.push(
        `${cid}: image ${c.image} is a mutable tag; pin it as tag@sha256:<digest> (Dependabot's docker ecosystem keeps both current)`,
      );
    if (typeof c.image === "string" && isAppImage(c.image) && !c.image.endsWith(`@${UNSET_APP_IMAGE_DIGEST}`))
      out.push(
        `${cid}: image ${c.image} names a release; a committed overlay leaves the app image unset ` +
          `(@${UNSET_APP_IMAGE_DIGEST.slice(0, 15)}…) so that \`kubectl apply -k\` cannot change what runs ` +
          "(npm run deploy supplies it)",
      );
    for (const kind of ["requests", "limits"])
      for (const resource of ["cpu", "memory"])
        if (c.resources?.[kind]?.[resource] === undefined) out.push(`${cid}: resources.${kind}.${resource} not set`);
    const nonRoot = sec.runAsNonRoot ?? podSec.runAsNonRoot;
    const uid = sec.runAsUser ?? podSec.runAsUser;
    if (nonRoot !== true) out.push(`${cid}: runAsNonRoot is not true`);
    if (uid === 0) out.push(`${cid}: runs as uid 0`);
    if (sec.readOnlyRootFilesystem !== true) out.push(`${cid}: readOnlyRootFilesystem is not true`);
    if (sec.allowPrivilegeEscalation !== false) out.push(`${cid}: allowPrivilegeEscalation is not false`);
    if (!(sec.capabilities?.drop ?? []).includes("ALL")) out.push(`${cid}: capabilities.drop lacks ALL`);
    if (sec.privileged === true) out.push(`${cid}: privileged`);
    if (p.owner.kind === "Deployment") {
      if (!c.livenessProbe) out.push(`${cid}: no livenessProbe`);
      if (!c.readinessProbe) out.push(`${cid}: no readinessProbe`);
      if (!c.startupProbe) out.push(`${cid}: no startupProbe`);
    }
  }
  return out;
}

/** Whether a label selector (matchLabels and matchExpressions) selects these labels; `{}` selects all. */
function selectorSelects(selector: Any, labels: Record<string, string>): boolean {
  const exact = Object.entries((selector?.matchLabels ?? {}) as Record<string, string>);
  if (!exact.every(([k, v]) => labels[k] === v)) return false;
  return ((selector?.matchExpressions ?? []) as Any[]).every((e) => {
    const has = Object.hasOwn(labels, e.key);
    const listed = ((e.values ?? []) as string[]).includes(labels[e.key]!);
    switch (e.operator) {
      case "In":
        return has && listed;
      case "NotIn":
        return !has || !listed;
      case "Exists":
        return has;
      case "DoesNotExist":
        return !has;
      default:
        return false;
    }
  });
}

const isDefaultDeny = (np: K8sObject) => {
  const spec = np.spec as Any;
  const selector = spec?.podSelector ?? {};
  return (
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).length === 0 &&
    ["Ingress", "Egress"].every((t) => (spec?.policyTypes ?? []).includes(t)) &&
    (spec?.ingress ?? []).length === 0 &&
    (spec?.egress ?? []).length === 0
  );
};

interface Port {
  protocol: "TCP" | "UDP";
  number: number;
  /** A container port's name, which policies may use instead of the number. */
  name?: string;
}

/** Whether a NetworkPolicy rule's ports admit a port (no ports, or an empty list, admit all). */
const portsAdmit = (rule: Any, port: Port) =>
  !rule.ports?.length ||
  (rule.ports as Any[]).some(
    (p) =>
      (p.protocol ?? "TCP") === port.protocol &&
      (p.port === undefined ||
        (port.name !== undefined && p.port === port.name) ||
        (typeof p.port === "number" && port.number >= p.port && port.number <= (p.endPort ?? p.port))),
  );

/** A label selector that selects everything. */
const isEmptySelector = (selector: Any) =>
  Object.keys(selector?.matchLabels ?? {}).length === 0 && (selector?.matchExpressions ?? []).length === 0;

/** Whether a rule's `from` lets anything connect: no peers, an address block, or every namespace. */
const anySource = (peers: Any[] | undefined) =>
  !peers?.length ||
  peers.some(
    (peer) =>
      peer.ipBlock !== undefined ||
      (peer.namespaceSelector !== undefined && isEmptySelector(peer.namespaceSelector) && !peer.podSelector),
  );

/** Whether a rule's peers (`to` / `from`) leave other namespaces and addresses open, not only this namespace. */
const peersOpen = (peers: Any[] | undefined) =>
  !peers?.length || peers.some((peer) => peer.namespaceSelector !== undefined || peer.ipBlock !== undefined);

/** The optional Secret with the feed sources (GTFS_FEED_URL, GTFS_RT_*); pods reading it fetch feeds. */
const FEEDS_SECRET = "transportation-feeds";

/** Whether a pod reads the feed sources, i.e. downloads feeds from agencies over HTTPS. */
const readsFeeds = (pod: Any) =>
  ((pod?.containers ?? []) as Any[]).some((c) =>
    ((c.envFrom ?? []) as Any[]).some((e) => e.secretRef?.name === FEEDS_SECRET),
  );

/** What every pod here must be able to reach: names, and PostgreSQL (the API also Redis; feed readers HTTPS). */
const requiredEgress = (p: PodOwner): [string, Port][] => [
  ["resolve names (UDP 53)", { protocol: "UDP", number: 53 }],
  ["reach PostgreSQL (TCP 5432)", { protocol: "TCP", number: 5432 }],
  ...(p.owner.kind === "Deployment" && p.owner.metadata.name === "transportation-api"
    ? [["reach Redis (TCP 6379)", { protocol: "TCP", number: 6379 }] as [string, Port]]
    : []),
  ...(readsFeeds(p.pod)
    ? [["reach feed sources over HTTPS (TCP 443)", { protocol: "TCP", number: 443 }] as [string, Port]]
    : []),
];

/** NetworkPolicy: a default deny for the namespace, and every workload let through for what it needs. */
function networkFindings(objects: K8sObject[], pods: PodOwner[], namespace: string): string[] {
  const out: string[] = [];
  const policies = objects.filter((o) => o.kind === "NetworkPolicy");
  if (pods.length > 0 && !policies.some(isDefaultDeny))
    out.push(`Namespace/${namespace}: no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)`);
  const allowing = (labels: Record<string, string>) =>
    policies.filter((np) => !isDefaultDeny(np) && selectorSelects((np.spec as Any)?.podSelector, labels));
  for (const p of pods) {
    const own = allowing(p.labels);
    if (own.length === 0) {
      out.push(`${objectId(p.owner)}: no NetworkPolicy allows its pods any traffic`);
      continue;
    }
    const egress = own.flatMap((np) => ((np.spec as Any)?.egress ?? []) as Any[]);
    for (const [what, port] of requiredEgress(p))
      if (!egress.some((rule) => portsAdmit(rule, port) && peersOpen(rule.to)))
        out.push(`${objectId(p.owner)}: no NetworkPolicy lets its pods ${what}`);
  }
  // The API is reached through the TLS Ingress only. Its Service stays inside the cluster (a LoadBalancer
  // or NodePort would serve /v1 and its API keys over plain HTTP beside it), and its pods accept the
  // target port from the ingress controller's namespace — not from any source. Any other Service (the
  // optional PgBouncer) serves pods of this namespace: admitted from some peer, never from any source.
  for (const svc of objects.filter((o) => o.kind === "Service")) {
    const spec = svc.spec as Any;
    const behind = pods.filter((q) => q.owner.kind === "Deployment" && matches(spec?.selector, q.labels));
    if (behind.length > 0 && (spec?.type === "LoadBalancer" || spec?.type === "NodePort"))
      out.push(
        `${objectId(svc)}: type ${spec.type} serves the API over plain HTTP beside the TLS Ingress; use ClusterIP behind the Ingress`,
      );
    for (const p of behind) {
      const containerPorts = ((p.pod?.containers ?? []) as Any[]).flatMap((c) => (c.ports ?? []) as Any[]);
      for (const sp of (spec?.ports ?? []) as Any[]) {
        const target = sp.targetPort ?? sp.port;
        const cp = containerPorts.find((c) => c.containerPort === target || c.name === target);
        const port: Port = { protocol: sp.protocol ?? "TCP", number: cp?.containerPort ?? target, name: cp?.name };
        const rules = allowing(p.labels)
          .flatMap((np) => ((np.spec as Any)?.ingress ?? []) as Any[])
          .filter((rule) => portsAdmit(rule, port));
        const isApi = p.owner.metadata.name === "transportation-api";
        if (rules.some((rule) => anySource(rule.from)))
          out.push(
            `${objectId(p.owner)}: a NetworkPolicy admits port ${target} from any source; ${isApi ? "only the ingress controller's namespace" : "only the pods that use it"} should reach it`,
          );
        else if (!isApi) {
          if (rules.length === 0)
            out.push(`${objectId(svc)}: no NetworkPolicy admits connections to port ${target} of ${objectId(p.owner)}`);
        } else if (!rules.some((rule) => (rule.from as Any[]).some((peer) => peer.namespaceSelector !== undefined)))
          out.push(
            `${objectId(svc)}: no NetworkPolicy admits connections to port ${target} of ${objectId(p.owner)} from the ingress controller's namespace`,
          );
      }
    }
  }
  return out;
}

/**
 * Monitoring: each PodMonitor scrapes a named container port of the pods it selects; a NetworkPolicy
 * lets the scraper's namespace reach that port, and none admits it from any source (as the API's own
 * port is admitted from the ingress controller's namespace only); no Service exposes it (the metrics
 * must not be reachable through the Ingress); every alert has a severity and a runbook link.
 */
function monitoringFindings(objects: K8sObject[], pods: PodOwner[]): string[] {
  const out: string[] = [];
  const policies = objects.filter((o) => o.kind === "NetworkPolicy" && !isDefaultDeny(o));
  for (const monitor of objects.filter((o) => o.kind === "PodMonitor")) {
    const spec = monitor.spec as Any;
    const selected = pods.filter((p) => selectorSelects(spec?.selector, p.labels) && p.owner.kind === "Deployment");
    if (selected.length === 0) out.push(`${objectId(monitor)}: selects no Deployment's pods`);
    for (const endpoint of (spec?.podMetricsEndpoints ?? []) as Any[]) {
      for (const p of selected) {
        const cp = ((p.pod?.containers ?? []) as Any[])
          .flatMap((c) => (c.ports ?? []) as Any[])
          .find((c) => c.name === endpoint.port);
        if (!cp) {
          out.push(`${objectId(monitor)}: port ${endpoint.port} is not a named container port of ${objectId(p.owner)}`);
          continue;
        }
        const port: Port = { protocol: cp.protocol ?? "TCP", number: cp.containerPort, name: cp.name };
        const rules = policies
          .filter((np) => selectorSelects((np.spec as Any)?.podSelector, p.labels))
          .flatMap((np) => ((np.spec as Any)?.ingress ?? []) as Any[])
          .filter((rule) => portsAdmit(rule, port));
        if (rules.some((rule) => anySource(rule.from)))
          out.push(
            `${objectId(p.owner)}: a NetworkPolicy admits the metrics port ${endpoint.port} from any source; only the scraper's namespace should reach it`,
          );
        else if (
          !rules.some((rule) =>
            (rule.from as Any[]).some(
              (peer) => peer.namespaceSelector !== undefined && !isEmptySelector(peer.namespaceSelector),
            ),
          )
        )
          out.push(
            `${objectId(monitor)}: no NetworkPolicy lets the scraper's namespace reach port ${endpoint.port} of ${objectId(p.owner)}`,
          );
        for (const svc of objects.filter((o) => o.kind === "Service" && matches((o.spec as Any)?.selector, p.labels)))
          for (const sp of ((svc.spec as Any)?.ports ?? []) as Any[])
            if (sp.targetPort === cp.name || sp.targetPort === cp.containerPort || sp.port === cp.containerPort)
              out.push(`${objectId(svc)}: exposes the metrics port ${endpoint.port}, which must stay off the Service`);
      }
    }
  }
  for (const rule of objects.filter((o) => o.kind === "PrometheusRule")) {
    for (const group of ((rule.spec as Any)?.groups ?? []) as Any[])
      for (const r of (group.rules ?? []) as Any[]) {
        if (!r.alert) continue;
        if (!r.labels?.severity) out.push(`${objectId(rule)}: alert ${r.alert} has no severity label`);
        if (!/^https?:\/\//.test(r.annotations?.runbook_url ?? ""))
          out.push(`${objectId(rule)}: alert ${r.alert} has no runbook_url annotation`);
      }
  }
  return out;
}

/** Findings for one render; its objects belong in `namespace` (default: the Namespace it creates). */
export function policyFindings(objects: K8sObject[], namespace = expectedNamespace(objects)): string[] {
  const out: string[] = [];
  const pods = objects.map(podOf).filter((p): p is PodOwner => p !== undefined);
  const deployments = objects.filter((o) => o.kind === "Deployment");
  const hpas = objects.filter((o) => o.kind === "HorizontalPodAutoscaler");
  const pdbs = objects.filter((o) => o.kind === "PodDisruptionBudget");

  for (const o of objects) {
    const id = objectId(o);
    if (!CLUSTER_SCOPED.has(o.kind) && o.metadata.namespace !== namespace)
      out.push(`${id}: namespace is ${o.metadata.namespace ?? "unset"}, expected ${namespace}`);
    if (o.kind === "Secret")
      out.push(
        `${id}: a Secret is rendered; secrets are created from the environment (deploy/scripts/create-secret.sh)`,
      );
  }

  for (const p of pods) out.push(...containerFindings(p));
  out.push(...connectionBudget(objects).findings);
  out.push(...networkFindings(objects, pods, namespace));
  out.push(...monitoringFindings(objects, pods));

  for (const d of deployments) {
    const id = objectId(d);
    const spec = d.spec as Any;
    const podLabels = spec?.template?.metadata?.labels ?? {};
    if (!matches(spec?.selector?.matchLabels, podLabels))
      out.push(`${id}: selector.matchLabels does not match the pod template labels`);
    const scaledBy = hpas.find((h) => {
      const ref = (h.spec as Any)?.scaleTargetRef;
      return ref?.kind === "Deployment" && ref?.name === d.metadata.name;
    });
    if (scaledBy && spec?.replicas !== undefined)
      out.push(`${id}: sets spec.replicas while ${objectId(scaledBy)} scales it (every apply would reset the count)`);
    const replicas = scaledBy ? ((scaledBy.spec as Any).minReplicas ?? 1) : (spec?.replicas ?? 1);
    if (replicas > 1 && !pdbs.some((b) => matches((b.spec as Any)?.selector?.matchLabels, podLabels)))
      out.push(`${id}: runs ${replicas} replicas but no PodDisruptionBudget selects its pods`);
    if (spec?.strategy?.type === "RollingUpdate" && String(spec.strategy.rollingUpdate?.maxUnavailable) !== "0")
      out.push(`${id}: rollingUpdate.maxUnavailable is not 0`);
    if (spec?.progressDeadlineSeconds === undefined) out.push(`${id}: progressDeadlineSeconds not set`);
    if (replicas > 1) {
      const spreadBy = ((spec?.template?.spec?.topologySpreadConstraints ?? []) as Any[])
        .filter((t) => matches(t.labelSelector?.matchLabels, podLabels))
        .map((t) => t.topologyKey);
      for (const key of ["topology.kubernetes.io/zone", "kubernetes.io/hostname"])
        if (!spreadBy.includes(key)) out.push(`${id}: its replicas are not spread over ${key}`);
    }
    if (spec?.revisionHistoryLimit === undefined) out.push(`${id}: revisionHistoryLimit not set`);
  }

  for (const b of pdbs) {
    const selector = (b.spec as Any)?.selector?.matchLabels;
    if (!pods.some((p) => matches(selector, p.labels))) out.push(`${objectId(b)}: selects no pods`);
    if ((b.spec as Any)?.unhealthyPodEvictionPolicy !== "AlwaysAllow")
      out.push(`${objectId(b)}: unhealthyPodEvictionPolicy is not AlwaysAllow (node drains stall on unready pods)`);
  }

  for (const h of hpas) {
    const ref = (h.spec as Any)?.scaleTargetRef;
    if (!objects.some((o) => o.kind === ref?.kind && o.metadata.name === ref?.name))
      out.push(`${objectId(h)}: scaleTargetRef ${ref?.kind}/${ref?.name} is not rendered`);
  }

  for (const s of objects.filter((o) => o.kind === "Service")) {
    const spec = s.spec as Any;
    const targets = deployments.filter((d) =>
      matches(spec?.selector, (d.spec as Any)?.template?.metadata?.labels ?? {}),
    );
    if (targets.length === 0) {
      out.push(`${objectId(s)}: selector matches no Deployment`);
      continue;
    }
    const containerPorts = targets.flatMap((d) =>
      ((d.spec as Any).template.spec.containers as Any[]).flatMap((c) => (c.ports ?? []) as Any[]),
    );
    for (const port of spec.ports ?? []) {
      const target = port.targetPort ?? port.port;
      if (!containerPorts.some((cp) => cp.containerPort === target || cp.name === target))
        out.push(`${objectId(s)}: targetPort ${target} is not a container port of the selected pods`);
    }
  }

  for (const i of objects.filter((o) => o.kind === "Ingress")) {
    const spec = i.spec as Any;
    const tlsHosts = new Set(((spec?.tls ?? []) as Any[]).flatMap((t) => t.hosts ?? []));
    for (const rule of (spec?.rules ?? []) as Any[]) {
      if (!tlsHosts.has(rule.host)) out.push(`${objectId(i)}: host ${rule.host} is not covered by tls`);
      for (const path of (rule.http?.paths ?? []) as Any[]) {
        const backend = path.backend?.service;
        const service = objects.find((o) => o.kind === "Service" && o.metadata.name === backend?.name);
        if (!service) out.push(`${objectId(i)}: backend service ${backend?.name} is not rendered`);
        else if (!((service.spec as Any).ports as Any[]).some((p) => p.port === backend?.port?.number))
          out.push(`${objectId(i)}: backend port ${backend?.port?.number} is not a port of ${objectId(service)}`);
      }
    }
  }

  for (const c of objects.filter((o) => o.kind === "CronJob")) {
    const spec = c.spec as Any;
    const id = objectId(c);
    if (spec?.startingDeadlineSeconds === undefined) out.push(`${id}: startingDeadlineSeconds not set`);
    if (spec?.jobTemplate?.spec?.activeDeadlineSeconds === undefined)
      out.push(`${id}: jobTemplate.spec.activeDeadlineSeconds not set (a hung run would block every later one)`);
    if (spec?.concurrencyPolicy !== "Forbid") out.push(`${id}: concurrencyPolicy is not Forbid`);
    if (!spec?.timeZone) out.push(`${id}: timeZone not set (the schedule would follow the controller's clock)`);
    if (spec?.successfulJobsHistoryLimit === undefined || spec?.failedJobsHistoryLimit === undefined)
      out.push(`${id}: job history limits not set`);
  }
  for (const j of objects.filter((o) => o.kind === "Job"))
    if ((j.spec as Any)?.activeDeadlineSeconds === undefined) out.push(`${objectId(j)}: activeDeadlineSeconds not set`);

  // Every ConfigMap, Secret key source and PVC a pod mounts must be one the render creates (except the
  // Secret, which is created from the environment).
  for (const p of pods) {
    for (const v of (p.pod?.volumes ?? []) as Any[]) {
      if (v.configMap && !objects.some((o) => o.kind === "ConfigMap" && o.metadata.name === v.configMap.name))
        out.push(`${objectId(p.owner)}: volume ${v.name} mounts ConfigMap ${v.configMap.name}, which is not rendered`);
      const claim = v.persistentVolumeClaim?.claimName;
      if (claim && !objects.some((o) => o.kind === "PersistentVolumeClaim" && o.metadata.name === claim))
        out.push(`${objectId(p.owner)}: volume ${v.name} uses PVC ${claim}, which is not rendered`);
    }
  }
  return out;
}
