// `npm run test:e2e`: the E2E suite against the built image. Makes sure a Docker engine runs (installing
// it on a fresh machine), builds the image through `image:build`'s code path (offline when no registry is
// reachable), then runs test/e2e under both runners (bun test and vitest run), like scripts/test/run-all.ts.
// Ends with the line `N passed, N failed` (`, N skipped` when Docker could not be had outside CI).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engineRunning, ensureDebianPackages, ensureEngine } from "./lib/engine";
import { run, seconds } from "./lib/exec";
import { buildImage } from "./lib/image";

const CI = process.env.CI === "true" || process.env.CI === "1";
const bin = (name: string) => join(process.cwd(), "node_modules", ".bin", name);
const work = mkdtempSync(join(tmpdir(), "tapi-e2e-"));

interface Tally {
  name: string;
  passed: number;
  failed: number;
  skipped: number;
}
const tallies: Tally[] = [];

function stream(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const onData = (target: NodeJS.WriteStream) => (chunk: Buffer) => {
      output += chunk.toString();
      target.write(chunk);
    };
    child.stdout.on("data", onData(process.stdout));
    child.stderr.on("data", onData(process.stderr));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

async function step(name: string, fn: () => Promise<void>): Promise<boolean> {
  const start = performance.now();
  console.log(`\n=== ${name}`);
  try {
    await fn();
    console.log(`${name}: ok (${seconds(start)})`);
    tallies.push({ name, passed: 1, failed: 0, skipped: 0 });
    return true;
  } catch (err) {
    console.error(`${name}: FAILED (${seconds(start)})\n${(err as Error).message}`);
    tallies.push({ name, passed: 0, failed: 1, skipped: 0 });
    return false;
  }
}

function finish(): never {
  rmSync(work, { recursive: true, force: true });
  console.log("\n=== summary");
  for (const t of tallies)
    console.log(
      `${t.name.padEnd(18)} ${t.passed} passed, ${t.failed} failed${t.skipped ? `, ${t.skipped} skipped` : ""}`,
    );
  const sum = (key: "passed" | "failed" | "skipped") => tallies.reduce((n, t) => n + t[key], 0);
  const skipped = sum("skipped");
  console.log(`${sum("passed")} passed, ${sum("failed")} failed${skipped ? `, ${skipped} skipped` : ""}`);
  process.exit(sum("failed") > 0 ? 1 : 0);
}

const env: NodeJS.ProcessEnv = { ...process.env };

// 1. Docker engine (and docker-compose for the compose checks).
let engine = false;
const engineStart = performance.now();
console.log("=== docker engine");
try {
  // One apt-get run for everything a fresh machine lacks: the engine, compose, and the base-image builder.
  await ensureDebianPackages({
    ...((await engineRunning()) ? {} : { dockerd: "docker.io", docker: "docker.io" }),
    "docker-compose": "docker-compose",
    mmdebstrap: "mmdebstrap",
  });
  const status = await ensureEngine();
  engine = true;
  console.log(
    `docker engine ${status.serverVersion} (${status.started ? "started" : "running"}, ${seconds(engineStart)})`,
  );
} catch (err) {
  const message = `no Docker engine: ${(err as Error).message}`;
  if (CI) {
    // In CI the suite must run: a missing engine is a failure, not a skip.
    console.error(message);
    tallies.push({ name: "docker engine", passed: 0, failed: 1, skipped: 0 });
    finish();
  }
  console.warn(`${message}\nthe E2E tests will report themselves skipped`);
}

// 2. The image under test.
if (engine) {
  const metadataFile = join(work, "image.json");
  const ok = await step("image build", async () => {
    const built = await buildImage({ latest: true });
    writeFileSync(metadataFile, JSON.stringify(built));
  });
  if (!ok) finish();
  env.E2E_IMAGE_METADATA = metadataFile;
}

// 3. The suite, under both runners.
try {
  console.log("\n=== bun test ./test/e2e");
  const bunRun = await stream(bin("bun"), ["test", "--timeout", "600000", "./test/e2e"], env);
  const count = (word: string) => Number(new RegExp(`^\\s*(\\d+) ${word}\\s*$`, "m").exec(bunRun.output)?.[1] ?? 0);
  let bunFailed = count("fail");
  if (bunRun.code !== 0 && bunFailed === 0) bunFailed = 1; // crashed, or a file failed to load
  tallies.push({ name: "bun test", passed: count("pass"), failed: bunFailed, skipped: count("skip") });

  console.log("\n=== vitest run --config test/e2e/vitest.config.ts");
  const jsonFile = join(work, "vitest.json");
  const vitestRun = await stream(
    bin("vitest"),
    [
      "run",
      "--config",
      "test/e2e/vitest.config.ts",
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${jsonFile}`,
    ],
    env,
  );
  const tally: Tally = { name: "vitest run", passed: 0, failed: 0, skipped: 0 };
  try {
    const report = JSON.parse(readFileSync(jsonFile, "utf8"));
    tally.passed = report.numPassedTests;
    // A file that failed outside any test (a hook, an import) counts once.
    tally.failed = report.numFailedTests || ((report.numFailedTestSuites ?? 0) > 0 ? 1 : 0);
    tally.skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  } catch {
    tally.failed = 1;
  }
  if (vitestRun.code !== 0 && tally.failed === 0) tally.failed = 1;
  tallies.push(tally);
} finally {
  if (engine) {
    // Containers a failed or interrupted test left behind, and images that later builds untagged.
    const left = await run("docker", ["ps", "--all", "--quiet", "--filter", "name=tapi-e2e-"]);
    const ids = left.stdout.split("\n").filter(Boolean);
    if (ids.length > 0) await run("docker", ["rm", "--force", "--volumes", ...ids]);
    await run("docker", [
      "image",
      "prune",
      "--force",
      "--filter",
      "label=org.opencontainers.image.title=transportation-api",
    ]);
  }
}
finish();
