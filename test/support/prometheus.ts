// Debian's Prometheus server and Pushgateway as throwaway processes on 127.0.0.1 (packages
// `prometheus` and `prometheus-pushgateway`, installed by scripts/ci/install-system-deps.sh).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForPort } from "./processes";

export interface Running {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

function binary(names: string[], pkg: string): string {
  for (const name of names) if (spawnSync(name, ["--version"], { stdio: "ignore" }).status === 0) return name;
  throw new Error(`${names[0]} not found: apt-get install -y ${pkg} (scripts/ci/install-system-deps.sh)`);
}

async function launch(cmd: string, args: string[], port: number, dir: string): Promise<Running> {
  const child: ChildProcess = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (c) => (out += c));
  child.stderr?.on("data", (c) => (out += c));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await Promise.race([
      waitForPort(port, 30_000),
      exited.then(() => {
        throw new Error(`${cmd} exited before listening:\n${out}`);
      }),
    ]);
  } catch (err) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startPushgateway(): Promise<Running> {
  const bin = binary(["prometheus-pushgateway", "pushgateway"], "prometheus-pushgateway");
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tapi-pushgateway-"));
  return launch(bin, [`--web.listen-address=127.0.0.1:${port}`], port, dir);
}

/** Prometheus scraping `targets` (host:port) every `interval`, with its own empty storage. */
export async function startPrometheus(options: {
  targets: string[];
  interval?: string;
  job?: string;
  rules?: string[];
  /** Labels every scraped series gets (e.g. the `pod` a PodMonitor would add). */
  labels?: Record<string, string>;
}): Promise<Running> {
  const bin = binary(["prometheus"], "prometheus");
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tapi-prometheus-"));
  const config = join(dir, "prometheus.yml");
  const interval = options.interval ?? "1s";
  writeFileSync(
    config,
    JSON.stringify({
      global: { scrape_interval: interval, evaluation_interval: interval },
      rule_files: options.rules ?? [],
      scrape_configs: [
        {
          job_name: options.job ?? "transportation-api",
          static_configs: [{ targets: options.targets, labels: options.labels ?? {} }],
        },
      ],
    }),
  );
  return launch(
    bin,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    port,
    dir,
  );
}

/** A PromQL instant query through Prometheus' HTTP API (/api/v1/query): the vector's samples. */
export async function promQuery(
  prometheus: string,
  query: string,
): Promise<Array<{ metric: Record<string, string>; value: number }>> {
  const res = await fetch(`${prometheus}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  if (body.status !== "success") throw new Error(`query ${query} failed: ${body.error}`);
  if (body.data?.resultType !== "vector") throw new Error(`query ${query} is not a vector`);
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}
