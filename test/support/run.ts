// The one way tests run a command to its end: what it wrote (each stream, and both interleaved in the
// order written) and how it ended. A non-zero exit is a result, not an error, so a test can assert on
// it; a command that cannot start at all answers 127 as a shell would. Works under both test runners.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { REPO_ROOT } from "./repo";

export interface RunResult {
  /** The exit code; 128 + the signal's number when a signal ended it (a shell's `$?`); 127: no such command. */
  code: number;
  /** The signal that ended it, if one did. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved, as a terminal would show them. */
  output: string;
}

export interface RunOptions {
  /** Default: the repository root. */
  cwd?: string;
  /** The child's whole environment (default: this process's). Build it with childEnv to choose what leaks in. */
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed (default: closed at once). */
  input?: string;
  /** SIGKILL after this long; the result then has signal SIGKILL. */
  timeoutMs?: number;
  /** Also copy the child's output to this process's stdout/stderr as it comes (a runner script's log). */
  echo?: boolean;
}

export function runProcess(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((done) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let output = "";
    const timer =
      options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
      output += chunk;
      if (options.echo) process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
      output += chunk;
      if (options.echo) process.stderr.write(chunk);
    });
    child.on("error", (err) => {
      clearTimeout(timer);
      done({ code: 127, signal: null, stdout, stderr: stderr + err.message, output: output + err.message });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      done({ code: code ?? 128 + (signal ? constants.signals[signal] : 0), signal, stdout, stderr, output });
    });
    child.stdin.on("error", () => {}); // a child may exit before reading its input
    child.stdin.end(options.input ?? "");
  });
}
