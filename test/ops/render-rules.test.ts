// The deploy's rewrite of a rendered overlay, rule by rule, on a small overlay written here: which
// containers get the release image (the app's, in the Deployment, the migration Job and CronJobs; init
// containers too; never a sidecar), what is kept apart, which Secret values are masked, and what is refused.
import { describe, expect, it } from "vitest";
import {
  imageOf,
  imageRef,
  isAppImage,
  renderKeepingImage,
  renderWithImage,
  repositoryOf,
  toYaml,
} from "../../scripts/ops/lib/render";

const OVERLAY = `apiVersion: v1
kind: Secret
metadata:
  name: transportation-secrets
data:
  API_KEY: c2VjcmV0LWtleQ==
stringData:
  DATABASE_URL: postgres://u:p@db/app
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: transportation-config
data:
  image: transportation-api:0.0.0
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: transportation-api
spec:
  template:
    spec:
      initContainers:
        - name: wait
          image: transportation-api:0.0.0
      containers:
        - name: proxy
          image: envoyproxy/envoy:v1.30
        - name: transportation-api
          image: transportation-api:0.0.0
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: another-app
spec:
  template:
    spec:
      containers:
        - name: app
          image: transportation-api:0.0.0
---
apiVersion: batch/v1
kind: Job
metadata:
  name: transportation-migrate
spec:
  template:
    spec:
      containers:
        - name: migrate
          image: registry.local:5000/team/transportation-api:0.0.0
---
apiVersion: batch/v1
kind: Job
metadata:
  name: some-other-job
spec:
  template:
    spec:
      containers:
        - name: x
          image: transportation-api:0.0.0
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: transportation-backup
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: backup
              image: transportation-api:0.0.0
`;

const names = { deploymentName: "transportation-api", migrationJobName: "transportation-migrate" };
const release = { ...names, image: "ghcr.io/acme/transportation-api", tag: "1.4.0" };
const REF = "ghcr.io/acme/transportation-api:1.4.0";

const containerImages = (yaml: string) => [...yaml.matchAll(/image: (\S+)/g)].map((m) => m[1]);

describe("rendering an overlay for a release", () => {
  it("points the app's containers of the Deployment, the migration Job and CronJobs at the release", () => {
    const m = renderWithImage(OVERLAY, { ...release, changeCause: "deploy 1.4.0" });
    expect(containerImages(m.deployment.toString())).toEqual([REF, "envoyproxy/envoy:v1.30", REF]);
    expect(imageOf(m.deployment, "transportation-api")).toBe(REF);
    expect(imageOf(m.deployment, "nope")).toBe("envoyproxy/envoy:v1.30"); // no such container: the first
    expect(containerImages(m.migrationJob!.toString())).toEqual([REF]);
    expect(m.deployment.getIn(["metadata", "annotations", "kubernetes.io/change-cause"])).toBe("deploy 1.4.0");
    // the rest, in order, with only the CronJob's app image changed
    expect(
      m.config.map((d) => `${d.get("kind")}/${(d.toJS() as { metadata: { name: string } }).metadata.name}`),
    ).toEqual([
      "Secret/transportation-secrets",
      "ConfigMap/transportation-config",
      "Deployment/another-app",
      "Job/some-other-job",
      "CronJob/transportation-backup",
    ]);
    const rest = m.config.map((d) => containerImages(d.toString()));
    expect(rest).toEqual([
      [],
      ["transportation-api:0.0.0"],
      ["transportation-api:0.0.0"],
      ["transportation-api:0.0.0"],
      [REF],
    ]);
    expect(m.objects).toEqual([
      "Secret/transportation-secrets",
      "ConfigMap/transportation-config",
      "Deployment/transportation-api",
      "Deployment/another-app",
      "Job/transportation-migrate",
      "Job/some-other-job",
      "CronJob/transportation-backup",
    ]);
    expect(toYaml(m.config)).toBe(m.config.map((d) => d.toString()).join("---\n"));
  });

  it("passes over empty documents, which a hand-edited or concatenated overlay may hold", () => {
    const gappy = `---\n${OVERLAY.replace(/\n---\n/, "\n---\n# nothing here\n---\n---\n")}---\n`;
    expect(gappy).not.toBe(`---\n${OVERLAY}---\n`);
    const m = renderWithImage(gappy, release);
    expect(m.objects).toEqual(renderWithImage(OVERLAY, release).objects);
  });

  it("masks every Secret value, base64 data decoded too", () => {
    const m = renderWithImage(OVERLAY, release);
    expect(m.secretValues).toEqual(["c2VjcmV0LWtleQ==", "secret-key", "postgres://u:p@db/app"]);
  });

  it("pins the digest when it is known, and leaves the change cause alone without one", () => {
    const m = renderWithImage(OVERLAY, { ...release, digest: "sha256:abc" });
    expect(imageOf(m.deployment, "transportation-api")).toBe(`${REF}@sha256:abc`);
    expect(m.deployment.getIn(["metadata", "annotations"])).toBeUndefined();
    expect(imageRef("r", "1")).toBe("r:1");
    expect(imageRef("r", "1", "sha256:d")).toBe("r:1@sha256:d");
  });

  it("keeps the image the live Deployment runs, whatever repository it came from", () => {
    const live = "registry.local:5000/team/transportation-api:1.3.0@sha256:def";
    const m = renderKeepingImage(OVERLAY, { ...names, image: live });
    expect(imageOf(m.deployment, "transportation-api")).toBe(live);
    expect(containerImages(m.migrationJob!.toString())).toEqual([live]);
  });

  it("refuses invalid YAML, a Deployment without the app image, and an overlay without the Deployment", () => {
    expect(() => renderWithImage("kind: [unclosed\n", release)).toThrow(/^kustomize output is not valid YAML: /);
    const noApp = OVERLAY.replaceAll("image: transportation-api:0.0.0", "image: busybox:1");
    expect(() => renderWithImage(noApp, release)).toThrow(
      "Deployment transportation-api has no container running the transportation-api image",
    );
    expect(() => renderWithImage(OVERLAY, { ...release, deploymentName: "gone" })).toThrow(
      "the overlay renders no Deployment named gone",
    );
    // only a Job of that name is the migration Job
    const sameName = `${OVERLAY}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: transportation-migrate\n`;
    const m = renderWithImage(sameName, release);
    expect(containerImages(m.migrationJob!.toString())).toEqual([REF]);
    expect(m.objects.at(-1)).toBe("ConfigMap/transportation-migrate");
  });

  it("tells the app image by its repository's last segment, and a registry port from a tag", () => {
    expect(repositoryOf("ghcr.io/acme/app:1.2.3@sha256:abc")).toBe("ghcr.io/acme/app");
    expect(repositoryOf("registry.local:5000/app")).toBe("registry.local:5000/app");
    expect(repositoryOf("registry.local:5000/app:2")).toBe("registry.local:5000/app");
    expect(isAppImage("transportation-api", "x")).toBe(true);
    expect(isAppImage("ghcr.io/other/transportation-api:1", "x")).toBe(true);
    expect(isAppImage("ghcr.io/acme/api:1", "ghcr.io/acme/api")).toBe(true);
    expect(isAppImage("ghcr.io/acme/not-transportation-api:1", "x")).toBe(false);
    expect(isAppImage("transportation-api-sidecar:1", "x")).toBe(false);
  });
});
