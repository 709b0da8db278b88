// `npm run bench:http`: requests/s of the service's /health against a bare Elysia hello-world on the
// same Bun, measured side by side with wrk. Target: ratio >= 0.8.
// Method: each round loads the bare app and the service at the same time, with one wrk each, while both
// servers share one CPU (wrk gets the others, when taskset is there). Both are always busy, so the
// kernel shares that CPU between them and each one's requests/s follows what a request costs it;
// whatever else the machine does in that second slows both alike. (Measuring them one after the other,
// each round's ratio swung between 0.45 and 1.5 on a shared 2-vCPU VM; side by side it stays within a
// few hundredths.) The kernel shares CPU between threads, not processes, so a server whose GC threads
// are busier takes a little more than half: the run therefore also counts each server's CPU per
// request over all its threads, and judges by the lower of the two ratios. Each is a median of rounds.
// Beside the service, Bun.serve alone is measured the same way three times: doing nothing else, reading
// and echoing X-Request-Id, and that plus the access line (the work the service must do per request).
// Their difference is what that work costs on Bun; the run prints the ceiling it sets for any
// Elysia app that does it, and how close the service comes to that ceiling.
// Observability: the service as shipped (metrics recorded, tracing off: only a `traceparent` read) and
// with metrics alone, each beside the same service built without either (scripts/bench/service-variant.ts),
// measured the same way with a `traceparent` sent: the throughput given up (goal: at most 5%) and the
// CPU µs each request adds. Then p99 under load with and without a 1 s scrape of /metrics, and what a
// scrape costs. `--only-observability` skips the comparison with bare Elysia.
// Then the board part (scripts/bench/http-board.ts, with the same arguments): a cached 17 kB departure
// board against Bun.serve answering the same bytes, plain, compressed and revalidated.
// Usage: bun scripts/bench/http.ts [--seconds 3] [--connections 32] [--rounds 6] [--min 0.8] [--no-fail]
//                                  [--only-observability] [--no-board]
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForPort } from "../../test/support/processes";
import { withPostgresAndRedis } from "./lib/services";
import { BUN, cpuMicros, pinned, pinning, positiveArg, requireWrk, settled } from "./lib/side-by-side";

requireWrk();

const arg = positiveArg;
const seconds = arg("seconds", 3);
const onlyObservability = process.argv.includes("--only-observability");
const connections = arg("connections", 32);
const rounds = arg("rounds", 6);
const TARGET = 0.8;
// Exit status: below `--min` (default: the target) fails. CI passes a lower floor that catches
// regressions while the target itself is not met yet; the printed verdict is always against TARGET.
const min = arg("min", TARGET);

interface Server {
  url: string;
  child: ChildProcess;
}

async function start(name: string, args: string[], env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const [command, argv] = pinned(pinning?.server, BUN, args);
  const child = spawn(command, argv, {
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: "ignore",
  });
  try {
    await waitForPort(port, 30_000);
    // warm-up so JIT and first-request costs are not measured
    for (let i = 0; i < 2000; i++) await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.arrayBuffer());
    await settled(child.pid!);
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${name} did not start: ${(err as Error).message}`);
  }
  console.log(`started ${name} on :${port}`);
  return { url: `http://127.0.0.1:${port}/health`, child };
}

