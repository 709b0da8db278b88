// `npm run rehearse:rollback`: the automatic rollback, and a manual rollback to "the previous
// revision" after it, rehearsed with the real deploy, rollback and verify commands on the local
// Docker engine. The cluster is the fake kubectl of the ops tests (test/ops/fake-kubectl) with its
// Docker backend: its Deployment keeps revisions, renumbers them on undo and copies annotations as
// Kubernetes does, its one "pod" is a container running the live revision's image, and the migration
// Job runs the image's `migrate` against a throwaway PostgreSQL. Steps:
// 1. deploy v1 (the service image): migration, rollout, the gate passes, recorded as passed;
// 2. deploy v2 — v1 with a baked configuration that requires Redis (redis.required: true) at an address
//    where there is none, so it starts but is never ready (a Redis that is only down leaves /ready at 200
//    "degraded"): the gate rejects it, deploy undoes it (Kubernetes numbers v1 above v2 again) and gates v1;
// 3. rollback with no revision ("previous"): v2 failed its gate, so it is refused and v1 stays live
//    (before the gate verdicts were recorded, it redeployed v2);
// 4. verify: v1 serves.
// Then the analysis window after the gate, under synthetic traffic (4 clients on GET /v1/feeds, each
// pausing 20 ms between requests):
// 5. deploy v3 — ready, but every fifth /v1/feeds query fails (scripts/ops/rehearsal-fault.ts): the
//    analysis reads its 5xx ratio through the pod proxy and the deploy rolls it back to v1;
// 6. deploy v4 — ready, but those queries take 1.5 s longer: rolled back on its p99;
// 7. deploy v5 — v1's code under a new version: passes the window and stays live.
// Prints the seconds from v2's deploy start to v1 confirmed, and each analysis verdict with its
// figures. Exit 0 when every step went as described.
// Usage: bun scripts/ops/rehearse-rollback.ts [--image <v1 image>] [--gate-timeout <s>] [--analysis-window <s>]
//   --image            use an existing image as v1 (default: build transportation-api:1.0.0-rehearsal)
//   --gate-timeout     seconds the gate gives v2 before rejecting it (default 20)
//   --analysis-window  seconds of analysis for v3, v4 and v5 (default 30)
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, type ServerProcess, startPostgres } from "../../test/support/processes";

const args = process.argv.slice(2);
const flag = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const gateTimeoutS = Number(flag("gate-timeout") ?? 20);
const analysisWindowS = Number(flag("analysis-window") ?? 30);
const root = join(import.meta.dirname, "../..");
const bun = join(root, "node_modules", ".bin", "bun");
const fakeKubectl = join(root, "test/ops/fake-kubectl/kubectl");
const overlay = join(root, "test/ops/fixtures/overlay");
const suffix = `${process.pid}`;
// deploy.ts runs <image>:<version>; both versions are tagged into one throwaway repository.
const REPO = `transportation-api-rehearsal-${suffix}`;
const V2_VERSION = "2.0.0-rehearsal-unready";
const V3_VERSION = "3.0.0-rehearsal-errors";
const V4_VERSION = "4.0.0-rehearsal-slow";
const V5_VERSION = "5.0.0-rehearsal-healthy";
const API_KEY = "rehearsal-key";
const CONTAINER = `tapi-rehearsal-${suffix}`;
const stateDir = mkdtempSync(join(tmpdir(), "tapi-rehearsal-kube-"));
let v1Tag: string | undefined;
let postgres: ServerProcess | undefined;
let current: ReturnType<typeof spawn> | undefined;
let traffic: Traffic | undefined;

function exec(
  cmd: string,
  argv: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; show?: boolean } = {},
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: ["pipe", "pipe", "pipe"], cwd: root, env: opts.env ?? process.env });
    current = child;
    let out = "";
    let partial = "";
    const onData = (c: Buffer) => {
      out += c.toString();
      if (!opts.show) return;
      const lines = (partial + c.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) console.log(`  │ ${line}`);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (err) => resolve({ code: 127, out: err.message }));
    child.on("close", (code) => {
      if (opts.show && partial) console.log(`  │ ${partial}`);
      resolve({ code: code ?? 1, out });
    });
    child.stdin.on("error", () => {}); // a child may exit before reading its input
    child.stdin.end(opts.input ?? "");
  });
}

