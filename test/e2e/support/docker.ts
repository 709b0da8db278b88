// The E2E suite's view of Docker: the image under test, containers started from it, and HTTP to them.
// Containers share the host network (no bridge on offline machines) and bind 127.0.0.1:<free port>.
// Only node: APIs, so the suite runs under `bun test` and `vitest run` alike.

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe } from "vitest";
import { BUN, REPO_ROOT } from "../../support/repo";
import { type RunOptions, type RunResult, runProcess } from "../../support/run";

export const API_KEY = "e2e-api-key-0123456789";

/** Whether Docker answers; when it does not, the suite is skipped with this reason. */
export function dockerStatus(): { ok: true } | { ok: false; reason: string } {
  const info = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { encoding: "utf8", timeout: 20_000 });
  if (info.error) return { ok: false, reason: `no docker client (${info.error.message})` };
  if (info.status !== 0)
    return { ok: false, reason: `no Docker engine reachable: ${info.stderr.trim().split("\n")[0]}` };
  return { ok: true };
}

/** `describe` when a Docker engine answers; otherwise `describe.skip`, saying why and how to start one. */
export function e2eSuite(): typeof describe {
  const status = dockerStatus();
  if (status.ok) return describe;
  console.warn(`[e2e] SKIPPED: ${status.reason}. Run \`npm run docker:engine\` (root) to start one.`);
  return describe.skip as typeof describe;
}

export type CommandResult = RunResult;

/** Runs a command to its end; killed after `timeoutMs` (default 5 min: image builds are slow). */
export function command(cmd: string, args: string[], options: RunOptions = {}): Promise<CommandResult> {
  return runProcess(cmd, args, { ...options, timeoutMs: options.timeoutMs ?? 300_000 });
}

export async function docker(args: string[], timeoutMs?: number): Promise<CommandResult> {
  return command("docker", args, { timeoutMs });
}

