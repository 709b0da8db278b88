// What the operations docs tell people to type must not leak secrets: no secret value on a command line
// (visible in `ps` and kept in the shell history) and no URL with a password in a shell block.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { allDocBlocks } from "../support/docs";
import { REPO_ROOT } from "../support/repo";

const DOCS = ["docs/operations.md", "docs/docker.md", "docs/pipeline.md", "README.md"];

describe("documented commands keep secrets off the command line", () => {
  for (const file of DOCS)
    it(`${file}: no --from-literal, no password in a URL or assignment in a shell block`, () => {
      expect(readFileSync(join(REPO_ROOT, file), "utf8")).not.toContain("--from-literal");
      const shell = allDocBlocks(file).filter((b) => ["bash", "sh", "shell", "console", ""].includes(b.lang));
      for (const block of shell) {
        for (const line of block.text.split("\n")) {
          const code = line.replace(/\s+#.*$/, ""); // comments may describe a URL's shape
          expect(code, `${file}: ${line}`).not.toMatch(/[a-z]+:\/\/[^\s/@:]+:[^\s@]+@/); // user:password@host
          expect(code, `${file}: ${line}`).not.toMatch(
            /\b(DATABASE_URL|REDIS_URL|API_KEY|API_SECRET|PGPASSWORD)=[^\s$(]/,
          );
        }
      }
    });
});
