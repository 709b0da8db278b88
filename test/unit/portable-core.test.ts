// The core must stay runtime-portable: only the entrypoint may use Bun's own APIs.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/repo";

const SRC = join(REPO_ROOT, "src");
const ENTRYPOINTS = new Set(["main.ts"]);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("runtime portability", () => {
  it("uses Bun-only APIs in the entrypoint only", () => {
    const offenders = files(SRC)
      .filter((f) => !ENTRYPOINTS.has(relative(SRC, f)))
      .filter((f) => /\bBun\.|from ["']bun["']|from ["']bun:/.test(readFileSync(f, "utf8")))
      .map((f) => relative(SRC, f));
    expect(offenders).toEqual([]);
  });
});
