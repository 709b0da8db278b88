// Runs the real service (`bun src/main.ts serve`) as a child process on a port it picks itself, for tests that
// need a real HTTP server, signals or process exit codes. Works under both test runners.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./processes";
import { BUN, MAIN, REPO_ROOT } from "./repo";
import { runProcess } from "./run";

export interface AppServer {
  url: string;
  port: number;
  /** http://127.0.0.1:<metrics port> when started with `metrics: true`. */
  metricsUrl?: string;
  child: ChildProcess;
  /** Everything the process wrote so far (stdout + stderr). */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** Sends SIGTERM and waits for exit. */
  stop(): Promise<number | string>;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  args?: string[];
  /** Wait until /health answers (default true). */
  waitForHealth?: boolean;
  /** Serve /metrics on a free port (default: METRICS_PORT=0, so parallel servers never collide on 9464). */
  metrics?: boolean;
}

/**
 * What a child inherits from this process: only what any program needs to run (where programs are, the
 * user, the temp dir, locale and time zone). Nothing that configures the service (API_KEY, LOG_FILE,
 * CONFIG_FILE, DATABASE_URL, …) gets in unless the test gives it, whatever the shell running the tests has.
 */
const INHERITED = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TZ", "LANG", "LC_ALL", "LC_CTYPE", "TERM"];

/** The environment of a child: INHERITED from this process, then `env` (undefined removes a variable). */
export function childEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const k of INHERITED) if (process.env[k] !== undefined) base[k] = process.env[k];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

/** Log levels under which the service's `listening` line (info) is written. */
const SHOWS_INFO = new Set(["trace", "debug", "info"]);

export async function startAppServer(options: StartOptions = {}): Promise<AppServer> {
  // The server binds port 0 and names the port it got in its `listening` log line: no other process
  // can take the port in between, and what answers there is this child. Callers that give PORT, or
  // a LOG_LEVEL that hides info lines (benchmarks), get a port picked beforehand instead.
  const level = (options.env?.LOG_LEVEL ?? "info").toLowerCase();
  const given = options.env?.PORT ?? (SHOWS_INFO.has(level) ? undefined : String(await freePort()));
  // METRICS_PORT=0 turns the metrics server off, so a scraped server gets a port picked beforehand.
  const metricsPort = options.metrics ? await freePort() : 0;
  const dataDir = mkdtempSync(join(tmpdir(), "tapi-app-"));
  const child = spawn(BUN, [MAIN, "serve", ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: childEnv({
      HOST: "127.0.0.1",
      METRICS_PORT: String(metricsPort),
      DATA_DIR: dataDir,
      LOG_LEVEL: "info",
      ...options.env,
      PORT: given ?? "0",
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let listening: ((port: number) => void) | undefined;
  const boundPort = new Promise<number>((resolve) => {
    listening = resolve;
  });
  let partial = "";
  child.stdout?.on("data", (c) => {
    out += c;
    if (!listening) return;
    partial += c;
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      const port = listeningPort(line);
      if (port !== undefined) {
        listening(port);
        listening = undefined;
        partial = "";
        break;
      }
    }
  });
  child.stderr?.on("data", (c) => {
    out += c;
  });
  const exited = new Promise<number | string>((resolveExit) => {
    child.once("exit", (code, signal) => {
      rmSync(dataDir, { recursive: true, force: true });
      resolveExit(code ?? signal ?? "unknown");
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    return exited;
  };
  let port: number;
  if (given !== undefined) port = Number(given);
  else {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const found = await Promise.race([
      boundPort,
      exited.then((code) => new Error(`server exited with ${code} before listening:\n${out}`)),
      new Promise<Error>((r) => {
        timer = setTimeout(() => r(new Error(`server logged no "listening" line within 60 s:\n${out}`)), 60_000);
      }),
    ]).finally(() => clearTimeout(timer));
    if (found instanceof Error) {
      await stop();
      throw found;
    }
    port = found;
  }
  const server: AppServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    ...(metricsPort ? { metricsUrl: `http://127.0.0.1:${metricsPort}` } : {}),
    child,
    output: () => out,
    exited,
    stop,
  };
  if (options.waitForHealth !== false) {
    // Rejects if the child exits first; handled here, so its later exit is no unhandled rejection.
    const died = exited.then((code) => Promise.reject(new Error(`server exited with ${code}`)));
    died.catch(() => {});
    try {
      await Promise.race([
        eventually(async () => (await fetch(`${server.url}/health`)).ok, 30_000, "/health to answer 200"),
        died,
      ]);
    } catch (err) {
      await stop();
      throw new Error(`${(err as Error).message}:\n${out}`);
    }
  }
  return server;
}

/** The port of the service's `listening` log line, or undefined for any other line. */
function listeningPort(line: string): number | undefined {
  if (!line.includes('"listening"')) return undefined;
  try {
    const entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
    return entry.msg === "listening" && typeof entry.port === "number" && entry.port > 0 ? entry.port : undefined;
  } catch {
    return undefined;
  }
}

export interface CliRun {
  code: number | string;
  stdout: string;
  stderr: string;
}

/** Runs one CLI command of the service (`bun src/main.ts <args>`) to its end. */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  const run = await runProcess(BUN, [MAIN, ...args], { env: childEnv(env) });
  return { code: run.signal ?? run.code, stdout: run.stdout, stderr: run.stderr };
}

/** Polls `check` until it returns true or the deadline passes; returns the elapsed milliseconds. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface MainRun {
  child: ChildProcess;
  /** Everything the process wrote so far (stdout + stderr). */
  output(): string;
  /** The exit code, or the signal's name when one ended it; resolves once the process has ended. */
  exited: Promise<number | string>;
}

/** Starts `bun src/main.ts <args>` (a one-shot command, or a server whose port the caller chose). */
export function runMain(args: string[], env: Record<string, string | undefined> = {}): MainRun {
  const child = spawn(BUN, [MAIN, ...args], { cwd: REPO_ROOT, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (c) => {
    out += c;
  });
  child.stderr?.on("data", (c) => {
    out += c;
  });
  const exited = new Promise<number | string>((resolveExit) => {
    child.once("exit", (code, signal) => resolveExit(code ?? signal ?? "unknown"));
  });
  return { child, output: () => out, exited };
}
