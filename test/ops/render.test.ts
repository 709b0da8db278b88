// The deploy's image rewrite on the real overlays (rendered by the real `kubectl kustomize`), and
// how a version is read back from an image reference.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { imageOf, renderWithImage } from "../../scripts/ops/lib/render";
import { versionOfImage } from "../../scripts/ops/lib/rollout";
import { REPO_ROOT } from "../support/repo";

function realKubectl(): boolean {
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const overlays = ["staging", "production"].map((env) => join(REPO_ROOT, "deploy/k8s/overlays", env));
const canRender = realKubectl() && overlays.every((o) => existsSync(join(o, "kustomization.yaml")));

describe("rendering the overlays for a release", () => {
  // kubectl is on CI runners and in the dev setup; without it there is nothing to render with.
  it.skipIf(!canRender)("points the Deployment, the migration Job and nothing else at the release image", () => {
    for (const overlay of overlays) {
      const rendered = execFileSync("kubectl", ["kustomize", overlay], { encoding: "utf8" });
      const m = renderWithImage(rendered, {
        deploymentName: "transportation-api",
        migrationJobName: "transportation-migrate",
        image: "ghcr.io/acme/transportation-api",
        tag: "3.1.4",
        changeCause: "deploy 3.1.4",
      });
      expect(imageOf(m.deployment, "transportation-api")).toBe("ghcr.io/acme/transportation-api:3.1.4");
      expect(m.migrationJob, overlay).toBeDefined();
      expect(m.migrationJob!.toString()).toContain("image: ghcr.io/acme/transportation-api:3.1.4");
      expect(m.deployment.getIn(["metadata", "annotations", "kubernetes.io/change-cause"])).toBe("deploy 3.1.4");
      const config = m.config.map((d) => d.toString()).join("\n");
      expect(config).not.toMatch(/transportation-api:(?!3\.1\.4)[\w.-]+\s*$/m); // no stale app image left
      expect(m.objects).toEqual(
        expect.arrayContaining(["Service/transportation-api", "Ingress/transportation-ingress"]),
      );
    }
  });

  it("refuses an overlay without the Deployment", () => {
    expect(() =>
      renderWithImage("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n", {
        deploymentName: "transportation-api",
        migrationJobName: "transportation-migrate",
        image: "ghcr.io/acme/transportation-api",
        tag: "1.0.0",
      }),
    ).toThrow("the overlay renders no Deployment named transportation-api");
  });
});

describe("version of an image", () => {
  it("reads semantic versions from tags and ignores registries, ports and digests", () => {
    expect(versionOfImage("ghcr.io/acme/transportation-api:1.4.0")).toBe("1.4.0");
    expect(versionOfImage("registry.local:5000/transportation-api:v2.0.0-beta.3")).toBe("2.0.0-beta.3");
    expect(versionOfImage("ghcr.io/acme/transportation-api:1.4.0@sha256:abcd")).toBe("1.4.0");
    expect(versionOfImage("registry.local:5000/transportation-api")).toBeUndefined();
    expect(versionOfImage("ghcr.io/acme/transportation-api:3f2a9c1")).toBeUndefined();
  });
});