/** Runs wrk against a URL for the configured time; resolves with its output. */
const running = new Set<ChildProcess>();
function wrk(url: string, extra: string[] = []): Promise<string> {
  const [command, argv] = pinned(pinning?.client, "wrk", [
    "-t",
    "1",
    "-c",
    String(connections),
    "-d",
    `${seconds}s`,
    ...extra,
    url,
  ]);
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ["ignore", "pipe", "inherit"] });
    running.add(child);
    child.on("exit", () => running.delete(child));
    let out = "";
    child.stdout!.on("data", (chunk) => (out += chunk));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited with ${code}:\n${out}`))));
  });
}

interface Run {
  rps: number;
  /** The server's CPU per request, counted until it is idle again (deferred GC work included). */
  cpuPerRequest: number;
}

/** Loads two servers at once; returns each one's throughput, CPU per request, and share of a CPU. */
async function sideBySide(
  a: Server,
  b: Server,
  extra: string[] = [],
): Promise<{ runs: [Run, Run]; shares: [number, number] }> {
  const pair = [a, b] as const;
  const before = pair.map((s) => cpuMicros(s.child.pid!));
  const outs = await Promise.all(pair.map((s) => wrk(s.url, extra)));
  const during = pair.map((s, i) => (cpuMicros(s.child.pid!) - before[i]!) / (seconds * 1_000_000));
  for (const s of pair) await settled(s.child.pid!);
  const runs = pair.map((s, i) => {
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(outs[i]!);
    const total = /(\d+) requests in/.exec(outs[i]!);
    if (!rps || !total) throw new Error(`unexpected wrk output:\n${outs[i]}`);
    return { rps: Number(rps[1]), cpuPerRequest: (cpuMicros(s.child.pid!) - before[i]!) / Number(total[1]) };
  }) as [Run, Run];
  return { runs, shares: [during[0]!, during[1]!] };
}

const VARIANTS = {
  none: "the service without metrics or tracing",
  metrics: "the service with metrics",
  full: "the service as shipped (metrics, tracing off)",
} as const;
type Variant = keyof typeof VARIANTS;
/** Each measured variant beside the baseline; `full` twice: with and without a traceparent sent. */
const PAIRS = {
  metrics: { variant: "metrics", traceparent: false, label: VARIANTS.metrics },
  full: { variant: "full", traceparent: true, label: `${VARIANTS.full}, traceparent sent` },
  fullNoHeader: { variant: "full", traceparent: false, label: `${VARIANTS.full}, no traceparent` },
} as const;
type Pair = keyof typeof PAIRS;
const observability = Object.fromEntries(
  Object.keys(PAIRS).map((p) => [p, { baseline: [] as Run[], own: [] as Run[] }]),
) as Record<Pair, { baseline: Run[]; own: Run[] }>;
interface LatencyRun {
  p50Ms: number;
  p99Ms: number;
  scrapes: { ms: number; bytes: number }[];
}
const scrapeRuns = { quiet: [] as LatencyRun[], scraped: [] as LatencyRun[], idleScrapeMs: [] as number[] };
/** Requests per second of the open-loop load: a busy but not saturated server. */
const LATENCY_RATE = arg("latency-rate", 2000);
const LATENCY_SECONDS = 5;

/** Times one scrape of /metrics. */
async function scrapeOnce(url: string): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const body = await (await fetch(url)).arrayBuffer();
  return { ms: performance.now() - t, bytes: body.byteLength };
}

/**
 * Latency at a fixed request rate (scripts/bench/open-loop.ts, pinned beside wrk's CPUs); with
 * `scrapeUrl`, /metrics is fetched every second meanwhile, as Prometheus would.
 */
async function latencyUnderLoad(server: Server, scrapeUrl: string | undefined): Promise<LatencyRun> {
  const scrapes: { ms: number; bytes: number }[] = [];
  let scraping = scrapeUrl !== undefined;
  const scraper = (async () => {
    while (scraping) {
      const s = await scrapeOnce(scrapeUrl!);
      scrapes.push(s);
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - s.ms)));
    }
  })();
  const [command, argv] = pinned(pinning?.client, BUN, [
    "scripts/bench/open-loop.ts",
    server.url,
    String(LATENCY_RATE),
    String(LATENCY_SECONDS),
  ]);
  // Asynchronously: the scraper above runs in this process's event loop meanwhile.
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ["ignore", "pipe", "inherit"] });
    running.add(child);
    let text = "";
    child.stdout!.on("data", (chunk) => (text += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      running.delete(child);
      if (code === 0) resolve(text);
      else reject(new Error(`open-loop load exited with ${code}`));
    });
  });
  scraping = false;
  await scraper;
  await settled(server.child.pid!);
  const r = JSON.parse(out.trim().split("\n").pop()!) as { p50: number; p99: number; failed: number };
  if (r.failed > 0) throw new Error(`${r.failed} requests failed under the open-loop load`);
  return { p50Ms: r.p50, p99Ms: r.p99, scrapes };
}

// The service, and Bun.serve alone doing none, part, or all of the work the service does per request.
const CONTENDERS = {
  service: "transportation-api (full stack)",
  plain: "Bun.serve alone, no framework",
  echo: "Bun.serve + X-Request-Id read and echoed",
  required: "Bun.serve + X-Request-Id + access line",
} as const;
type Name = keyof typeof CONTENDERS;
const NAMES = Object.keys(CONTENDERS) as Name[];
const results = Object.fromEntries(NAMES.map((n) => [n, { baseline: [] as Run[], own: [] as Run[] }])) as Record<
  Name,
  { baseline: Run[]; own: Run[] }
>;
const shares: number[] = [];
const started: Server[] = [];
const dataDir = mkdtempSync(join(tmpdir(), "tapi-bench-"));
try {
  await withPostgresAndRedis(async (postgres, redis) => {
    try {
      const launch = async (...args: Parameters<typeof start>) => {
        const server = await start(...args);
        started.push(server);
        return server;
      };
      const reference = (mode: Exclude<Name, "service">) =>
        launch(CONTENDERS[mode], ["scripts/bench/bun-serve-reference.ts"], { REFERENCE: mode });
      // As deployed: the image's NODE_ENV=production (no development CORS), which needs an API key.
      const serviceEnv = async () => ({
        NODE_ENV: "production",
        API_KEY: "bench-key-0123456789abcdef",
        DATA_DIR: dataDir,
        DATABASE_URL: postgres.url,
        REDIS_URL: redis.url,
        LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
        METRICS_PORT: String(await freePort()),
      });
      if (!onlyObservability) {
        const baseline = await launch("bare Elysia", ["scripts/bench/hello-elysia.ts"], {});
        // The service runs as deployed: against PostgreSQL and Redis, logging an access line per request.
        const contenders: Record<Name, Server> = {
          service: await launch(CONTENDERS.service, ["src/main.ts", "serve", "--migrate"], await serviceEnv()),
          plain: await reference("plain"),
          echo: await reference("echo"),
          required: await reference("required"),
        };
        for (let r = 0; r < rounds; r++) {
          for (const name of NAMES) {
            const { runs, shares: s } = await sideBySide(baseline, contenders[name]);
            results[name].baseline.push(runs[0]);
            results[name].own.push(runs[1]);
            shares.push(...s);
          }
        }
        for (const s of started.splice(0)) s.child.kill("SIGTERM");
      }

      // Observability: each variant beside the service without it, all sent a traceparent.
      const variant = async (mode: Variant) => {
        const env = await serviceEnv();
        const server = await launch(VARIANTS[mode], ["scripts/bench/service-variant.ts"], {
          ...env,
          OBSERVABILITY: mode,
        });
        return { ...server, metricsUrl: `http://127.0.0.1:${env.METRICS_PORT}/metrics` };
      };
      const without = await variant("none");
      const measured = { metrics: await variant("metrics"), full: await variant("full") };
      const traceparent = ["-H", "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"];
      for (let r = 0; r < rounds; r++) {
        for (const [pair, { variant, traceparent: sent }] of Object.entries(PAIRS) as [Pair, (typeof PAIRS)[Pair]][]) {
          const { runs } = await sideBySide(without, measured[variant], sent ? traceparent : []);
          observability[pair].baseline.push(runs[0]);
          observability[pair].own.push(runs[1]);
        }
      }
      // A scrape's own cost on an idle server, then p99 at a fixed rate without and with a scrape every
      // second (alternating, 3 runs each).
      for (let i = 0; i < 20; i++) scrapeRuns.idleScrapeMs.push((await scrapeOnce(measured.full.metricsUrl)).ms);
      await settled(measured.full.child.pid!);
      for (let r = 0; r < 3; r++) {
        scrapeRuns.quiet.push(await latencyUnderLoad(measured.full, undefined));
        scrapeRuns.scraped.push(await latencyUnderLoad(measured.full, measured.full.metricsUrl));
      }
    } finally {
      for (const child of running) child.kill("SIGKILL");
      for (const s of started) s.child.kill("SIGTERM");
    }
  });
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
let exitCode = 0;
if (!onlyObservability) {
  const summary = (name: Name) => {
    const { baseline: base, own } = results[name];
    const ratios = own.map((run, i) => run.rps / base[i]!.rps);
    const cpuRatios = own.map((run, i) => base[i]!.cpuPerRequest / run.cpuPerRequest);
    return {
      cpuRatios,
      rps: median(own.map((r) => r.rps)),
      cpu: median(own.map((r) => r.cpuPerRequest)),
      baseRps: median(base.map((r) => r.rps)),
      baseCpu: median(base.map((r) => r.cpuPerRequest)),
      ratios,
      ratio: median(ratios),
      cpuRatio: median(cpuRatios),
    };
  };
  const all = Object.fromEntries(NAMES.map((n) => [n, summary(n)])) as Record<Name, ReturnType<typeof summary>>;
  const lower = (x: { ratio: number; cpuRatio: number }) => Math.min(x.ratio, x.cpuRatio);
  const where = pinning ? `both servers on CPU ${pinning.server}, wrk on CPU ${pinning.client}` : "not pinned";
  console.log(
    `\nGET /health, wrk -t1 -c${connections} -d${seconds}s against bare Elysia and one other server at once ` +
      `(${where}); ${rounds} rounds, medians; ratio = the lower of throughput and CPU-per-request ratios`,
  );
  const cols = (label: string, ...values: string[]) =>
    console.log(`${label.padEnd(44)} ${values.map((v, i) => v.padStart([8, 18, 8, 8, 8][i]!)).join(" ")}`);
  cols("server (each beside its own bare Elysia)", "req/s", "server CPU µs/req", "thruput", "CPU", "ratio");
  for (const name of NAMES) {
    const x = all[name];
    cols(
      CONTENDERS[name],
      x.rps.toFixed(0),
      x.cpu.toFixed(1),
      x.ratio.toFixed(2),
      x.cpuRatio.toFixed(2),
      lower(x).toFixed(2),
    );
  }
  cols("bare Elysia hello-world (beside the service)", all.service.baseRps.toFixed(0), all.service.baseCpu.toFixed(1));
  const svc = all.service;
  console.log(`per-round throughput ratios, service ${svc.ratios.map((r) => r.toFixed(2)).join(" ")}`);
  console.log(`per-round CPU ratios, service        ${svc.cpuRatios.map((r) => r.toFixed(2)).join(" ")}`);
  // Each server should have had about half of the shared CPU; far less means its wrk could not keep it
  // busy, and the other server took the idle time.
  const [least, most] = [Math.min(...shares), Math.max(...shares)];
  console.log(`each server's share of the shared CPU while loaded: ${pct(least)}–${pct(most)}`);
  if (pinning && least < 0.4)
    console.log("WARNING: a server was not kept busy (wrk could not load it enough); the ratios are unreliable");
  // What the per-request work costs on Bun, as a fraction of a bare Elysia request: the references'
  // costs per request, each relative to the bare app beside it, differ by exactly that work. Added to
  // bare Elysia's own cost, it gives the most any Elysia app doing that work can reach.
  const work = 1 / lower(all.required) - 1 / lower(all.plain);
  const ceiling = 1 / (1 + work);
  console.log(
    `the per-request work on Bun alone (read and echo X-Request-Id; one access line, formatted and ` +
      `written as the service does) adds ${(work * 100).toFixed(0)}% to a bare Elysia request, so an ` +
      `Elysia app doing it reaches at most ≈ ${ceiling.toFixed(2)}; the service reaches ` +
      `${(lower(svc) / ceiling).toFixed(2)} of that`,
  );
  const verdict = lower(svc);
  console.log(
    `service: throughput ratio ${svc.ratio.toFixed(2)}, CPU-per-request ratio ${svc.cpuRatio.toFixed(2)}; ` +
      `judged by the lower, ${verdict.toFixed(2)} (target >= ${TARGET})`,
  );
  console.log(verdict >= TARGET ? "OK" : "BELOW TARGET");
  if (verdict < min) console.log(`FAIL: below the --min ${min} this run requires`);
  if (verdict < min && !process.argv.includes("--no-fail")) exitCode = 1;
}

