// The only place that runs kubectl. Every call is scoped to one namespace (and context when given);
// output is captured so callers decide what a person sees. Arguments never carry secrets.
import { spawn } from "node:child_process";
import { info } from "./report";

export interface KubeTarget {
  namespace: string;
  /** kubeconfig context; empty = the current one. */
  context?: string;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `KUBECTL` overrides the binary (tests put a fake first on PATH instead). */
const kubectlBinary = (): string => process.env.KUBECTL || "kubectl";

export class Kubectl {
  constructor(readonly target: KubeTarget) {}

  scoped(args: string[]): string[] {
    const scope = ["--namespace", this.target.namespace];
    if (this.target.context) scope.push("--context", this.target.context);
    return [...args, ...scope];
  }

  /** Runs kubectl; `echo` prints the command and its output lines (default on). */
  run(args: string[], opts: { input?: string; echo?: boolean } = {}): Promise<KubectlResult> {
    const full = this.scoped(args);
    const echo = opts.echo ?? true;
    if (echo) info(`$ kubectl ${full.join(" ")}`);
    return new Promise((resolve) => {
      const child = spawn(kubectlBinary(), full, { stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
      });
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      child.on("error", (err) => resolve({ code: 127, stdout, stderr: `${stderr}${err.message}\n` }));
      child.on("close", (code) => {
        if (echo) {
          for (const line of `${stdout}${stderr}`.split("\n")) if (line.trim() !== "") info(`  ${line}`);
        }
        resolve({ code: code ?? 1, stdout, stderr });
      });
      child.stdin.on("error", () => {}); // kubectl may exit before reading stdin
      child.stdin.end(opts.input ?? "");
    });
  }

  /** Like run, but a non-zero exit throws with kubectl's own message. */
  async ok(args: string[], opts: { input?: string; echo?: boolean } = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw new KubectlError(args, r);
    return r.stdout;
  }
}

export class KubectlError extends Error {
  constructor(
    readonly args: string[],
    readonly result: KubectlResult,
  ) {
    super(firstErrorLine(result) || `kubectl ${args.join(" ")} exited with ${result.code}`);
  }
}

/** kubectl's own explanation: the first `error:`/`Error from server` line, else the last stderr line. */
export function firstErrorLine(r: KubectlResult): string {
  const lines = `${r.stderr}\n${r.stdout}`.split("\n").map((l) => l.trim());
  return (
    lines.find((l) => /^error:|^Error from server/i.test(l)) ??
    r.stderr
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ??
    ""
  );
}
