// deploy/k8s: both overlays render with kubectl's kustomize, every object passes the Kubernetes schema
// and the strict field check, and the policy checks hold. The negative cases prove each check can fail.

import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseDocument } from "yaml";
import {
  BACKUP_CONNECTIONS,
  CONNECTIONS_ANNOTATION,
  connectionBudget,
  IMPORT_CONNECTIONS,
} from "../../scripts/k8s/connection-budget";
import {
  BACKUP_NAMESPACE,
  find,
  K8S_DIR,
  type K8sObject,
  kubectlMissingReason,
  NAMESPACE,
  OVERLAYS,
  parseManifests,
  renderOverlay,
  renderYaml,
} from "../../scripts/k8s/manifests";
import { imageProblem, policyFindings } from "../../scripts/k8s/policy";
import { schemaErrors, unknownFields, validateSchema } from "../../scripts/k8s/schema";
import { loadConfig } from "../../src/config/load";
import { REPO_ROOT } from "../support/repo";
import { tempDir } from "./helpers";

// biome-ignore lint/suspicious/noExplicitAny: tests poke at untyped manifests.
type Any = any;

const missing = kubectlMissingReason();
if (missing) console.warn(`SKIPPED deploy/k8s render tests: ${missing}`);
const withKubectl = missing ? describe.skip : describe;

const rendered = new Map<string, K8sObject[]>();
function objects(overlay: string): K8sObject[] {
  if (!rendered.has(overlay)) rendered.set(overlay, renderOverlay(overlay));
  return rendered.get(overlay)!;
}
const clone = <T>(v: T): T => structuredClone(v);
const container = (o: K8sObject): Any => (o as Any).spec.template.spec.containers[0];
const overlayImage = (overlay: string) => {
  const k = parse(readFileSync(join(K8S_DIR, "overlays", overlay, "kustomization.yaml"), "utf8"));
  const entry = k.images.find((i: Any) => i.name === "transportation-api");
  return `${entry.newName}@${entry.digest}`;
};

/** Key paths of a YAML mapping, e.g. `database.pool_size`. */
function keyPaths(value: unknown, prefix = ""): string[] {
  if (!value || typeof value !== "object" || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}

for (const overlay of OVERLAYS)
  withKubectl(`overlay ${overlay}`, () => {
    it("renders the contract's objects into namespace transportation-system", () => {
      const ids = objects(overlay).map((o) => `${o.kind}/${o.metadata.name}`);
      expect(ids).toEqual(
        expect.arrayContaining([
          `Namespace/${NAMESPACE}`,
          "ConfigMap/transportation-config",
          "Deployment/transportation-api",
          "Service/transportation-api",
          "Ingress/transportation-ingress",
          "PodDisruptionBudget/transportation-api",
          "Job/transportation-migrate",
          "PodMonitor/transportation-api",
          "PrometheusRule/transportation-api",
        ]),
      );
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).not.toContain("Secret/transportation-secrets");
      // Backups are not the application's: `kubectl delete -k` of this overlay leaves them.
      expect(
        objects(overlay).filter((o) => /backup/.test(o.metadata.name) || o.kind === "PersistentVolumeClaim"),
      ).toEqual([]);
    }, 60_000);

    it("passes the Kubernetes schema and the strict unknown-field check", () => {
      expect(schemaErrors(objects(overlay))).toEqual([]);
    }, 60_000);

    it("passes the policy checks", () => {
      expect(policyFindings(objects(overlay))).toEqual([]);
    }, 60_000);

    it("runs the API as the operations design and the contract describe", () => {
      const deployment = find(objects(overlay), "Deployment", "transportation-api") as Any;
      const spec = deployment.spec;
      const c = container(deployment);
      expect(c.name).toBe("transportation-api");
      expect(c.image).toBe(overlayImage(overlay));
      expect(c.ports).toEqual([
        expect.objectContaining({ name: "http", containerPort: 8000 }),
        expect.objectContaining({ name: "metrics", containerPort: 9464 }),
      ]);
      expect(c.livenessProbe).toMatchObject({
        httpGet: { path: "/health" },
        initialDelaySeconds: 30,
        periodSeconds: 10,
      });
      expect(c.readinessProbe).toMatchObject({
        httpGet: { path: "/ready" },
        initialDelaySeconds: 10,
        periodSeconds: 5,
      });
      expect(c.startupProbe.httpGet.path).toBe("/health");
      expect(spec.strategy).toMatchObject({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0 } });
      expect(spec.progressDeadlineSeconds).toBeGreaterThan(0);
      expect(spec.revisionHistoryLimit).toBeGreaterThanOrEqual(2);
      // The pod keeps serving through its preStop pause and still has time to shut down afterwards.
      expect(c.lifecycle.preStop.sleep.seconds).toBeGreaterThan(0);
      // …and its drain lasts as long as a request may (api.timeout), so no request is cut by a rollout.
      const config = loadConfig({ env: {}, file: join(K8S_DIR, "base", "config.yaml") });
      expect(config.api.shutdown_timeout).toBeGreaterThanOrEqual(config.api.timeout);
      expect(spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
        c.lifecycle.preStop.sleep.seconds + config.api.shutdown_timeout + 5,
      );
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true });
      expect(spec.template.spec.securityContext).toMatchObject({ runAsUser: 10001, runAsGroup: 10001 });
      expect(c.volumeMounts).toEqual(expect.arrayContaining([expect.objectContaining({ mountPath: "/tmp" })]));

      const env = Object.fromEntries((c.env as Any[]).map((e) => [e.name, e]));
      for (const [name, key] of [
        ["DATABASE_URL", "database-url"],
        ["REDIS_URL", "redis-url"],
        ["API_KEY", "api-key"],
        ["API_SECRET", "api-secret"],
      ])
        expect(env[name!].valueFrom.secretKeyRef).toEqual({ name: "transportation-secrets", key });
      // The ConfigMap's config.yaml is mounted where CONFIG_FILE points.
      const mount = (c.volumeMounts as Any[]).find((m) => env.CONFIG_FILE.value.startsWith(`${m.mountPath}/`));
      const volume = (spec.template.spec.volumes as Any[]).find((v) => v.name === mount.name);
      expect(volume.configMap.name).toBe("transportation-config");
      expect(env.CONFIG_FILE.value).toBe("/etc/transportation/config.yaml");
    }, 60_000);

    it("exposes the API only through the TLS Ingress: a ClusterIP Service, port 8000 open to the ingress controller", () => {
      const service = find(objects(overlay), "Service", "transportation-api") as Any;
      expect(service.spec.type).toBe("ClusterIP");
      const api = find(objects(overlay), "NetworkPolicy", "transportation-api") as Any;
      // The metrics port, on no Service, is open to the monitoring namespace only.
      expect(api.spec.ingress).toEqual([
        {
          from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }],
          ports: [{ protocol: "TCP", port: "http" }],
        },
        {
          from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
          ports: [{ protocol: "TCP", port: "metrics" }],
        },
      ]);
      expect(service.spec.ports).toEqual([expect.objectContaining({ port: 80, targetPort: 8000 })]);
      const ingress = find(objects(overlay), "Ingress", "transportation-ingress") as Any;
      const host = ingress.spec.rules[0].host;
      expect(host).not.toContain("example.invalid");
      expect(ingress.spec.tls[0].hosts).toEqual([host]);
    }, 60_000);

    it("migrates with the same image as the Deployment", () => {
      const job = find(objects(overlay), "Job", "transportation-migrate") as Any;
      expect(container(job).args).toEqual(["migrate"]);
      expect(container(job).image).toBe(container(find(objects(overlay), "Deployment", "transportation-api")).image);
      expect(job.spec.template.metadata.labels.app).not.toBe("transportation-api"); // not behind the Service
    }, 60_000);

    it("ships deploy/k8s/base/config.yaml as the ConfigMap", () => {
      const config = find(objects(overlay), "ConfigMap", "transportation-config") as Any;
      expect(config.data["config.yaml"]).toBe(readFileSync(join(K8S_DIR, "base", "config.yaml"), "utf8"));
    }, 60_000);
  });

