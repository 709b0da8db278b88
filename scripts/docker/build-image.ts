// `npm run image:build [-- options]`: builds transportation-api:<version> and :latest.
//   --version <v>          image version (default: APP_VERSION, the exact v* git tag, package.json, or
//                          0.0.0-dev.<commit>)
//   --base <image>         base image to build on (default: the Dockerfile's pinned official Bun image
//                          when present or pullable, else the local one from `npm run image:base`)
//   --offline | --online   force the local base / require the official one
//   --no-latest            do not move :latest
//   --no-cache             rebuild every layer
//   --metadata-file <f>    write what was built (tags, version, commit, sizes) as JSON
import { writeFileSync } from "node:fs";
import { ensureEngine } from "./lib/engine";
import { buildImage } from "./lib/image";

const args = process.argv.slice(2);
const value = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);

try {
  await ensureEngine();
  const built = await buildImage({
    version: value("--version"),
    base: value("--base"),
    mode: args.includes("--offline") ? "offline" : args.includes("--online") ? "online" : "auto",
    latest: !args.includes("--no-latest"),
    noCache: args.includes("--no-cache"),
  });
  const file = value("--metadata-file");
  if (file) writeFileSync(file, `${JSON.stringify(built, null, 2)}\n`);
} catch (err) {
  console.error(`image build: ${(err as Error).message}`);
  process.exit(1);
}
