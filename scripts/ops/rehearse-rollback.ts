// `npm run rehearse:rollback`: the automatic rollback, rehearsed for real on the local Docker engine.
// v1 (the service image) runs and passes the readiness gate; v2 — the same image with a broken
// Redis address baked in, so it starts but never becomes ready — replaces it on the same port; the
// same gate the deploy uses rejects v2; v1 is started again and the gate confirms it serves.
// Prints the seconds from v2's start to v1 confirmed. Exit 0 when every step went as described.
// Usage: bun scripts/ops/rehearse-rollback.ts [--image <v1 image>] [--gate-timeout <s>]
//   --image          use an existing image as v1 (default: build transportation-api:1.0.0-rehearsal)
//   --gate-timeout   seconds the gate gives v2 before rejecting it (default 20)
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, type ServerProcess, startPostgres } from "../../test/support/processes";
import { type GateResult, readinessGate } from "./lib/readiness-gate";

const args = process.argv.slice(2);
const flag = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const gateTimeoutS = Number(flag("gate-timeout") ?? 20);
const bun = join(process.cwd(), "node_modules", ".bin", "bun");
const suffix = `${process.pid}`;
const V2_IMAGE = `transportation-api:2.0.0-rehearsal-unready-${suffix}`;
const V2_VERSION = "2.0.0-rehearsal-unready";
// Production mode requires API credentials; throwaway values for a throwaway service.
const APP_SECRETS = ["--env", "API_KEY=rehearsal-key", "--env", "API_SECRET=rehearsal-secret"];
const names = { v1: `tapi-rehearsal-v1-${suffix}`, v2: `tapi-rehearsal-v2-${suffix}` };

function exec(cmd: string, argv: string[], input?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.on("error", (err) => resolve({ code: 127, out: err.message }));
    child.on("close", (code) => resolve({ code: code ?? 1, out }));
    child.stdin.on("error", () => {}); // a child may exit before reading its input
    child.stdin.end(input ?? "");
  });
}

async function must(cmd: string, argv: string[], input?: string): Promise<string> {
  const r = await exec(cmd, argv, input);
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

function runContainer(name: string, image: string, port: number, databaseUrl: string): Promise<string> {
  // The container spec both versions share, like one Deployment template with only the image changed.
  return must("docker", [
    "run",
    "--detach",
    "--name",
    name,
    "--network",
    "host",
    "--read-only",
    "--tmpfs",
    "/tmp",
    "--env",
    `PORT=${port}`,
    "--env",
    `DATABASE_URL=${databaseUrl}`,
    "--env",
    "LOG_LEVEL=warn",
    ...APP_SECRETS,
    image,
  ]);
}

const gate = (url: string, expectedVersion: string, timeoutS: number): Promise<GateResult> =>
  readinessGate({
    url,
    expectedVersion,
    consecutive: 3,
    intervalMs: 250,
    timeoutMs: timeoutS * 1000,
    requestTimeoutMs: 2000,
    log: (line) => console.log(`  ${line}`),
  });

async function main(): Promise<number> {
  let postgres: ServerProcess | undefined;
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
    // v2: a build whose baked configuration points at a Redis that does not exist (port 1).
    await must(
      "docker",
      ["build", "--quiet", "--tag", V2_IMAGE, "-"],
      `FROM ${v1}\nENV APP_VERSION=${V2_VERSION} REDIS_URL=redis://127.0.0.1:1\n`,
    );
    step(`v1 = ${v1} (version ${v1Version}); v2 = ${V2_IMAGE} (never ready)`);

    postgres = await startPostgres();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await must("docker", [
      "run",
      "--rm",
      "--network",
      "host",
      "--env",
      `DATABASE_URL=${postgres.url}`,
      ...APP_SECRETS,
      v1,
      "migrate",
    ]);

    await runContainer(names.v1, v1, port, postgres.url);
    const first = await gate(url, v1Version, 90);
    if (!first.ok) throw new Error(`v1 did not pass the gate, nothing to rehearse: ${first.reason}`);
    step(`v1 serving at ${url}: ${first.reason}`);

    // "Deploy" v2 in place of v1 on the same port.
    const v2Start = Date.now();
    await must("docker", ["rm", "--force", names.v1]);
    await runContainer(names.v2, V2_IMAGE, port, postgres.url);
    step(`v2 started; the gate gives it ${gateTimeoutS} s`);
    const second = await gate(url, V2_VERSION, gateTimeoutS);
    if (second.ok) throw new Error("v2 passed the gate; the rehearsal's broken build was not broken");
    step(`gate rejected v2: ${second.reason}`);

    // Roll back: the previous image, same spec.
    await must("docker", ["rm", "--force", names.v2]);
    await runContainer(names.v1, v1, port, postgres.url);
    const third = await gate(url, v1Version, 90);
    const seconds = ((Date.now() - v2Start) / 1000).toFixed(1);
    if (!third.ok) throw new Error(`v1 did not come back after the rollback: ${third.reason}`);
    step(`v1 serving again: ${third.reason}`);
    console.log(
      `rollback rehearsal passed: ${seconds} s from v2 start to v1 confirmed (gate timeout ${gateTimeoutS} s)`,
    );
    return 0;
  } catch (err) {
    console.error(`rollback rehearsal FAILED: ${(err as Error).message}`);
    return 1;
  } finally {
    for (const name of Object.values(names)) await exec("docker", ["rm", "--force", name]);
    await exec("docker", ["image", "rm", "--force", V2_IMAGE]);
    await postgres?.destroy();
  }
}

process.exit(await main());
