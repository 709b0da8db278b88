// Makes a Docker engine available: uses a running one, else installs Debian's docker.io when needed and
// starts dockerd in the background. Without a network bridge (--bridge=none): containers here use
// --network host, which is all an offline machine with loopback-only services can offer.
import { spawn } from "node:child_process";
import { existsSync, openSync } from "node:fs";
import { run, seconds, which } from "./exec";

export const DOCKERD_LOG = process.env.DOCKERD_LOG ?? "/var/log/dockerd-transportation.log";

/** True when `docker info` answers (client present and a daemon reachable). */
export async function engineRunning(): Promise<boolean> {
  if (!(await which("docker"))) return false;
  const info = await run("docker", ["info", "--format", "{{.ServerVersion}}"], { timeoutMs: 15_000 });
  return info.code === 0 && info.stdout.trim().length > 0;
}

let aptUpdated = false;

/** Installs Debian packages whose command is missing ({command: package}); needs root. */
export async function ensureDebianPackages(commands: Record<string, string>): Promise<void> {
  const missing: string[] = [];
  for (const [command, pkg] of Object.entries(commands)) {
    if (!(await which(command)) && !missing.includes(pkg)) missing.push(pkg);
  }
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0)
    throw new Error(`missing packages: ${missing.join(" ")} (run: sudo apt-get install -y ${missing.join(" ")})`);
  const start = performance.now();
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (!aptUpdated) {
    const update = await run("apt-get", ["update", "-qq"], { env });
    if (update.code !== 0) throw new Error(`apt-get update failed:\n${update.stderr.trim()}`);
    aptUpdated = true;
  }
  const install = await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env });
  if (install.code !== 0) throw new Error(`apt-get install ${missing.join(" ")} failed:\n${install.stderr.trim()}`);
  console.log(`installed ${missing.join(", ")} (${seconds(start)})`);
}

export interface EngineStatus {
  /** True when this call started the daemon (it keeps running afterwards). */
  started: boolean;
  serverVersion: string;
}

async function serverVersion(): Promise<string> {
  const info = await run("docker", ["info", "--format", "{{.ServerVersion}}"], { timeoutMs: 15_000 });
  return info.stdout.trim();
}

export async function ensureEngine(timeoutMs = 90_000): Promise<EngineStatus> {
  if (await engineRunning()) return { started: false, serverVersion: await serverVersion() };
  await ensureDebianPackages({ dockerd: "docker.io", docker: "docker.io" });
  const start = performance.now();
  if (existsSync("/run/systemd/system")) {
    // A normal host: let its service manager own the daemon.
    await run("systemctl", ["start", "docker"]);
  } else {
    const log = openSync(DOCKERD_LOG, "a");
    const daemon = spawn("dockerd", ["--bridge=none", "--iptables=false"], {
      detached: true,
      stdio: ["ignore", log, log],
    });
    daemon.unref();
  }
  const deadline = Date.now() + timeoutMs;
  while (!(await engineRunning())) {
    if (Date.now() > deadline)
      throw new Error(`the Docker engine did not come up within ${timeoutMs / 1000} s (log: ${DOCKERD_LOG})`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const version = await serverVersion();
  console.log(`started dockerd ${version} (${seconds(start)}, log: ${DOCKERD_LOG})`);
  return { started: true, serverVersion: version };
}
