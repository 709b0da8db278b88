// `npm run docker:engine`: makes sure a Docker engine runs here (installs Debian's docker.io and starts
// dockerd when needed), plus docker-compose for validating the compose file.
import { ensureDebianPackages, ensureEngine } from "./lib/engine";

try {
  const status = await ensureEngine();
  await ensureDebianPackages({ "docker-compose": "docker-compose" });
  console.log(`docker engine ${status.serverVersion}: ${status.started ? "started" : "already running"}`);
} catch (err) {
  console.error(`docker engine: ${(err as Error).message}`);
  process.exit(1);
}
