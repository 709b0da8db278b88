// Small process helpers for the Docker tooling: run a command, capture or stream its output.
import { spawn } from "node:child_process";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Stream the command's output to ours as well as capturing it. */
  echo?: boolean;
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the command (SIGKILL) after this many milliseconds; the result then has code 124. */
  timeoutMs?: number;
}

export function run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, options.timeoutMs)
      : undefined;
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.echo) process.stdout.write(chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (options.echo) process.stderr.write(chunk);
    });
    if (options.input !== undefined) {
      child.stdin?.on("error", () => {}); // a child may exit before reading its input
      child.stdin?.end(options.input);
    }
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${stderr}${err.message}\n` });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 124 : (code ?? 1), stdout, stderr });
    });
  });
}

/** Runs a command and returns its stdout; throws with the command's stderr when it fails. */
export async function must(cmd: string, args: string[], options: RunOptions = {}): Promise<string> {
  const result = await run(cmd, args, options);
  if (result.code !== 0) {
    const detail = (result.stderr || result.stdout).trim().split("\n").slice(-15).join("\n");
    throw new Error(`\`${[cmd, ...args].join(" ")}\` exited ${result.code}${detail ? `:\n${detail}` : ""}`);
  }
  return result.stdout;
}

/** The absolute path of an executable on PATH, or undefined. */
export async function which(name: string): Promise<string | undefined> {
  const { existsSync } = await import("node:fs");
  const { join } = await import("node:path");
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Seconds elapsed since `start` (performance.now()), for the timing lines the tooling prints. */
export function seconds(start: number): string {
  return `${((performance.now() - start) / 1000).toFixed(1)} s`;
}