for (const overlay of OVERLAYS)
  withKubectl(`backups of ${overlay}`, () => {
    const backups = () => objects(`backup-${overlay}`);
    it("live in their own namespace and kustomization, apart from the application", () => {
      const ids = backups().map((o) => `${o.kind}/${o.metadata.name}`);
      expect(ids).toEqual(
        expect.arrayContaining([
          `Namespace/${BACKUP_NAMESPACE}`,
          "ConfigMap/transportation-backup-scripts",
          "CronJob/transportation-backup",
          "PersistentVolumeClaim/transportation-backups",
          "NetworkPolicy/transportation-backup-default-deny",
          "NetworkPolicy/transportation-backup-jobs",
        ]),
      );
      for (const o of backups()) if (o.kind !== "Namespace") expect(o.metadata.namespace).toBe(BACKUP_NAMESPACE);
      // Nothing of the application (no app image, no object in its namespace): applying or deleting
      // one never touches the other.
      const images = backups().flatMap((o) =>
        o.kind === "CronJob"
          ? ((o as Any).spec.jobTemplate.spec.template.spec.containers as Any[]).map((c) => c.image)
          : [],
      );
      expect(images.some((i) => i.includes("transportation-api"))).toBe(false);
      expect(schemaErrors(backups())).toEqual([]);
      expect(policyFindings(backups())).toEqual([]);
    }, 60_000);

    it("runs PostgreSQL's tools pinned by digest, the same image for backups, restores and the runbook", () => {
      const cron = find(backups(), "CronJob", "transportation-backup") as Any;
      const image = cron.spec.jobTemplate.spec.template.spec.containers[0].image as string;
      expect(image).toMatch(/^postgres:15[.\d]*@sha256:[0-9a-f]{64}$/);
      const restoreDefault = /^image=(\S+)$/m.exec(
        readFileSync(join(REPO_ROOT, "deploy/scripts/restore-k8s.sh"), "utf8"),
      )?.[1];
      expect(restoreDefault).toBe(image);
      const docImages = [
        ...readFileSync(join(REPO_ROOT, "docs/operations.md"), "utf8").matchAll(/image: (postgres\S*)/g),
      ];
      expect(docImages.map((m) => m[1])).toEqual([image]); // the db-debug pod
      // Dependabot keeps it current (tag and digest together), within major 15.
      const dependabot = parse(readFileSync(join(REPO_ROOT, ".github/dependabot.yml"), "utf8"));
      const docker = dependabot.updates.find((u: Any) => u["package-ecosystem"] === "docker");
      expect(docker.directories).toContain("/deploy/k8s/backup/base");
      expect(docker.ignore).toContainEqual({
        "dependency-name": "postgres",
        "update-types": ["version-update:semver-major"],
      });
    }, 60_000);

    it("backs up daily at 02:00 with backup.sh in a postgres:15 image onto the backup volume", () => {
      const cron = find(backups(), "CronJob", "transportation-backup") as Any;
      expect(cron.spec).toMatchObject({ schedule: "0 2 * * *", concurrencyPolicy: "Forbid" });
      expect(cron.spec.timeZone).toBeTruthy();
      expect(cron.spec.failedJobsHistoryLimit).toBeGreaterThanOrEqual(1); // a failed night stays visible
      const pod = cron.spec.jobTemplate.spec.template.spec;
      const c = pod.containers[0];
      expect(c.image).toMatch(/^postgres:15(\.|-|@|$)/);
      expect(c.command.join(" ")).toMatch(/backup\.sh$/);
      const env = Object.fromEntries((c.env as Any[]).map((e) => [e.name, e]));
      expect(env.DATABASE_URL.valueFrom.secretKeyRef).toEqual({ name: "transportation-secrets", key: "database-url" });
      expect(Number(env.RETENTION_DAYS.value)).toBe(overlay === "staging" ? 3 : 7);
      const backupMount = (c.volumeMounts as Any[]).find((m) => m.mountPath === env.BACKUP_DIR.value);
      const volume = (pod.volumes as Any[]).find((v) => v.name === backupMount.name);
      expect(volume.persistentVolumeClaim.claimName).toBe("transportation-backups");
      // The scripts ConfigMap carries the very files cron runs.
      const scripts = find(backups(), "ConfigMap", "transportation-backup-scripts") as Any;
      for (const name of ["backup.sh", "restore.sh", "pg-common.sh"])
        expect(scripts.data[name]).toBe(readFileSync(join(REPO_ROOT, "deploy", "scripts", name), "utf8"));
    }, 60_000);

    it("refreshes the static feed on the overlay's schedule, one run at a time, hardened like the API", () => {
      const cron = find(objects(overlay), "CronJob", "transportation-feed-refresh") as Any;
      expect(cron.spec).toMatchObject({
        schedule: overlay === "production" ? "15 * * * *" : "*/30 * * * *",
        timeZone: "Etc/UTC",
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
      });
      const template = cron.spec.jobTemplate.spec.template;
      // The feed-import NetworkPolicy selects it: DNS, PostgreSQL and HTTPS.
      expect(template.metadata.labels.app).toBe("transportation-import");
      const api = find(objects(overlay), "Deployment", "transportation-api") as Any;
      const c = template.spec.containers[0];
      expect(c.image).toBe(overlayImage(overlay));
      expect(c.args).toEqual(["import", "--refresh"]);
      expect(template.spec.securityContext).toEqual(api.spec.template.spec.securityContext);
      expect(c.securityContext).toEqual(container(api).securityContext);
      expect(template.spec.automountServiceAccountToken).toBe(false);
      expect(Object.keys(c.resources).sort()).toEqual(["limits", "requests"]);
      // The feed sources come from the optional Secret, for the refresh and the API's realtime alike.
      const feeds = [{ secretRef: { name: "transportation-feeds", optional: true } }];
      expect(c.envFrom).toEqual(feeds);
      expect(container(api).envFrom).toEqual(feeds);
      const env = Object.fromEntries((c.env as Any[]).map((e) => [e.name, e]));
      expect(env.DATABASE_URL.valueFrom.secretKeyRef).toEqual({ name: "transportation-secrets", key: "database-url" });
      // A run is an import: it counts in the connection budget like one.
      expect(cron.metadata.annotations[CONNECTIONS_ANNOTATION]).toBe(String(IMPORT_CONNECTIONS));
    }, 60_000);
  });

