// Reaching the Service from the runner when it has no public URL: `kubectl port-forward` to a
// random local port. Started per gate run, because a forward is bound to one pod and a rollout
// replaces the pods.
import { spawn } from "node:child_process";
import type { Kubectl } from "./kubectl";

export interface PortForward {
  url: string;
  stop(): Promise<void>;
}

export function startPortForward(kubectl: Kubectl, service: string, remotePort: number): Promise<PortForward> {
  const args = kubectl.scoped(["port-forward", `service/${service}`, `:${remotePort}`, "--address", "127.0.0.1"]);
  const child = spawn(process.env.KUBECTL || "kubectl", args, { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`kubectl port-forward did not start within 30 s: ${output.trim()}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      // kubectl prints: Forwarding from 127.0.0.1:43127 -> 8000
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${m[1]}`, stop });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`kubectl port-forward exited with ${code}: ${output.trim()}`));
    });
  });
}
