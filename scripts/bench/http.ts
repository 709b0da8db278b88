// `npm run bench:http`: requests/s of the service's /health against a bare Elysia hello-world on the
// same Bun, measured side by side (interleaved rounds) with wrk. Target: ratio >= 0.8.
// Usage: bun scripts/bench/http.ts [--seconds 5] [--connections 32] [--rounds 2]
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForPort } from "../../test/support/processes";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg("seconds", 5);
const connections = arg("connections", 32);
const rounds = arg("rounds", 2);
const TARGET = 0.8;

try {
  execFileSync("wrk", ["--version"], { stdio: "ignore" });
} catch (err) {
  if ((err as NodeJS.ErrnoException).code === "ENOENT") {
    console.error("wrk is not installed: apt-get install -y wrk");
    process.exit(2);
  }
}

const bun = join(process.cwd(), "node_modules", ".bin", "bun");

async function start(
  name: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(bun, args, {
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: "ignore",
  });
  await waitForPort(port, 30_000);
  // warm-up so JIT and first-request costs are not measured
  for (let i = 0; i < 200; i++) await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.arrayBuffer());
  console.log(`started ${name} on :${port}`);
  return { url: `http://127.0.0.1:${port}/health`, child };
}

function wrk(url: string): number {
  const out = execFileSync("wrk", ["-t", "1", "-c", String(connections), "-d", `${seconds}s`, url]).toString();
  const match = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!match) throw new Error(`unexpected wrk output:\n${out}`);
  return Number(match[1]);
}

const dataDir = mkdtempSync(join(tmpdir(), "tapi-bench-"));
const baseline = await start("bare Elysia", ["scripts/bench/hello-elysia.ts"], {});
const service = await start("transportation-api", ["src/main.ts", "serve"], {
  DATA_DIR: dataDir,
  LOG_LEVEL: process.env.LOG_LEVEL ?? "info", // production default: one access line per request
});
const results = { baseline: [] as number[], service: [] as number[] };
try {
  for (let r = 0; r < rounds; r++) {
    results.baseline.push(wrk(baseline.url));
    results.service.push(wrk(service.url));
  }
} finally {
  baseline.child.kill("SIGTERM");
  service.child.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const b = median(results.baseline);
const s = median(results.service);
const ratio = s / b;
console.log(`\nGET /health, wrk -t1 -c${connections} -d${seconds}s, ${rounds} interleaved rounds, median req/s`);
console.log(`${"server".padEnd(34)} ${"req/s".padStart(10)}`);
console.log(`${"bare Elysia hello-world".padEnd(34)} ${b.toFixed(0).padStart(10)}`);
console.log(`${"transportation-api (full stack)".padEnd(34)} ${s.toFixed(0).padStart(10)}`);
console.log(`ratio ${ratio.toFixed(2)} (target >= ${TARGET}) ${ratio >= TARGET ? "OK" : "BELOW TARGET"}`);
process.exit(ratio >= TARGET || process.argv.includes("--no-fail") ? 0 : 1);
