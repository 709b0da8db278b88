// Loaded before the test files by both runners (bunfig.toml preload, vitest setupFiles): a test during
// which pg warns that something "is deprecated and will be removed in pg@9.0" fails. pg@8 still queues
// a query sent while the connection runs another (and warns once per process); pg@9 will not, so such a
// flow must fail here first. Process warnings are emitted on a later tick, hence the check after each
// test and once more after the file.
import { afterAll, afterEach } from "vitest";

const PG_DEPRECATION = /deprecated and will be removed in pg@9/;
let seen: string[] = [];

process.on("warning", (warning) => {
  if (PG_DEPRECATION.test(warning.message)) seen.push(`${warning.name}: ${warning.message}`);
});

function failOnPgDeprecations(): void {
  const found = seen;
  seen = [];
  if (found.length) throw new Error(`pg warned during this test or a hook before it:\n${found.join("\n")}`);
}

afterEach(failOnPgDeprecations);
afterAll(async () => {
  await new Promise((r) => setImmediate(r));
  failOnPgDeprecations();
});