withKubectl("overlay differences", () => {
  it("production runs at least 3 replicas through an HPA that owns the count", () => {
    const prod = objects("production");
    const hpa = find(prod, "HorizontalPodAutoscaler", "transportation-api") as Any;
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(3);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect((find(prod, "Deployment", "transportation-api") as Any).spec.replicas).toBeUndefined();
    // The design's resources apply in production.
    expect(container(find(prod, "Deployment", "transportation-api")).resources).toEqual({
      requests: { cpu: "1000m", memory: "2Gi" },
      limits: { cpu: "2000m", memory: "4Gi" },
    });
  }, 60_000);

  it("staging has a fixed replica count, its own host and smaller pods", () => {
    const staging = objects("staging");
    expect(staging.some((o) => o.kind === "HorizontalPodAutoscaler")).toBe(false);
    const deployment = find(staging, "Deployment", "transportation-api") as Any;
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    const hosts = OVERLAYS.map(
      (o) => (find(objects(o), "Ingress", "transportation-ingress") as Any).spec.rules[0].host,
    );
    expect(new Set(hosts).size).toBe(OVERLAYS.length);
    const cpu = (o: string) => container(find(objects(o), "Deployment", "transportation-api")).resources.requests.cpu;
    expect(Number.parseInt(cpu("staging"), 10)).toBeLessThan(Number.parseInt(cpu("production"), 10));
  }, 60_000);

  it("refuses an overlay that names a release for the app image (kubectl apply -k would roll it out)", () => {
    const copy = tempDir("kustomize");
    try {
      cpSync(join(REPO_ROOT, "deploy"), join(copy, "deploy"), { recursive: true });
      const file = join(copy, "deploy", "k8s", "overlays", "production", "kustomization.yaml");
      const doc = parseDocument(readFileSync(file, "utf8"));
      const entry = (doc.get("images") as Any).items.find((i: Any) => i.get("name") === "transportation-api");
      entry.delete("digest");
      entry.set("newTag", "0.1.0");
      writeFileSync(file, doc.toString());
      const out = parseManifests(renderYaml(join(copy, "deploy", "k8s", "overlays", "production")));
      const images = out.flatMap((o) =>
        o.kind === "Deployment" || o.kind === "Job" ? [container(o).image as string] : [],
      );
      expect(images).toEqual([
        "ghcr.io/transportation-ai/transportation-api:0.1.0",
        "ghcr.io/transportation-ai/transportation-api:0.1.0",
      ]);
      const findings = policyFindings(out).join("\n");
      expect(findings).toMatch(
        /Deployment\/transportation-api: container transportation-api: image \S+:0\.1\.0 names a release/,
      );
      expect(findings).toMatch(/Job\/transportation-migrate: container migrate: image \S+:0\.1\.0 names a release/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 60_000);
});

withKubectl("the checks catch broken manifests", () => {
  const deployment = () => clone(find(objects("production"), "Deployment", "transportation-api")) as Any;
  const all = () => clone(objects("production")) as Any[];
  const replace = (list: Any[], obj: Any) =>
    list.map((o) => (o.kind === obj.kind && o.metadata.name === obj.metadata.name ? obj : o));

  it("flags misspelt fields that the schema validator lets through", () => {
    const d = deployment();
    d.spec.replicsa = 3;
    container(d).livenesProbe = { httpGet: { path: "/health", port: 8000 } };
    d.spec.template.spec.securityContext.runAsUsr = 0;
    expect(validateSchema(d)).toEqual([]); // kubernetes-models alone misses all three
    expect(unknownFields(d)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/spec\.replicsa: unknown field \(did you mean "replicas"\?\)/),
        expect.stringMatching(/containers\[0\]\.livenesProbe: unknown field \(did you mean "livenessProbe"\?\)/),
        expect.stringMatching(/securityContext\.runAsUsr: unknown field/),
      ]),
    );
    expect(unknownFields(d)).toHaveLength(3);
  }, 60_000);

  it("accepts free-form maps (labels, annotations, ConfigMap data, resource names)", () => {
    const d = deployment();
    d.metadata.annotations = { "example.com/anything": "x" };
    d.spec.template.metadata.labels["team.example.com/owner"] = "ops";
    container(d).resources.limits["ephemeral-storage"] = "1Gi";
    expect(unknownFields(d)).toEqual([]);
  }, 60_000);

  it("flags schema type errors and kinds it has no schema for", () => {
    const d = deployment();
    d.spec.template.spec.containers[0].ports[0].containerPort = "eight thousand";
    expect(validateSchema(d).join()).toMatch(/containerPort must be integer/);
    expect(validateSchema({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } })).toEqual([
      expect.stringMatching(/no schema for example\.com\/v1\/Widget/),
    ]);
  }, 60_000);

  it("flags latest or missing tags, missing probes and resources, root and writable root filesystems", () => {
    const d = deployment();
    const c = container(d);
    c.image = "ghcr.io/transportation-ai/transportation-api:latest";
    delete c.readinessProbe;
    delete c.resources.limits.memory;
    c.securityContext.readOnlyRootFilesystem = false;
    c.securityContext.runAsNonRoot = false;
    d.spec.template.spec.securityContext.runAsNonRoot = false;
    const findings = policyFindings(replace(all(), d)).join("\n");
    expect(findings).toMatch(/uses the latest tag/);
    expect(findings).toMatch(/no readinessProbe/);
    expect(findings).toMatch(/resources\.limits\.memory not set/);
    expect(findings).toMatch(/readOnlyRootFilesystem is not true/);
    expect(findings).toMatch(/runAsNonRoot is not true/);
    const cron = clone(find(objects("backup-production"), "CronJob", "transportation-backup")) as Any;
    cron.spec.jobTemplate.spec.template.spec.containers[0].image = "postgres:15";
    expect(policyFindings([cron]).join("\n")).toMatch(
      /CronJob\/transportation-backup: container backup: image postgres:15 is a mutable tag; pin it as tag@sha256/,
    );
    expect(imageProblem("transportation-api")).toMatch(/no tag/);
    expect(imageProblem("localhost:5000/transportation-api")).toMatch(/no tag/);
    expect(imageProblem("localhost:5000/transportation-api:1.2.3")).toBeUndefined();
    expect(imageProblem(`ghcr.io/x/y@sha256:${"a".repeat(64)}`)).toBeUndefined();
  }, 60_000);

  it("flags a selector that misses the pod labels, a missing PDB, and replicas fighting the HPA", () => {
    const d = deployment();
    d.spec.selector.matchLabels = { app: "something-else" };
    d.spec.replicas = 3;
    const withoutPdb = replace(all(), d).filter((o: Any) => o.kind !== "PodDisruptionBudget");
    const findings = policyFindings(withoutPdb).join("\n");
    expect(findings).toMatch(/selector\.matchLabels does not match the pod template labels/);
    expect(findings).toMatch(/no PodDisruptionBudget selects its pods/);
    expect(findings).toMatch(/sets spec\.replicas while HorizontalPodAutoscaler\/transportation-api scales it/);
  }, 60_000);

  it("flags a PDB that stalls drains on unready pods, and replicas spread over nodes only", () => {
    const list = all();
    const pdb = list.find((o) => o.kind === "PodDisruptionBudget");
    expect(pdb.spec.unhealthyPodEvictionPolicy).toBe("AlwaysAllow");
    delete pdb.spec.unhealthyPodEvictionPolicy;
    const d = list.find((o) => o.kind === "Deployment");
    const keys = (d.spec.template.spec.topologySpreadConstraints as Any[]).map((t) => t.topologyKey);
    expect(keys).toEqual(["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
    d.spec.template.spec.topologySpreadConstraints = d.spec.template.spec.topologySpreadConstraints.filter(
      (t: Any) => t.topologyKey === "kubernetes.io/hostname",
    );
    const findings = policyFindings(list).join("\n");
    expect(findings).toMatch(/PodDisruptionBudget\/transportation-api: unhealthyPodEvictionPolicy is not AlwaysAllow/);
    expect(findings).toMatch(
      /Deployment\/transportation-api: its replicas are not spread over topology\.kubernetes\.io\/zone/,
    );
    expect(findings).not.toMatch(/not spread over kubernetes\.io\/hostname/);
  }, 60_000);

  it("flags a CronJob without deadlines and a rendered Secret", () => {
    const list = clone(objects("backup-production")) as Any[];
    const cron = list.find((o) => o.kind === "CronJob");
    delete cron.spec.startingDeadlineSeconds;
    delete cron.spec.jobTemplate.spec.activeDeadlineSeconds;
    cron.spec.concurrencyPolicy = "Allow";
    list.push({ apiVersion: "v1", kind: "Secret", metadata: { name: "leak", namespace: BACKUP_NAMESPACE } });
    const findings = policyFindings(list).join("\n");
    expect(findings).toMatch(/startingDeadlineSeconds not set/);
    expect(findings).toMatch(/activeDeadlineSeconds not set/);
    expect(findings).toMatch(/concurrencyPolicy is not Forbid/);
    expect(findings).toMatch(/Secret\/leak: a Secret is rendered/);
  }, 60_000);

  it("isolates the namespace and lets each workload through only for what it needs", () => {
    const list = all();
    const policy = (name: string) => list.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === name);
    expect(policy("transportation-default-deny").spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const ports = (rules: Any[]) => rules.flatMap((r) => r.ports.map((p: Any) => `${p.protocol}/${p.port}`)).sort();
    expect(ports(policy("transportation-api").spec.ingress)).toEqual(["TCP/http", "TCP/metrics"]);
    expect(policy("transportation-api").spec.ingress[0].from).toHaveLength(1);
    expect(policy("transportation-api").spec.ingress[1].from).toEqual([
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
    ]);
    expect(ports(policy("transportation-api").spec.egress)).toEqual([
      "TCP/4318",
      "TCP/53",
      "TCP/5432",
      "TCP/6379",
      "UDP/53",
    ]);
    expect(ports(policy("transportation-jobs").spec.egress)).toEqual(["TCP/53", "TCP/5432", "UDP/53"]);
    expect(policy("transportation-jobs").spec.ingress).toBeUndefined(); // nothing connects to a Job
    expect(ports(policy("transportation-import").spec.egress)).toEqual([
      "TCP/4318",
      "TCP/443",
      "TCP/53",
      "TCP/5432",
      "TCP/9091",
      "UDP/53",
    ]);
    expect(ports(policy("transportation-acme-solver").spec.ingress)).toEqual(["TCP/8089"]);
    expect(policy("transportation-acme-solver").spec.podSelector.matchLabels).toEqual({
      "acme.cert-manager.io/http01-solver": "true",
    });
    // Pods started outside the render reach PostgreSQL too: restore-k8s.sh's Job (in the backup namespace)
    // and the runbook's debug pod.
    const backupJobs = (objects("backup-production") as Any[]).find(
      (o) => o.metadata.name === "transportation-backup-jobs",
    );
    const script = readFileSync(join(REPO_ROOT, "deploy/scripts/restore-k8s.sh"), "utf8");
    const heredoc = /restore_job_manifest\(\) \{\n\s*cat <<EOF\n([\s\S]*?)\nEOF/.exec(script)![1]!;
    const restoreJob = parse(heredoc.replace(/\$\w+|\$\d/g, "1"));
    const restoreLabel = restoreJob.spec.template.metadata.labels.app;
    const debugLabel = /name: db-debug, labels: \{app: ([\w-]+)\}/.exec(
      readFileSync(join(REPO_ROOT, "docs/operations.md"), "utf8"),
    )?.[1];
    expect([restoreLabel, debugLabel]).toEqual(["transportation-restore", "db-debug"]);
    expect(policy("transportation-jobs").spec.podSelector.matchExpressions[0].values).toContain(debugLabel);
    expect(backupJobs.spec.podSelector.matchExpressions[0].values).toContain(restoreLabel);
    expect(ports(backupJobs.spec.egress)).toEqual(["TCP/53", "TCP/5432", "UDP/53"]);
  }, 60_000);

  it("flags a namespace without a default deny, workloads no policy lets out, and a Service port kept shut", () => {
    const withoutDeny = all().filter((o) => o.metadata.name !== "transportation-default-deny");
    expect(policyFindings(withoutDeny).join("\n")).toMatch(/no default-deny NetworkPolicy/);

    const withoutJobs = all().filter((o) => o.metadata.name !== "transportation-jobs");
    const jobFindings = policyFindings(withoutJobs).join("\n");
    expect(jobFindings).toMatch(/Job\/transportation-migrate: no NetworkPolicy allows its pods any traffic/);
    const backupFindings = policyFindings(
      objects("backup-production").filter((o) => o.metadata.name !== "transportation-backup-jobs"),
    ).join("\n");
    expect(backupFindings).toMatch(/CronJob\/transportation-backup: no NetworkPolicy allows its pods any traffic/);

    const list = all();
    const api = list.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "transportation-api");
    api.spec.ingress[0].ports[0].port = 9000;
    api.spec.egress = api.spec.egress.filter((r: Any) => !r.ports.some((p: Any) => p.port === 53));
    const apiFindings = policyFindings(list).join("\n");
    expect(apiFindings).toMatch(
      /Service\/transportation-api: no NetworkPolicy admits connections to port 8000 of Deployment\/transportation-api from the ingress controller's namespace/,
    );
    expect(apiFindings).toMatch(/Deployment\/transportation-api: no NetworkPolicy lets its pods resolve names/);
  }, 60_000);

  it("flags a plain-HTTP Service type and an API port open to any source (the design's LoadBalancer)", () => {
    const list = all();
    const service = list.find((o) => o.kind === "Service" && o.metadata.name === "transportation-api");
    service.spec.type = "LoadBalancer";
    const api = list.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "transportation-api");
    delete api.spec.ingress[0].from;
    const findings = policyFindings(list).join("\n");
    expect(findings).toMatch(
      /Service\/transportation-api: type LoadBalancer serves the API over plain HTTP beside the TLS Ingress; use ClusterIP/,
    );
    expect(findings).toMatch(
      /Deployment\/transportation-api: a NetworkPolicy admits port 8000 from any source; only the ingress controller's namespace/,
    );
    for (const open of [[{ ipBlock: { cidr: "0.0.0.0/0" } }], [{ namespaceSelector: {} }], []]) {
      api.spec.ingress[0].from = open;
      expect(policyFindings(list).join("\n")).toMatch(/admits port 8000 from any source/);
    }
  }, 60_000);

  it("sets the ingress controller's namespace per overlay, for the API and the ACME solver alike", () => {
    const copy = tempDir("ingressns");
    try {
      cpSync(join(REPO_ROOT, "deploy"), join(copy, "deploy"), { recursive: true });
      const file = join(copy, "deploy", "k8s", "overlays", "staging", "kustomization.yaml");
      writeFileSync(file, readFileSync(file, "utf8").replace("metadata.name: ingress-nginx", "metadata.name: traefik"));
      const out = parseManifests(renderYaml(join(copy, "deploy", "k8s", "overlays", "staging"))) as Any[];
      for (const name of ["transportation-api", "transportation-acme-solver"]) {
        const np = out.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === name);
        expect(np.spec.ingress[0].from).toEqual([
          { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "traefik" } } },
        ]);
      }
      expect(policyFindings(out)).toEqual([]);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 60_000);

  it("lets the API and the feed refresh reach feed sources over HTTPS, and flags them when they cannot", () => {
    const list = all();
    const policy = (name: string) => list.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === name);
    expect(policy("transportation-api-feeds").spec.egress).toEqual([{ ports: [{ protocol: "TCP", port: 443 }] }]);
    expect(policyFindings(list)).toEqual([]);
    const withoutApiFeeds = list.filter((o) => o.metadata.name !== "transportation-api-feeds");
    expect(policyFindings(withoutApiFeeds)).toEqual([
      "Deployment/transportation-api: no NetworkPolicy lets its pods reach feed sources over HTTPS (TCP 443)",
    ]);
    policy("transportation-import").spec.egress = policy("transportation-import").spec.egress.map((r: Any) => ({
      ports: r.ports.filter((p: Any) => p.port !== 443),
    }));
    expect(policyFindings(list)).toEqual([
      "CronJob/transportation-feed-refresh: no NetworkPolicy lets its pods reach feed sources over HTTPS (TCP 443)",
    ]);
  }, 60_000);

  it("flags DNS over TCP only or inside the namespace only, and a lost database port", () => {
    const list = all();
    const policy = (name: string) => list.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === name);
    const api = policy("transportation-api");
    api.spec.egress[0] = { to: [{ podSelector: {} }], ports: api.spec.egress[0].ports };
    const jobs = policy("transportation-jobs");
    jobs.spec.egress = [{ ports: [{ protocol: "TCP", port: 53 }] }];
    const findings = policyFindings(list).join("\n");
    expect(findings).toMatch(/Deployment\/transportation-api: no NetworkPolicy lets its pods resolve names/);
    expect(findings).toMatch(/Job\/transportation-migrate: no NetworkPolicy lets its pods resolve names/);
    expect(findings).toMatch(/Job\/transportation-migrate: no NetworkPolicy lets its pods reach PostgreSQL/);
    expect(findings).not.toMatch(/Deployment\/transportation-api: .*reach PostgreSQL/);

    // An empty ports list admits every port, as in Kubernetes.
    jobs.spec.egress = [{ ports: [] }];
    expect(policyFindings(list).join("\n")).not.toMatch(/Job\/transportation-migrate/);
  }, 60_000);

  it("scrapes the metrics port with a PodMonitor, reachable by the scraper and by no Service", () => {
    const list = all();
    const monitor = list.find((o) => o.kind === "PodMonitor")!;
    expect((monitor as Any).spec.podMetricsEndpoints[0]).toMatchObject({ port: "metrics", path: "/metrics" });
    const deployment = list.find((o) => o.kind === "Deployment")!;
    expect(container(deployment).ports).toContainEqual({ name: "metrics", containerPort: 9464, protocol: "TCP" });
    expect(container(deployment).env).toContainEqual({ name: "METRICS_PORT", value: "9464" });
    const rule = list.find((o) => o.kind === "PrometheusRule")!;
    expect((rule as Any).spec.groups[0].rules.length).toBeGreaterThanOrEqual(10);
    expect(policyFindings(list)).toEqual([]);

    // The metrics port admitted from any source, like an API port open to all.
    const api = list.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "transportation-api")!;
    const fromMonitoring = clone((api as Any).spec.ingress[1]);
    delete (api as Any).spec.ingress[1].from;
    expect(policyFindings(list).join("\n")).toMatch(
      /Deployment\/transportation-api: a NetworkPolicy admits the metrics port metrics from any source/,
    );
    (api as Any).spec.ingress[1] = fromMonitoring;
    expect(policyFindings(list)).toEqual([]);

    // The metrics port on the Service, the scraper shut out, an alert without a runbook.
    const service = list.find((o) => o.kind === "Service")!;
    (service as Any).spec.ports.push({ name: "metrics", port: 9464, targetPort: "metrics", protocol: "TCP" });
    (api as Any).spec.ingress = [(api as Any).spec.ingress[0]];
    delete (rule as Any).spec.groups[0].rules[0].annotations.runbook_url;
    const findings = policyFindings(list).join("\n");
    expect(findings).toMatch(/Service\/transportation-api: exposes the metrics port metrics/);
    expect(findings).toMatch(
      /PodMonitor\/transportation-api: no NetworkPolicy lets the scraper's namespace reach port metrics/,
    );
    expect(findings).toMatch(/PrometheusRule\/transportation-api: alert TransportationApiDown has no runbook_url/);
  }, 60_000);

  it("runs as `npm run k8s:validate`, which fails on a broken overlay", () => {
    const bun = join(REPO_ROOT, "node_modules", ".bin", "bun");
    const out = execFileSync(bun, ["scripts/k8s/validate.ts"], { cwd: REPO_ROOT, encoding: "utf8" });
    for (const overlay of OVERLAYS) expect(out).toMatch(new RegExp(`^${overlay}: \\d+ objects, 0 findings$`, "m"));

    const copy = tempDir("broken");
    try {
      cpSync(join(REPO_ROOT, "deploy"), join(copy, "deploy"), { recursive: true });
      const file = join(copy, "deploy", "k8s", "base", "deployment.yaml");
      writeFileSync(file, readFileSync(file, "utf8").replace("  replicas: 3\n", "  replicas: 3\n  replicsa: 3\n"));
      const overlay = join(copy, "deploy", "k8s", "overlays", "staging");
      const broken = spawnSync(bun, ["scripts/k8s/validate.ts", overlay], { cwd: REPO_ROOT, encoding: "utf8" });
      expect(broken.status).toBe(1);
      expect(broken.stdout).toMatch(/spec\.replicsa: unknown field/);
      expect(broken.stdout).toMatch(/1 findings$/m);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 120_000);
});

