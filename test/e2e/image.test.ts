// What the built image is, before it runs: build metadata (env + OCI labels), the runtime contract
// (user, entrypoint, healthcheck, stop signal), production-only dependencies, and the size budget.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/repo";
import { docker, dockerOk, e2eSuite, type ImageUnderTest, imageUnderTest } from "./support/docker";

const suite = e2eSuite();

const APP_LAYERS_BUDGET = 40 * 1000 * 1000; // bytes: the image's own layers, code + production node_modules

interface ImageConfig {
  User: string;
  Env: string[];
  Entrypoint: string[];
  Cmd: string[];
  WorkingDir: string;
  ExposedPorts: Record<string, unknown>;
  Labels: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: { Test: string[] };
}

async function historySizes(ref: string): Promise<number[]> {
  const out = await dockerOk(["history", "--human=false", "--format", "{{.Size}}", ref]);
  return out
    .trim()
    .split("\n")
    .map((s) => Number(s) || 0);
}

describe("the Dockerfile", () => {
  it("takes Bun's version from package.json alone: no version of its own to drift", () => {
    const dockerfile = readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8");
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
    const installed = JSON.parse(readFileSync(join(REPO_ROOT, "node_modules/bun/package.json"), "utf8")).version;
    expect(pkg.devDependencies.bun).toMatch(/^\d+\.\d+\.\d+$/); // exact, not a range
    expect(installed).toBe(pkg.devDependencies.bun);
    expect(dockerfile).toMatch(/^ARG BUN_VERSION$/m); // no default
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own ARG substitution
    expect(/^ARG BUN_IMAGE=(\S+)$/m.exec(dockerfile)?.[1]).toBe("oven/bun:${BUN_VERSION}-slim");
    const argLines = dockerfile.split("\n").filter((line) => /^(ARG|FROM)\b/.test(line));
    expect(argLines.filter((line) => /\d+\.\d+\.\d+/.test(line))).toEqual(["ARG APP_VERSION=0.0.0-dev"]);
  });
});

suite("the built image", () => {
  let image: ImageUnderTest;
  let config: ImageConfig;

  beforeAll(async () => {
    image = await imageUnderTest();
    config = JSON.parse(await dockerOk(["image", "inspect", "--format", "{{json .Config}}", image.ref]));
  }, 1_800_000);

  it("is tagged transportation-api:<version>", async () => {
    expect(image.image).toBe(`transportation-api:${image.version}`);
    expect((await docker(["image", "inspect", "--format", "{{.Id}}", image.image])).code).toBe(0);
  });

  it("carries version, commit and build time in its environment and OCI labels", () => {
    expect(config.Env).toEqual(
      expect.arrayContaining([
        `APP_VERSION=${image.version}`,
        `GIT_COMMIT=${image.commit}`,
        `BUILD_TIME=${image.buildTime}`,
        "NODE_ENV=production",
      ]),
    );
    expect(config.Labels).toMatchObject({
      "org.opencontainers.image.version": image.version,
      "org.opencontainers.image.revision": image.commit,
      "org.opencontainers.image.created": image.buildTime,
      "org.opencontainers.image.source": image.source,
    });
    expect(image.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(Number.isNaN(Date.parse(image.buildTime))).toBe(false);
  });

  it("runs the CLI as uid/gid 10001 with `serve` as the default command", () => {
    expect(config.User).toBe("10001:10001");
    expect(config.WorkingDir).toBe("/app");
    expect(config.Entrypoint).toEqual(["bun", "src/main.ts"]);
    expect(config.Cmd).toEqual(["serve"]);
    // The API, and the metrics port the scraper reaches (not the Ingress).
    expect(Object.keys(config.ExposedPorts).sort()).toEqual(["8000/tcp", "9464/tcp"]);
    expect(config.StopSignal).toBe("SIGTERM");
    expect(config.Healthcheck?.Test).toEqual(["CMD", "bun", "scripts/docker/healthcheck.ts", "/health"]);
  });

  it("runs the Bun that package.json pins", async () => {
    const pinned = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")).devDependencies.bun;
    const version = await docker(["run", "--rm", "--network", "none", "--entrypoint", "bun", image.ref, "--version"]);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(pinned);
  }, 120_000);

  it("answers the CLI's --help through the entrypoint", async () => {
    const help = await docker(["run", "--rm", "--network", "none", "--read-only", image.ref, "--help"]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^usage: transportation-api/);
    expect(help.stdout).toMatch(/^\s+migrate\b/m);
  }, 120_000);

  it("holds production dependencies only, at the versions package-lock.json pins", async () => {
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version?: string; dev?: boolean }>;
    };
    // name@version of every package npm would install without devDependencies.
    const production = new Set(
      Object.entries(lock.packages)
        .filter(([path, p]) => path && !p.dev)
        .map(([path, p]) => `${path.slice(path.lastIndexOf("node_modules/") + 13)}@${p.version}`),
    );
    const list = `const fs = require("node:fs"); const out = [];
      for (const e of fs.readdirSync("node_modules")) {
        if (e.startsWith(".")) continue;
        for (const d of e.startsWith("@") ? fs.readdirSync("node_modules/" + e).map((s) => e + "/" + s) : [e])
          out.push([d, JSON.parse(fs.readFileSync("node_modules/" + d + "/package.json", "utf8")).version]);
      }
      console.log(JSON.stringify(out));`;
    const r = await docker(["run", "--rm", "--network", "none", "--entrypoint", "bun", image.ref, "-e", list]);
    expect(r.code, r.stderr).toBe(0);
    const installed = new Map<string, string>(JSON.parse(r.stdout));
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
    for (const name of Object.keys(pkg.dependencies)) {
      expect(installed.get(name), name).toBe(lock.packages[`node_modules/${name}`]?.version);
    }
    expect([...installed].map(([name, v]) => `${name}@${v}`).filter((p) => !production.has(p))).toEqual([]);
    expect(installed.has("typescript")).toBe(false); // pruned: a peer dependency production never loads
  }, 120_000);

  it(`keeps its own layers (code + production node_modules) within ${APP_LAYERS_BUDGET / 1e6} MB`, async () => {
    const own = await historySizes(image.ref);
    const inherited = await historySizes(image.base);
    const appLayers = own.slice(0, own.length - inherited.length).reduce((a, b) => a + b, 0);
    const total = Number(await dockerOk(["image", "inspect", "--format", "{{.Size}}", image.ref]));
    console.log(
      `[e2e] image ${image.image}: ${(total / 1e6).toFixed(1)} MB in all, app layers ${(appLayers / 1e6).toFixed(1)} MB ` +
        `on ${image.base}`,
    );
    expect(appLayers).toBeGreaterThan(0);
    expect(appLayers).toBeLessThanOrEqual(APP_LAYERS_BUDGET);
  }, 120_000);
});
