// Where the checkout is, defined once: every path a test or helper builds into the repository (sources,
// fixtures, scripts, node_modules/.bin) starts here, whichever runner and working directory run it.
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
/** The project's own Bun (node_modules/.bin), not whichever one is first on PATH. */
export const BUN = join(REPO_ROOT, "node_modules", ".bin", "bun");
/** The service's entry point: `bun src/main.ts <command>`. */
export const MAIN = join(REPO_ROOT, "src", "main.ts");
