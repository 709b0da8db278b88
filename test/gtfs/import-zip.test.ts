// Zips through the CLI, as an operator imports them: a large archive is read from its file in bounded
// memory (the child process reports its own peak), and a broken one fails in one line that names the
// archive and the file, leaving the served feed as it was.

import { execFileSync, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateFeed, SIZES } from "../../scripts/gtfs/generate";
import { childEnv } from "../support/app-server";
import { BUN, MAIN, REPO_ROOT } from "../support/repo";
import { EDGE, SLOW, suiteGtfsEnv } from "./helpers";

const REPORT_MAX_RSS = join(REPO_ROOT, "test/support/report-max-rss.ts");

interface Imported {
  code: number | null;
  stdout: string;
  /** stderr without the peak memory line. */
  stderr: string;
  maxRssBytes: number;
}

describe("GTFS import of zip archives (the CLI)", () => {
  const env = suiteGtfsEnv([EDGE]);
  let dir: string;
  let feed: string;

  const importZip = async (zip: string): Promise<Imported> => {
    const child = spawn(BUN, ["--preload", REPORT_MAX_RSS, MAIN, "import", zip], {
      cwd: REPO_ROOT,
      env: childEnv({ DATABASE_URL: env.db!.url, LOG_LEVEL: "warn" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    const code = await new Promise<number | null>((r) => child.once("close", r));
    const peak = /^max-rss-kib (\d+)\n/m.exec(stderr);
    if (!peak) throw new Error(`no peak memory reported:\n${stderr}`);
    return { code, stdout, stderr: stderr.replace(peak[0], ""), maxRssBytes: Number(peak[1]) * 1024 };
  };
  /** Info-ZIP's zip of the feed folder's files, stored (-0) so that the archive is as large as they are. */
  const zipFeed = (path: string, options: string[] = ["-0"]) => {
    execFileSync("sh", ["-c", `zip -q -X ${options.join(" ")} "${path}" *.txt`], { cwd: feed });
    return path;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gtfs-zips-"));
    feed = join(dir, "feed");
    await generateFeed(feed, SIZES.small!);
  }, SLOW);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    "imports a 256 MB archive with a peak memory far below its size",
    async () => {
      const baseline = await importZip(zipFeed(join(dir, "small.zip")));
      expect(baseline.code).toBe(0);
      const rows = /^stop_times\.txt +([\d,]+)/m.exec(baseline.stdout)?.[1];
      expect(rows).toBeDefined();

      // The same feed, each stop time carrying a long column that GTFS does not define (read, then
      // ignored), 256 MiB in all: the importer reads all of stop_times.txt, and stores what it did before.
      const stopTimes = join(feed, "stop_times.txt");
      const original = readFileSync(stopTimes, "utf8");
      const [header, ...lines] = original.trimEnd().split(/\r?\n/);
      const note = "n".repeat(Math.ceil((256 << 20) / lines.length));
      const out = createWriteStream(stopTimes);
      out.write(`${header},note\n`);
      for (const line of lines)
        if (!out.write(`${line},${note}\n`)) await new Promise((r) => out.once("drain", () => r(null)));
      await new Promise((r) => out.end(() => r(null)));
      const big = zipFeed(join(dir, "big.zip"));
      writeFileSync(stopTimes, original);
      const size = statSync(big).size;
      expect(size).toBeGreaterThan(256 << 20);

      const imported = await importZip(big);
      expect(imported.stderr).not.toContain("error");
      expect(imported.code).toBe(0);
      expect(/^stop_times\.txt +([\d,]+)/m.exec(imported.stdout)?.[1]).toBe(rows);
      const growth = imported.maxRssBytes - baseline.maxRssBytes;
      process.stderr.write(
        `peak memory: ${(baseline.maxRssBytes / 2 ** 20).toFixed(0)} MiB importing ${(statSync(join(dir, "small.zip")).size / 2 ** 20).toFixed(1)} MiB, ${(imported.maxRssBytes / 2 ** 20).toFixed(0)} MiB importing ${(size / 2 ** 20).toFixed(0)} MiB\n`,
      );
      // Reading the archive into memory, as the importer once did, alone takes its size (the import then
      // peaked about 3 times as high); streamed, the import peaks some 30 MiB above a tiny one's.
      expect(growth).toBeLessThan(size / 3);
    },
    SLOW,
  );

  it(
    "a corrupt archive fails in one line naming it and the file, and the served feed stays",
    async () => {
      const served = (await env.get("/v1/feeds")).body;
      const path = zipFeed(join(dir, "corrupt.zip"), []);
      const archive = readFileSync(path);
      const header = archive.indexOf(Buffer.from("stop_times.txt")) - 30;
      const data = header + 30 + archive.readUInt16LE(header + 26) + archive.readUInt16LE(header + 28);
      archive.fill(0xa5, data + 1000, data + 1100);
      writeFileSync(path, archive);
      const result = await importZip(path);
      expect(result.code).toBe(1);
      // Progress lines come first on stderr; the error is one line, the last.
      const errors = result.stderr.split("\n").filter((l) => l.startsWith("error"));
      expect(errors).toEqual([result.stderr.trimEnd().split("\n").at(-1)]);
      expect(errors[0]).toMatch(
        new RegExp(`^error: ${path}: stop_times\\.txt cannot be read \\(.+\\); the archive is corrupt or truncated$`),
      );
      expect((await env.get("/v1/feeds")).body).toEqual(served);
    },
    SLOW,
  );
});
