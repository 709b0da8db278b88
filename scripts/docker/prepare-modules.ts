// Runs inside the image build, after `bun install --production` in /app:
// 1. Checks that every installed package is the exact version package-lock.json records. The lockfile
//    is npm's; Bun reads it by migrating it in memory, and its --frozen-lockfile does not notice a
//    package.json that drifted from it, so this check is what makes the image's dependencies frozen.
// 2. Removes what production never loads (source maps, type declarations, docs, `typescript`), so the
//    image's own layers stay small.
// Usage: bun scripts/docker/prepare-modules.ts [dir]   (dir defaults to the current directory)
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const root = process.argv[2] ?? process.cwd();
const modules = join(root, "node_modules");

// Packages production never loads, removed with whatever only they depend on:
// - typescript: needed only by @elysiajs/openapi's optional `fromTypes` (type generation at
//   development time), which the service does not use: a 23 MB peer dependency;
// - protobufjs-cli: gtfs-realtime-bindings lists its code generator (pbjs/pbts, with jsdoc and a
//   JavaScript parser, ~20 MB) as a dependency; the generated bindings load only protobufjs;
// - @types/bun: elysia lists Bun's type declarations as a dependency; with them goes bun-types, whose
//   docs alone are 7.8 MB.
const UNUSED_IN_PRODUCTION = ["typescript", "protobufjs-cli", "@types/bun"];
// Paths packages publish that nothing loads: bintrees (prom-client's) ships its benchmarks' 100k-line
// data files, 2.3 MB; swagger-ui-dist ships Swagger UI in four builds, and the docs page
// (src/http/openapi/docs-page.ts) serves only swagger-ui-bundle.js (index.js still loads: it needs the
// bundle and the standalone preset), 2.6 MB.
const UNUSED_PATHS = [
  "bintrees/test",
  "swagger-ui-dist/swagger-ui-es-bundle.js",
  "swagger-ui-dist/swagger-ui-es-bundle-core.js",
  "swagger-ui-dist/swagger-ui.js",
];
const STRIPPED_FILE = /(\.map|\.d\.ts|\.d\.mts|\.d\.cts|\.tsbuildinfo|\.md|\.markdown)$/i;

interface LockPackage {
  version?: string;
  name?: string;
  dev?: boolean;
  link?: boolean;
}

function lockedVersions(): Set<string> {
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
    packages?: Record<string, LockPackage>;
  };
  const locked = new Set<string>();
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (!path || !entry.version) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
    locked.add(`${name}@${entry.version}`);
  }
  return locked;
}

/** Every package directory under node_modules, nested ones included. */
function installedPackages(dir: string, found: { dir: string; name: string; version: string }[] = []) {
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith(".")) continue;
    const path = join(dir, entry);
    if (entry.startsWith("@")) {
      for (const scoped of readdirSync(path)) visit(join(path, scoped));
    } else visit(path);
  }
  return found;

  function visit(pkgDir: string) {
    if (lstatSync(pkgDir).isSymbolicLink()) return;
    const manifest = join(pkgDir, "package.json");
    if (existsSync(manifest)) {
      const { name, version } = JSON.parse(readFileSync(manifest, "utf8")) as { name: string; version: string };
      found.push({ dir: pkgDir, name, version });
    }
    installedPackages(join(pkgDir, "node_modules"), found);
  }
}

function sizeOf(path: string): number {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0);
}

function strip(dir: string): number {
  let removed = 0;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const stat = lstatSync(path);
    if (stat.isDirectory()) removed += strip(path);
    else if (STRIPPED_FILE.test(entry) && !/^license/i.test(entry)) {
      removed += statSync(path).size;
      rmSync(path);
    }
  }
  return removed;
}

const locked = lockedVersions();
const installed = installedPackages(modules);
const drifted = installed.filter((p) => !locked.has(`${p.name}@${p.version}`));
if (drifted.length > 0) {
  console.error(
    `node_modules differs from package-lock.json (run \`npm install\` and commit package-lock.json):\n` +
      drifted.map((p) => `  ${p.name}@${p.version} is not in the lockfile`).join("\n"),
  );
  process.exit(1);
}
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  dependencies?: Record<string, string>;
};
const missing = Object.keys(manifest.dependencies ?? {}).filter((name) => !existsSync(join(modules, name)));
if (missing.length > 0) {
  console.error(`production dependencies not installed: ${missing.join(", ")}`);
  process.exit(1);
}

/**
 * Top-level packages that production can load: the manifest's dependencies and, transitively, theirs
 * (dependencies, optional and peer), through nested node_modules too, never through UNUSED_IN_PRODUCTION.
 */
function reachableFrom(names: string[]): Set<string> {
  const reached = new Set<string>();
  const walk = (pkgDir: string) => {
    const manifestPath = join(pkgDir, "package.json");
    if (!existsSync(manifestPath)) return;
    const m = JSON.parse(readFileSync(manifestPath, "utf8")) as Record<string, Record<string, string> | undefined>;
    for (const dep of Object.keys({ ...m.dependencies, ...m.optionalDependencies, ...m.peerDependencies })) {
      if (UNUSED_IN_PRODUCTION.includes(dep)) continue;
      if (existsSync(join(pkgDir, "node_modules", dep))) walk(join(pkgDir, "node_modules", dep));
      else visitTop(dep);
    }
  };
  const visitTop = (name: string) => {
    if (reached.has(name) || !existsSync(join(modules, name))) return;
    reached.add(name);
    walk(join(modules, name));
  };
  for (const name of names) visitTop(name);
  return reached;
}

const before = sizeOf(modules);
for (const name of UNUSED_IN_PRODUCTION) rmSync(join(modules, name), { recursive: true, force: true });
const reachable = reachableFrom(Object.keys(manifest.dependencies ?? {}));
const unreachable = installed
  .filter((p) => p.dir === join(modules, p.name) && !reachable.has(p.name))
  .map((p) => p.name);
for (const name of unreachable) rmSync(join(modules, name), { recursive: true, force: true });
if (unreachable.length)
  console.log(`removed ${unreachable.length} packages only the unused ones need: ${unreachable.join(", ")}`);
rmSync(join(modules, ".cache"), { recursive: true, force: true });
for (const path of UNUSED_PATHS) rmSync(join(modules, path), { recursive: true, force: true });
strip(modules);
const after = sizeOf(modules);
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
console.log(
  `node_modules: ${installed.length} packages match package-lock.json; ${mb(before)} → ${mb(after)} after pruning`,
);