/** Runs docker and returns stdout, throwing with stderr on failure. */
export async function dockerOk(args: string[], timeoutMs?: number): Promise<string> {
  const r = await docker(args, timeoutMs);
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** What `npm run image:build --metadata-file` wrote: the image under test and what was stamped into it. */
export interface ImageUnderTest {
  /** The image ID: tests run this, so a concurrent build that moves the tag cannot swap it underneath. */
  ref: string;
  /** The tag it was built as, transportation-api:<version>. */
  image: string;
  id: string;
  version: string;
  commit: string;
  buildTime: string;
  source: string;
  base: string;
  sizeBytes: number;
  appLayersBytes: number;
}

let built: Promise<ImageUnderTest> | undefined;

/**
 * The image to test: the one the E2E runner built (E2E_IMAGE_METADATA), else built now through the same
 * tooling (`bun scripts/docker/build-image.ts`), once per process.
 */
export function imageUnderTest(): Promise<ImageUnderTest> {
  built ??= (async () => {
    const given = process.env.E2E_IMAGE_METADATA;
    if (given && existsSync(given)) return withRef(JSON.parse(readFileSync(given, "utf8")));
    const dir = mkdtempSync(join(tmpdir(), "tapi-e2e-build-"));
    const file = join(dir, "image.json");
    const r = await command(BUN, ["scripts/docker/build-image.ts", "--no-latest", "--metadata-file", file], {
      cwd: REPO_ROOT,
      timeoutMs: 1_500_000,
    });
    if (r.code !== 0) throw new Error(`image build failed:\n${(r.stderr || r.stdout).slice(-3000)}`);
    const meta = withRef(JSON.parse(readFileSync(file, "utf8")));
    rmSync(dir, { recursive: true, force: true });
    return meta;
  })();
  return built;
}

function withRef(meta: Omit<ImageUnderTest, "ref">): ImageUnderTest {
  return { ...meta, ref: meta.id };
}

export const uniqueName = (prefix: string) => `tapi-e2e-${prefix}-${randomBytes(4).toString("hex")}`;

export interface ContainerOptions {
  env?: Record<string, string>;
  args?: string[];
  /** host path → container path (read-only unless the container path ends with :rw). */
  mounts?: Record<string, string>;
  /** Extra `docker run` flags (before the image). */
  flags?: string[];
}

function runFlags(name: string, options: ContainerOptions): string[] {
  const env = Object.entries(options.env ?? {}).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
  const mounts = Object.entries(options.mounts ?? {}).flatMap(([host, inside]) => [
    "--volume",
    inside.endsWith(":rw") ? `${host}:${inside}` : `${host}:${inside}:ro`,
  ]);
  // The production hardening: read-only root filesystem, a tmpfs for /tmp.
  return [
    "--name",
    name,
    "--network",
    "host",
    "--read-only",
    "--tmpfs",
    "/tmp:rw,size=64m",
    ...env,
    ...mounts,
    ...(options.flags ?? []),
  ];
}

/** Runs a one-shot CLI command (`migrate`, `import <feed>`) in a container and waits for it. */
export async function runOnce(image: string, options: ContainerOptions, timeoutMs = 600_000): Promise<CommandResult> {
  const name = uniqueName("once");
  return docker(["run", "--rm", ...runFlags(name, options), image, ...(options.args ?? [])], timeoutMs);
}

export class Container {
  constructor(
    readonly name: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  logs(): Promise<string> {
    return docker(["logs", this.name]).then((r) => r.stdout + r.stderr);
  }

  async inspect<T = unknown>(format: string): Promise<T> {
    return JSON.parse(await dockerOk(["inspect", "--format", `{{json ${format}}}`, this.name])) as T;
  }

  async running(): Promise<boolean> {
    return (await docker(["inspect", "--format", "{{.State.Running}}", this.name])).stdout.trim() === "true";
  }

  exec(args: string[]): Promise<CommandResult> {
    return docker(["exec", this.name, ...args]);
  }

  /** Waits for the container to exit and returns its exit code. */
  async wait(timeoutMs = 120_000): Promise<number> {
    const r = await docker(["wait", this.name], timeoutMs);
    if (r.code !== 0) throw new Error(`docker wait ${this.name}: ${r.stderr.trim() || "timed out"}`);
    return Number(r.stdout.trim());
  }

  remove(): Promise<CommandResult> {
    return docker(["rm", "--force", "--volumes", this.name]);
  }
}

/** Starts `serve` (or `args`) detached and waits until /health answers. */
export async function startService(image: string, port: number, options: ContainerOptions = {}): Promise<Container> {
  const name = uniqueName("api");
  // Host networking: containers run side by side would all take the default metrics port 9464.
  const env = { HOST: "127.0.0.1", PORT: String(port), METRICS_PORT: "0", API_KEY, LOG_LEVEL: "info", ...options.env };
  await dockerOk(["run", "--detach", ...runFlags(name, { ...options, env }), image, ...(options.args ?? [])]);
  const container = new Container(name, port);
  try {
    await waitFor(
      async () => {
        if (!(await container.running())) throw new Error(`container exited:\n${await container.logs()}`);
        return (await get(`${container.url}/health`).catch(() => undefined))?.status === 200;
      },
      60_000,
      `${name} /health`,
    );
  } catch (err) {
    await container.remove();
    throw err;
  }
  return container;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
  json(): any;
}

/** One HTTP request on its own connection (no keep-alive pool), so every error belongs to this request. */
export function get(url: string, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<HttpResponse> {
  return new Promise((done, fail) => {
    const req = http.get(
      url,
      { agent: false, headers: { connection: "close", ...headers }, timeout: timeoutMs },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("error", fail);
        res.on("aborted", () => fail(Object.assign(new Error("response aborted"), { code: "ABORTED" })));
        res.on("end", () => {
          if (!res.complete) return fail(Object.assign(new Error("incomplete response"), { code: "INCOMPLETE" }));
          done({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
      },
    );
    req.on("timeout", () => req.destroy(Object.assign(new Error("request timed out"), { code: "TIMEOUT" })));
    req.on("error", fail);
  });
}

/** Polls `check` until it returns true (errors count as "not yet"); throws with the last error at the deadline. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
      if ((err as Error).message.startsWith("container exited")) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not reached within ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Parsed JSON log lines (the service logs one JSON object per line to stdout). */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}