// --- observability cost -------------------------------------------------------------------------------
const fmt = (x: number, digits = 1) => x.toFixed(digits);
console.log(
  `\nObservability on GET /health, wrk -t1 -c${connections} -d${seconds}s, each variant beside ` +
    `${VARIANTS.none} at once (${pinning ? `both on CPU ${pinning.server}` : "not pinned"}); ${rounds} rounds, medians`,
);
const ocols = (label: string, ...values: string[]) =>
  console.log(`${label.padEnd(66)} ${values.map((v, i) => v.padStart([8, 12, 14, 18][i]!)).join(" ")}`);
ocols("variant", "req/s", "CPU µs/req", "req/s vs none", "added CPU µs/req");
const base = observability.metrics.baseline;
ocols(VARIANTS.none, fmt(median(base.map((r) => r.rps)), 0), fmt(median(base.map((r) => r.cpuPerRequest))));
const cost = (pair: Pair) => {
  const { baseline, own } = observability[pair];
  return {
    rps: median(own.map((r) => r.rps)),
    cpu: median(own.map((r) => r.cpuPerRequest)),
    ratio: median(own.map((r, i) => r.rps / baseline[i]!.rps)),
    added: median(own.map((r, i) => r.cpuPerRequest - baseline[i]!.cpuPerRequest)),
    rounds: own.map((r, i) => `${fmt((r.rps / baseline[i]!.rps - 1) * 100)}%`).join(" "),
  };
};
for (const pair of Object.keys(PAIRS) as Pair[]) {
  const c = cost(pair);
  ocols(PAIRS[pair].label, fmt(c.rps, 0), fmt(c.cpu), `${fmt((c.ratio - 1) * 100)}%`, fmt(c.added, 2));
}
for (const pair of Object.keys(PAIRS) as Pair[])
  console.log(`per-round req/s vs none, ${pair.padEnd(12)} ${cost(pair).rounds}`);
