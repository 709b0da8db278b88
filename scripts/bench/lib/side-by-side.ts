// Two servers loaded at the same time, each by its own wrk, both pinned to one CPU (wrk gets the
// others, when taskset is there): whatever else the machine does slows both alike, so their ratio
// holds where one-after-the-other measurements swing by a factor of two. The kernel shares that CPU
// between threads, not processes, so each server's CPU per request (all its threads, until it is idle
// again) is counted too; callers judge by the lower of the throughput and CPU ratios.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { freePort, waitForPort } from "../../../test/support/processes";

export const BUN = join(process.cwd(), "node_modules", ".bin", "bun");

/** Exits with a hint when wrk is missing. */
export function requireWrk(): void {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      console.error("wrk is not installed: apt-get install -y wrk");
      process.exit(2);
    }
  }
}

/** Pins servers to the last CPU and wrk to the others, when there are two or more and taskset exists. */
export const pinning = (() => {
  const cpus = availableParallelism();
  if (cpus < 2) return undefined;
  try {
    execFileSync("taskset", ["-c", "0", "true"], { stdio: "ignore" });
  } catch {
    return undefined;
  }
  return { server: String(cpus - 1), client: `0-${cpus - 2}` };
})();
/** `command args` run on the given CPUs (taskset), or as it is when not pinned. */
export const pinned = (cpus: string | undefined, command: string, args: string[]): [string, string[]] =>
  cpus ? ["taskset", ["-c", cpus, command, ...args]] : [command, args];

export interface Process {
  name: string;
  port: number;
  child: ChildProcess;
}

/** What one wrk loads: a URL on a server process, with request headers. */
export interface Target {
  process: Process;
  url: string;
  headers?: Record<string, string>;
}

const started: Process[] = [];
const loading = new Set<ChildProcess>();

/** Starts `bun <args>` pinned to the server CPU and waits until it accepts connections. */
export async function startServer(name: string, args: string[], env: Record<string, string>): Promise<Process> {
  const port = await freePort();
  const [command, argv] = pinned(pinning?.server, BUN, args);
  const child = spawn(command, argv, {
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: "ignore",
  });
  const server = { name, port, child };
  started.push(server);
  try {
    await waitForPort(port, 30_000);
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${name} did not start: ${(err as Error).message}`);
  }
  console.log(`started ${name} on :${port}`);
  return server;
}

/** Warm-up so JIT and first-request costs are not measured; then waits until the server is idle. */
export async function warm(target: Target, requests = 2000): Promise<void> {
  for (let i = 0; i < requests; i++) await fetch(target.url, { headers: target.headers }).then((r) => r.arrayBuffer());
  await settled(target.process.child.pid!);
}

/** Stops every server and wrk this module started. */
export function stopAll(): void {
  for (const child of loading) child.kill("SIGKILL");
  for (const s of started) s.child.kill("SIGTERM");
}

/** CPU time (user + system) the process has used so far, in microseconds, from /proc. */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  return (ticks * 1_000_000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** Waits until the process is idle (start-up compilation and GC done): < 2% of a core over 500 ms. */
export async function settled(pid: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const before = cpuMicros(pid);
    await new Promise((r) => setTimeout(r, 500));
    if (cpuMicros(pid) - before < 10_000 || Date.now() > deadline) return;
  }
}

export interface LoadOptions {
  seconds: number;
  connections: number;
}

/** Runs wrk against a target for the configured time; resolves with its output. */
function wrk(target: Target, o: LoadOptions): Promise<string> {
  const headers = Object.entries(target.headers ?? {}).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
  const [command, argv] = pinned(pinning?.client, "wrk", [
    "-t",
    "1",
    "-c",
    String(o.connections),
    "-d",
    `${o.seconds}s`,
    ...headers,
    target.url,
  ]);
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ["ignore", "pipe", "inherit"] });
    loading.add(child);
    child.on("exit", () => loading.delete(child));
    let out = "";
    child.stdout!.on("data", (chunk) => (out += chunk));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited with ${code}:\n${out}`))));
  });
}

export interface Run {
  rps: number;
  /** The server's CPU per request, counted until it is idle again (deferred GC work included). */
  cpuPerRequest: number;
  /** Answers wrk counted as non-2xx/3xx: a benchmark of errors measures nothing. */
  errors: number;
}

/** Loads two targets at once; returns each one's throughput, CPU per request, and share of a CPU. */
export async function sideBySide(
  a: Target,
  b: Target,
  o: LoadOptions,
): Promise<{ runs: [Run, Run]; shares: [number, number] }> {
  const pair = [a, b] as const;
  const pids = pair.map((t) => t.process.child.pid!);
  const before = pids.map(cpuMicros);
  const outs = await Promise.all(pair.map((t) => wrk(t, o)));
  const during = pids.map((pid, i) => (cpuMicros(pid) - before[i]!) / (o.seconds * 1_000_000));
  for (const pid of pids) await settled(pid);
  const runs = pids.map((pid, i) => {
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(outs[i]!);
    const total = /(\d+) requests in/.exec(outs[i]!);
    if (!rps || !total) throw new Error(`unexpected wrk output:\n${outs[i]}`);
    const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(outs[i]!)?.[1] ?? 0);
    return { rps: Number(rps[1]), cpuPerRequest: (cpuMicros(pid) - before[i]!) / Number(total[1]), errors };
  }) as [Run, Run];
  return { runs, shares: [during[0]!, during[1]!] };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** One contender's rounds against the server beside it: medians and ratios. */
export function summarise(base: Run[], own: Run[]) {
  const ratios = own.map((run, i) => run.rps / base[i]!.rps);
  const cpuRatios = own.map((run, i) => base[i]!.cpuPerRequest / run.cpuPerRequest);
  const ratio = median(ratios);
  const cpuRatio = median(cpuRatios);
  return {
    rps: median(own.map((r) => r.rps)),
    cpu: median(own.map((r) => r.cpuPerRequest)),
    baseRps: median(base.map((r) => r.rps)),
    baseCpu: median(base.map((r) => r.cpuPerRequest)),
    ratios,
    cpuRatios,
    ratio,
    cpuRatio,
    /** The verdict: the lower of the throughput and CPU-per-request ratios. */
    lower: Math.min(ratio, cpuRatio),
    errors: own.reduce((n, r) => n + r.errors, 0) + base.reduce((n, r) => n + r.errors, 0),
  };
}
export type Summary = ReturnType<typeof summarise>;

/** Prints aligned columns: a 44-character label, then right-aligned values of the given widths. */
export function columns(widths: number[]) {
  return (label: string, ...values: string[]) =>
    console.log(`${label.padEnd(44)} ${values.map((v, i) => v.padStart(widths[i] ?? 8)).join(" ")}`);
}

/** A positive number given as `--<name> <value>` on the command line, or `fallback`; exits 2 otherwise. */
export function positiveArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${name} needs a positive number (got ${process.argv[i + 1] ?? "nothing"})`);
    process.exit(2);
  }
  return value;
}
