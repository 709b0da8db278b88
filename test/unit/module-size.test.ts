// Small modules (issue 17): no file in src/ over 400 lines. A file that grows past it has more than one
// job; split it where the seam names itself.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/repo";

const SRC = join(REPO_ROOT, "src");
const MAX_LINES = 400;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("module size", () => {
  it(`keeps every file in src/ within ${MAX_LINES} lines`, () => {
    const lines = (f: string) => readFileSync(f, "utf8").split("\n").length - 1;
    const over = files(SRC)
      .filter((f) => lines(f) > MAX_LINES)
      .map((f) => `${relative(SRC, f)}: ${lines(f)} lines`);
    expect(over).toEqual([]);
  });
});
