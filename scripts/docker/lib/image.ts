// Builds the service image `transportation-api:<version>` (+ :latest) from the Dockerfile, with the
// version, commit, build time and source stamped in (build args → env and OCI labels). The base image is
// the official one when it is present or can be pulled, otherwise the locally built one (offline path).
import { readFileSync } from "node:fs";
import { buildBaseImage, imageExists } from "./base-image";
import { must, run, seconds } from "./exec";

export const IMAGE_REPOSITORY = "transportation-api";

export interface BuildOptions {
  version?: string;
  /** Base image to use as is (skips the choice below). */
  base?: string;
  /** auto: official base if present or pullable, else offline; offline: always the local base. */
  mode?: "auto" | "offline" | "online";
  latest?: boolean;
  noCache?: boolean;
  /** Repository directory (build context); defaults to the current directory. */
  context?: string;
}

export interface BuiltImage {
  image: string;
  tags: string[];
  version: string;
  commit: string;
  buildTime: string;
  source: string;
  base: string;
  offline: boolean;
  id: string;
  sizeBytes: number;
  /** Layers this Dockerfile adds on top of the base: code + production node_modules. */
  appLayersBytes: number;
  buildSeconds: number;
}

async function git(args: string[], cwd: string): Promise<string | undefined> {
  const result = await run("git", args, { cwd });
  return result.code === 0 ? result.stdout.trim() || undefined : undefined;
}

/** A Docker tag allows [A-Za-z0-9_.-]; semver build metadata (+…) becomes a dash. */
export function tagSafe(version: string): string {
  return version
    .replace(/^v(?=\d)/, "")
    .replace(/[^\w.-]/g, "-")
    .slice(0, 128);
}

export async function resolveVersion(context: string, explicit?: string): Promise<string> {
  if (explicit) return tagSafe(explicit);
  if (process.env.APP_VERSION) return tagSafe(process.env.APP_VERSION);
  const tag = await git(["describe", "--tags", "--exact-match", "--match", "v[0-9]*"], context);
  if (tag) return tagSafe(tag);
  const pkg = JSON.parse(readFileSync(`${context}/package.json`, "utf8")) as { version?: string };
  // semantic-release keeps a placeholder in package.json; anything else is a real version.
  if (pkg.version && !pkg.version.startsWith("0.0.0-development")) return tagSafe(pkg.version);
  const short = await git(["rev-parse", "--short=12", "HEAD"], context);
  return short ? `0.0.0-dev.${short}` : "0.0.0-dev";
}

function sourceUrl(remote: string | undefined): string {
  if (process.env.IMAGE_SOURCE) return process.env.IMAGE_SOURCE;
  if (process.env.GITHUB_REPOSITORY)
    return `${process.env.GITHUB_SERVER_URL ?? "https://github.com"}/${process.env.GITHUB_REPOSITORY}`;
  if (!remote) return "unknown";
  const scp = /^[\w.-]+@([\w.-]+):(.+?)(\.git)?$/.exec(remote);
  if (scp) return `https://${scp[1]}/${scp[2]}`;
  try {
    const url = new URL(remote);
    if (url.protocol === "file:") return "unknown";
    url.username = url.password = "";
    return url.toString().replace(/\.git$/, "");
  } catch {
    return "unknown";
  }
}

