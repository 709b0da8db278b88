// The image's HEALTHCHECK (no curl in the image): GET http://<host>:$PORT<path> and exit 0 on a 2xx.
// Usage: bun scripts/docker/healthcheck.ts [/health|/ready]
import process from "node:process";

const path = process.argv[2] ?? "/health";
const bound = process.env.HOST;
// A wildcard bind answers on loopback; a specific address is asked directly.
const host = !bound || bound === "0.0.0.0" || bound === "::" ? "127.0.0.1" : bound;
const port = process.env.PORT || "8000";

try {
  const response = await fetch(`http://${host.includes(":") ? `[${host}]` : host}:${port}${path}`, {
    signal: AbortSignal.timeout(4000),
  });
  if (!response.ok) console.error(`${path}: HTTP ${response.status} ${await response.text()}`);
  process.exit(response.ok ? 0 : 1);
} catch (err) {
  console.error(`${path}: ${(err as Error).message}`);
  process.exit(1);
}
