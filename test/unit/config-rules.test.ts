// The config loader's rules one by one (test/unit/config.test.ts covers the everyday paths): each case
// is built so that one rule alone decides it, which is what the mutation run (npm run test:mutation)
// checks.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load";

const dir = mkdtempSync(join(tmpdir(), "tapi-config-rules-"));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const empty = file("empty.yaml", "");

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("api.port", () => {
  it("takes 0 for any free port (the `listening` log line names it) and refuses negatives", () => {
    expect(loadConfig({ env: { PORT: "0" }, file: empty }).api.port).toBe(0);
    expect(loadConfig({ env: {}, file: file("port0.yaml", "api:\n  port: 0\n") }).api.port).toBe(0);
    expect(errorOf(() => loadConfig({ env: {}, file: file("neg.yaml", "api:\n  port: -1\n") })).key).toBe("api.port");
  });
});
