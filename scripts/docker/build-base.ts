// `npm run image:base [-- --force]`: builds the local Bun base image (Debian rootfs via mmdebstrap + the
// Bun binary from node_modules + the host CA bundle) for offline image builds; reused when present.
import { buildBaseImage } from "./lib/base-image";
import { ensureEngine } from "./lib/engine";

try {
  await ensureEngine();
  const base = await buildBaseImage({ force: process.argv.includes("--force") });
  console.log(base.tag);
} catch (err) {
  console.error(`base image: ${(err as Error).message}`);
  process.exit(1);
}