for (const pair of ["fullNoHeader", "full"] as const) {
  const c = cost(pair);
  const fewer = (1 - c.ratio) * 100;
  console.log(
    `as shipped (${pair === "full" ? "traceparent sent" : "no traceparent"}): ${fmt(Math.max(0, fewer))}% fewer requests/s than ` +
      `without metrics and tracing (goal <= 5%), ${fmt(c.added, 2)} µs of CPU added per request: ${fewer <= 5 ? "OK" : "ABOVE GOAL"}`,
  );
}
const p99 = (runs: LatencyRun[]) => median(runs.map((r) => r.p99Ms));
const p50 = (runs: LatencyRun[]) => median(runs.map((r) => r.p50Ms));
const allScrapes = scrapeRuns.scraped.flatMap((r) => r.scrapes);
console.log(
  `latency at ${LATENCY_RATE} requests/s (open loop, ${LATENCY_SECONDS} s, 3 runs each, medians): ` +
    `p99 ${fmt(p99(scrapeRuns.quiet), 2)} ms without scraping, ${fmt(p99(scrapeRuns.scraped), 2)} ms with /metrics ` +
    `scraped every 1 s (p50 ${fmt(p50(scrapeRuns.quiet), 2)} vs ${fmt(p50(scrapeRuns.scraped), 2)} ms)`,
);
console.log(
  `a scrape: ${fmt(median(scrapeRuns.idleScrapeMs), 2)} ms on an idle server, ${fmt(median(allScrapes.map((s) => s.ms)), 2)} ms ` +
    `(max ${fmt(Math.max(...allScrapes.map((s) => s.ms)), 2)}) under that load; ${fmt(median(allScrapes.map((s) => s.bytes)) / 1024)} KiB`,
);
// --- a cached board ----------------------------------------------------------------------------------
if (!onlyObservability && !process.argv.includes("--no-board")) {
  const board = spawnSync(BUN, ["scripts/bench/http-board.ts", ...process.argv.slice(2)], { stdio: "inherit" });
  if (board.status !== 0) exitCode = board.status ?? 1;
}
process.exit(exitCode);