withKubectl("database connection budget", () => {
  it("fits each overlay's peak into the server's max_connections", () => {
    for (const overlay of OVERLAYS) {
      const { budget, findings } = connectionBudget(objects(overlay));
      expect(findings, overlay).toEqual([]);
      console.log(
        `${overlay}: ${budget!.total} of ${budget!.maxConnections} connections at peak (${budget!.lines.map((l) => `${l.what} ${l.connections}`).join(", ")})`,
      );
      expect(budget!.total).toBeLessThanOrEqual(budget!.maxConnections);
    }
  }, 60_000);

  it("counts the backups, rendered apart, with the connections their CronJob declares", () => {
    for (const overlay of OVERLAYS) {
      const cronJob = find(objects(`backup-${overlay}`), "CronJob", "transportation-backup");
      expect(Number((cronJob.metadata.annotations as Record<string, string>)[CONNECTIONS_ANNOTATION])).toBe(
        BACKUP_CONNECTIONS,
      );
      expect(connectionBudget(objects(`backup-${overlay}`))).toEqual({ findings: [] });
      expect(connectionBudget(objects(overlay)).budget?.lines).toContainEqual({
        what: "the backups (deploy/k8s/backup)",
        connections: BACKUP_CONNECTIONS,
      });
    }
  }, 60_000);

  it("flags the design's pools at production's maxReplicas, and a Job that does not declare its connections", () => {
    const list = clone(objects("production"));
    const config = find(list, "ConfigMap", "transportation-config") as Any;
    config.data["config.yaml"] = config.data["config.yaml"]
      .replace(/pool_size: \d+/, "pool_size: 10")
      .replace(/max_overflow: \d+/, "max_overflow: 20");
    delete (find(list, "Job", "transportation-migrate").metadata as Any).annotations;
    const findings = policyFindings(list).join("\n");
    expect(findings).toMatch(
      /ConfigMap\/transportation-config: the database connection budget is 345 at peak but max_connections is 100: API: \(maxReplicas 10 \+ maxSurge 1\) pods × pool ceiling 30 = 330;/,
    );
    expect(findings).toMatch(
      /Job\/transportation-migrate: annotation transportation-api\/database-connections \(connections one run opens\) is not set/,
    );
  }, 60_000);

  it("offers PgBouncer as a component: policies hold, the API goes through it, jobs do not", () => {
    const copy = tempDir("pgbouncer");
    try {
      cpSync(K8S_DIR, join(copy, "k8s"), { recursive: true });
      cpSync(join(REPO_ROOT, "deploy", "scripts"), join(copy, "scripts"), { recursive: true });
      const production = join(copy, "k8s", "overlays", "production", "kustomization.yaml");
      writeFileSync(production, `${readFileSync(production, "utf8")}\ncomponents:\n  - ../../components/pgbouncer\n`);
      const list = parseManifests(renderYaml(join(copy, "k8s", "overlays", "production")));
      expect([...schemaErrors(list), ...policyFindings(list)]).toEqual([]);
      const urlKey = (o: K8sObject) =>
        container(o).env.find((e: Any) => e.name === "DATABASE_URL").valueFrom.secretKeyRef.key;
      expect(urlKey(find(list, "Deployment", "transportation-api"))).toBe("database-pooled-url");
      expect(container(find(list, "Deployment", "transportation-api")).env).toEqual(
        expect.arrayContaining([{ name: "DATABASE_TRANSACTION_POOLING", value: "true" }]),
      );
      expect(urlKey(find(list, "Job", "transportation-migrate"))).toBe("database-url");
      expect(container(find(list, "Deployment", "transportation-pgbouncer")).env).toEqual(
        expect.arrayContaining([{ name: "POOL_MODE", value: "transaction" }]),
      );
      // The server sees PgBouncer's pools, not the API pods': the design's larger pools fit again.
      const config = find(list, "ConfigMap", "transportation-config") as Any;
      config.data["config.yaml"] = config.data["config.yaml"]
        .replace(/pool_size: \d+/, "pool_size: 10")
        .replace(/max_overflow: \d+/, "max_overflow: 20");
      const { budget, findings } = connectionBudget(list);
      expect(findings).toEqual([]);
      expect(budget!.lines[0]).toEqual({
        what: "PgBouncer: 3 pods at a rollout's peak × a server pool of 25",
        connections: 75,
      });
      // Its port is for the API pods: opened to any source, or to no one, the policy check says so.
      const open = clone(list);
      delete ((find(open, "NetworkPolicy", "transportation-pgbouncer").spec as Any).ingress[0] as Any).from;
      expect(policyFindings(open)).toContain(
        "Deployment/transportation-pgbouncer: a NetworkPolicy admits port postgres from any source; only the pods that use it should reach it",
      );
      const closed = clone(list);
      (find(closed, "NetworkPolicy", "transportation-pgbouncer").spec as Any).ingress = [];
      expect(policyFindings(closed)).toContain(
        "Service/transportation-pgbouncer: no NetworkPolicy admits connections to port postgres of Deployment/transportation-pgbouncer",
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("configuration and secrets", () => {
  it("commits only a placeholder feeds Secret, keyed by exactly the feed variables the service reads", () => {
    const example = parse(readFileSync(join(K8S_DIR, "feeds-secret.example.yaml"), "utf8"));
    expect(validateSchema(example)).toEqual([]);
    expect(unknownFields(example)).toEqual([]);
    expect(example.metadata).toEqual({ name: "transportation-feeds", namespace: NAMESPACE });
    for (const value of Object.values(example.stringData) as string[]) expect(value).toMatch(/REPLACE/);
    const load = readFileSync(join(REPO_ROOT, "src", "config", "load.ts"), "utf8");
    const read = new Set(
      [...load.matchAll(/env\.(GTFS_[A-Z_]+)|envHeaders\(env, "(GTFS_[A-Z_]+)"/g)].map((m) => m[1] ?? m[2]),
    );
    expect(Object.keys(example.stringData).sort()).toEqual([...read].sort());
  }, 60_000);

  it("keeps deploy/k8s/base/config.yaml in step with the repository's config.yaml", () => {
    const root = parse(readFileSync(join(REPO_ROOT, "config.yaml"), "utf8"));
    const cluster = parse(readFileSync(join(K8S_DIR, "base", "config.yaml"), "utf8"));
    expect(Object.keys(cluster)).toEqual(Object.keys(root));
    expect(keyPaths(cluster).sort()).toEqual(keyPaths(root).sort());
    // Hosts come from DATABASE_URL / REDIS_URL in the cluster; the rest of the shape stays usable.
    expect(cluster.database.host).toBeNull();
    expect(cluster.redis.host).toBeNull();
    expect(cluster.api.port).toBe(8000);
  }, 60_000);

  it("commits only a placeholder Secret, with exactly the keys the workloads read", () => {
    const example = parse(readFileSync(join(K8S_DIR, "secret.example.yaml"), "utf8"));
    expect(validateSchema(example)).toEqual([]);
    expect(unknownFields(example)).toEqual([]);
    expect(example.data).toBeUndefined();
    for (const value of Object.values(example.stringData) as string[])
      expect(value).toMatch(/REPLACE|USER:PASSWORD|_HOST/);
    const base = readFileSync(join(K8S_DIR, "base", "deployment.yaml"), "utf8");
    const keys = [...base.matchAll(/key: ([a-z-]+)\n/g)].map((m) => m[1]).filter((k) => k !== "config.yaml");
    expect(Object.keys(example.stringData).sort()).toEqual([...new Set(keys)].sort());
  }, 60_000);
});