function buildTime(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const date = epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date();
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Bun's version: package.json's exact devDependencies.bun, its only home (the Dockerfile takes it as BUN_VERSION). */
export function bunVersion(context: string): string {
  const pkg = JSON.parse(readFileSync(`${context}/package.json`, "utf8")) as {
    devDependencies?: Record<string, string>;
  };
  const version = pkg.devDependencies?.bun;
  if (!version || !/^\d+\.\d+\.\d+$/.test(version))
    throw new Error(`package.json must pin devDependencies.bun to an exact version, found "${version ?? ""}"`);
  return version;
}

/** The official base for that Bun, as the Dockerfile composes it from BUN_VERSION. */
export function defaultBase(context: string): string {
  return `oven/bun:${bunVersion(context)}-slim`;
}

async function chooseBase(context: string, options: BuildOptions): Promise<{ base: string; offline: boolean }> {
  if (options.base) return { base: options.base, offline: false };
  const official = defaultBase(context);
  const mode = options.mode ?? (process.env.IMAGE_BUILD_OFFLINE === "1" ? "offline" : "auto");
  if (mode !== "offline") {
    if (await imageExists(official)) return { base: official, offline: false };
    const pull = await run("docker", ["pull", official], { timeoutMs: 300_000 });
    if (pull.code === 0) return { base: official, offline: false };
    const reason = (pull.stderr.trim().split("\n").pop() ?? "").slice(0, 200);
    if (mode === "online") throw new Error(`cannot pull ${official}: ${reason}`);
    console.log(`no container registry reachable (${reason}): offline build with a local base image`);
  }
  const local = await buildBaseImage();
  return { base: local.tag, offline: true };
}

async function historySizes(ref: string): Promise<number[]> {
  const out = await must("docker", ["history", "--no-trunc", "--human=false", "--format", "{{.Size}}", ref]);
  return out
    .trim()
    .split("\n")
    .map((s) => Number(s) || 0);
}

export async function buildImage(options: BuildOptions = {}): Promise<BuiltImage> {
  const context = options.context ?? process.cwd();
  const started = performance.now();
  const { base, offline } = await chooseBase(context, options);
  const version = await resolveVersion(context, options.version);
  const commit = process.env.GIT_COMMIT ?? (await git(["rev-parse", "HEAD"], context)) ?? "unknown";
  const source = sourceUrl(await git(["remote", "get-url", "origin"], context));
  const created = buildTime();
  const image = `${IMAGE_REPOSITORY}:${version}`;
  const tags = [image, ...(options.latest === false ? [] : [`${IMAGE_REPOSITORY}:latest`])];

  const buildStart = performance.now();
  const args = [
    "build",
    // RUN steps reach the npm registry through the host network (there is no bridge on offline hosts).
    "--network",
    "host",
    // The classic builder keeps a failed step's container unless told otherwise.
    "--force-rm",
    ...(options.noCache ? ["--no-cache"] : []),
    "--build-arg",
    `BUN_VERSION=${bunVersion(context)}`,
    "--build-arg",
    `BUN_IMAGE=${base}`,
    "--build-arg",
    `APP_VERSION=${version}`,
    "--build-arg",
    `GIT_COMMIT=${commit}`,
    "--build-arg",
    `BUILD_TIME=${created}`,
    "--build-arg",
    `SOURCE_URL=${source}`,
    ...tags.flatMap((t) => ["--tag", t]),
    context,
  ];
  console.log(`docker ${args.join(" ")}`);
  await must("docker", args, { echo: true });
  const buildSeconds = (performance.now() - buildStart) / 1000;

  const id = (await must("docker", ["image", "inspect", "--format", "{{.Id}}", image])).trim();
  const sizeBytes = Number((await must("docker", ["image", "inspect", "--format", "{{.Size}}", image])).trim());
  const own = await historySizes(image);
  const inherited = await historySizes(base);
  const appLayersBytes = own.slice(0, own.length - inherited.length).reduce((a, b) => a + b, 0);
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  console.log(
    `built ${tags.join(", ")} on ${base}${offline ? " (offline)" : ""}: image ${mb(sizeBytes)}, ` +
      `app layers ${mb(appLayersBytes)}; docker build ${buildSeconds.toFixed(1)} s, total ${seconds(started)}`,
  );
  return {
    image,
    tags,
    version,
    commit,
    buildTime: created,
    source,
    base,
    offline,
    id,
    sizeBytes,
    appLayersBytes,
    buildSeconds,
  };
}