async function must(cmd: string, argv: string[], input?: string): Promise<string> {
  const r = await exec(cmd, argv, { input });
  if (r.code !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed (${r.code}):\n${r.out.trim()}`);
  return r.out.trim();
}

const step = (message: string) => console.log(`rehearsal: ${message}`);

async function v1Image(): Promise<string> {
  const given = flag("image");
  if (given) return given;
  const dir = mkdtempSync(join(tmpdir(), "tapi-rehearsal-"));
  const metadata = join(dir, "image.json");
  step("building v1 (npm run image:build -- --version 1.0.0-rehearsal --no-latest)");
  await must(bun, [
    "scripts/docker/build-image.ts",
    "--version",
    "1.0.0-rehearsal",
    "--no-latest",
    "--metadata-file",
    metadata,
  ]);
  const built = JSON.parse(readFileSync(metadata, "utf8")) as { image: string };
  rmSync(dir, { recursive: true, force: true });
  return built.image;
}

/** v2: v1 with a baked configuration that requires a Redis that does not exist (port 1). */
async function buildV2(v1: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tapi-rehearsal-v2-"));
  writeFileSync(join(dir, "config.yaml"), "redis:\n  required: true\n");
  writeFileSync(
    join(dir, "Dockerfile"),
    `FROM ${v1}\nCOPY config.yaml /etc/transportation-rehearsal.yaml\n` +
      `ENV APP_VERSION=${V2_VERSION} REDIS_URL=redis://127.0.0.1:1 CONFIG_FILE=/etc/transportation-rehearsal.yaml\n`,
  );
  try {
    await must("docker", ["build", "--quiet", "--tag", `${REPO}:${V2_VERSION}`, dir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The commands run as on a laptop: plain text, `output name=value` lines, the fake kubectl. */
function opsEnv(backend: object): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("INPUT_") && !k.startsWith("GITHUB_")) env[k] = v;
  return {
    ...env,
    KUBECTL: fakeKubectl,
    BUN: bun,
    FAKE_KUBECTL_STATE: stateDir,
    FAKE_KUBECTL_DOCKER: JSON.stringify(backend),
  };
}

async function ops(command: string, argv: string[], env: NodeJS.ProcessEnv) {
  step(`$ bun scripts/ops/${command}.ts ${argv.join(" ")}`);
  const r = await exec(bun, [`scripts/ops/${command}.ts`, ...argv], { env, show: true });
  const outputs: Record<string, string> = {};
  for (const m of r.out.matchAll(/^output ([\w-]+)=(.*)$/gm)) outputs[m[1]!] = m[2]!;
  return { ...r, outputs };
}

/** v1 with another version and, for the broken ones, a fault preloaded into the server. */
async function variant(v1: string, version: string, fault?: "errors" | "slow"): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "tapi-rehearsal-build-"));
  const lines = [`FROM ${v1}`, `ENV APP_VERSION=${version}`];
  if (fault) {
    copyFileSync(join(root, "scripts/ops/rehearsal-fault.ts"), join(dir, "rehearsal-fault.ts"));
    lines.push(
      "COPY rehearsal-fault.ts /app/rehearsal-fault.ts",
      `ENV REHEARSAL_FAULT=${fault}`,
      'ENTRYPOINT ["bun", "--preload", "/app/rehearsal-fault.ts", "src/main.ts"]',
      'CMD ["serve"]',
    );
  }
  writeFileSync(join(dir, "Dockerfile"), `${lines.join("\n")}\n`);
  try {
    await must("docker", ["build", "--quiet", "--tag", `${REPO}:${version}`, dir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return `${REPO}:${version}`;
}

interface Traffic {
  stop(): Promise<{ sent: number; statuses: Record<string, number> }>;
}

/** Synthetic users: 4 clients calling GET /v1/feeds, each at most every 20 ms (at most 15 minutes). */
function startTraffic(url: string): Traffic {
  let running = true;
  let sent = 0;
  const statuses: Record<string, number> = {};
  const until = Date.now() + 15 * 60_000;
  const client = async () => {
    while (running && Date.now() < until) {
      const status = await fetch(`${url}/v1/feeds`, {
        headers: { "x-api-key": API_KEY },
        signal: AbortSignal.timeout(10_000),
      })
        .then(async (r) => {
          await r.arrayBuffer();
          return String(r.status);
        })
        .catch(() => "no answer"); // the container is being replaced
      sent++;
      statuses[status] = (statuses[status] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, status === "no answer" ? 100 : 20));
    }
  };
  const clients = Promise.all([client(), client(), client(), client()]);
  return {
    async stop() {
      running = false;
      await clients;
      return { sent, statuses };
    },
  };
}

/** The image the Deployment's container is running now, as Docker reports it. */
const running = () => must("docker", ["inspect", "--format", "{{.Config.Image}}", CONTAINER]);

async function main(): Promise<number> {
  try {
    if ((await exec("docker", ["version", "--format", "{{.Server.Version}}"])).code !== 0) {
      step("no Docker engine answering; starting one (npm run docker:engine)");
      await must(bun, ["scripts/docker/ensure-engine.ts"]);
    }
    const v1 = await v1Image();
    const v1Version = await must("docker", [
      "image",
      "inspect",
      "--format",
      '{{ index .Config.Labels "org.opencontainers.image.version" }}',
      v1,
    ]);
    v1Tag = `${REPO}:${v1Version}`;
    await must("docker", ["tag", v1, v1Tag]);
    await buildV2(v1);
    step(`v1 = ${v1} (version ${v1Version}); v2 = ${REPO}:${V2_VERSION} (never ready)`);

    postgres = await startPostgres();
    const port = await freePort();
    const metricsPort = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // The container spec every revision shares (Production mode requires API credentials;
    // throwaway values for a throwaway service).
    const env = opsEnv({
      container: CONTAINER,
      env: {
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        DATABASE_URL: postgres.url,
        LOG_LEVEL: "warn",
        API_KEY,
        API_SECRET: "rehearsal-secret",
      },
    });
    const gate = ["--url", url, "--interval", "0.25"];
    const common = ["--environment", "rehearsal", ...gate];
    const deployArgs = (version: string, gateTimeout: number) => [
      ...common,
      "--image",
      REPO,
      "--version",
      version,
      "--overlay",
      overlay,
      "--migration-poll",
      "0.25",
      "--gate-timeout",
      String(gateTimeout),
    ];

    const first = await ops("deploy", deployArgs(v1Version, 90), env);
    if (first.code !== 0) throw new Error("v1 was not deployed, nothing to rehearse");
    step(`v1 serving at ${url}, revision ${first.outputs.revision}`);

    const v2Start = Date.now();
    const second = await ops("deploy", deployArgs(V2_VERSION, gateTimeoutS), env);
    if (second.code === 0) throw new Error("v2 was deployed; the rehearsal's broken build was not broken");
    if (second.outputs.result !== "rolled-back" || second.outputs["live-version"] !== v1Version) {
      throw new Error(`the deploy of v2 did not roll back to v1: ${JSON.stringify(second.outputs)}`);
    }
    if ((await running()) !== v1Tag) throw new Error(`the container runs ${await running()}, not v1`);
    const seconds = ((Date.now() - v2Start) / 1000).toFixed(1);
    step(`v2 rejected and undone; v1 serving again as revision ${second.outputs.revision}`);

    const previous = await ops("rollback", [...common, "--reason", "rehearsal: back to the previous revision"], env);
    if (previous.code === 0 || previous.outputs.changed !== "false" || (await running()) !== v1Tag) {
      throw new Error('rolling back to "the previous revision" redeployed the release that failed');
    }
    step(`"previous" refused: v2 failed its gate; v1 stays live`);

    const verified = await ops("verify", [...gate, "--expected-version", v1Version], env);
    if (verified.code !== 0) throw new Error("v1 does not serve after the manual rollback was refused");
    const gateLine = `rollback rehearsal passed: ${seconds} s from v2's deploy start to v1 confirmed (gate timeout ${gateTimeoutS} s); "previous" stayed on v1`;

    // The analysis window, under synthetic /v1 traffic.
    await variant(v1, V3_VERSION, "errors");
    await variant(v1, V4_VERSION, "slow");
    await variant(v1, V5_VERSION);
    step(
      `v3 = ${REPO}:${V3_VERSION} (every fifth /v1/feeds query fails), v4 = ${REPO}:${V4_VERSION} (those queries 1.5 s slower), v5 = ${REPO}:${V5_VERSION} (healthy)`,
    );
    const analysis = [
      "--analysis-window",
      String(analysisWindowS),
      "--analysis-interval",
      "3",
      "--metrics-port",
      String(metricsPort),
      "--min-requests",
      "20",
    ];
    traffic = startTraffic(url);
    const verdicts: string[] = [];
    for (const [version, metric] of [
      [V3_VERSION, "5xx ratio"],
      [V4_VERSION, "p99 latency"],
    ] as const) {
      const r = await ops("deploy", [...deployArgs(version, 60), ...analysis], env);
      const why = /failed at analysis: (.*)$/m.exec(r.out)?.[1] ?? "";
      if (r.code === 0 || r.outputs.result !== "rolled-back" || r.outputs["live-version"] !== v1Version)
        throw new Error(`${version} was not rolled back by the analysis: ${JSON.stringify(r.outputs)} ${why}`);
      if (!why.includes(metric)) throw new Error(`${version} was rolled back, but not on its ${metric}: ${why}`);
      if ((await running()) !== v1Tag) throw new Error(`the container runs ${await running()}, not v1`);
      verdicts.push(`${version} rolled back: ${why}`);
      step(verdicts.at(-1)!);
    }
    const healthy = await ops("deploy", [...deployArgs(V5_VERSION, 60), ...analysis], env);
    const passed = /analysis passed: (.*)$/m.exec(healthy.out)?.[1] ?? "";
    if (healthy.code !== 0 || healthy.outputs["live-version"] !== V5_VERSION || !passed)
      throw new Error(`the healthy ${V5_VERSION} did not pass the analysis window: ${JSON.stringify(healthy.outputs)}`);
    verdicts.push(`${V5_VERSION} kept: ${passed}`);
    step(verdicts.at(-1)!);
    const load = await traffic.stop();
    traffic = undefined;
    console.log(gateLine);
    console.log(
      `analysis rehearsal passed under ${load.sent} synthetic /v1/feeds requests (${Object.entries(load.statuses)
        .map(([status, n]) => `${n}× ${status}`)
        .join(", ")}):`,
    );
    for (const v of verdicts) console.log(`  ${v}`);
    return 0;
  } catch (err) {
    console.error(`rollback rehearsal FAILED: ${(err as Error).message}`);
    return 1;
  } finally {
    await cleanUp();
  }
}

async function cleanUp(): Promise<void> {
  await traffic?.stop();
  await exec("docker", ["rm", "--force", CONTAINER]);
  // Untags only: v1 keeps its own name.
  if (v1Tag) await exec("docker", ["image", "rm", v1Tag]);
  for (const version of [V2_VERSION, V3_VERSION, V4_VERSION, V5_VERSION])
    await exec("docker", ["image", "rm", "--force", `${REPO}:${version}`]);
  await postgres?.destroy();
  rmSync(stateDir, { recursive: true, force: true });
}

// Stopped from outside: stop the command that runs, then remove what the rehearsal made.
process.once("SIGTERM", () => {
  current?.kill("SIGTERM");
  void cleanUp().finally(() => process.exit(143));
});
process.exit(await main());
