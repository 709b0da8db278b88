// The real service (`bun src/main.ts serve --migrate`) as a child process for the gate tests.

import { type ChildProcess, spawn } from "node:child_process";
import { freePort, waitForPort } from "../support/processes";
import { BUN, REPO_ROOT } from "../support/repo";

export interface RunningService {
  url: string;
  stop(): Promise<void>;
}

export async function startService(env: {
  DATABASE_URL: string;
  REDIS_URL: string;
  APP_VERSION: string;
}): Promise<RunningService> {
  const port = await freePort();
  const child: ChildProcess = spawn(BUN, ["src/main.ts", "serve", "--migrate"], {
    cwd: REPO_ROOT,
    env: { ...process.env, METRICS_PORT: "0", ...env, PORT: String(port), LOG_LEVEL: "warn", NODE_ENV: "test" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await Promise.race([
      waitForPort(port, 60_000),
      exited.then(() => {
        throw new Error(`the service exited before listening:\n${stderr}`);
      }),
    ]);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
