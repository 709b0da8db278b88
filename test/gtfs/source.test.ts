import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CsvRecord, collecting, readCsvInto } from "../../src/modules/gtfs/import/read/csv";
import { type FeedSource, openFeed } from "../../src/modules/gtfs/import/read/source";

const sampleDir = join(process.cwd(), "node_modules/sample-gtfs-feed/gtfs");

async function text(source: FeedSource, name: string): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of source.open(name)) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts).toString("utf8");
}

describe("feed sources", () => {
  let dir: string;
  let server: Server;
  let base: string;
  const bigStopTimes = `trip_id,arrival_time,departure_time,stop_id,stop_sequence\n${Array.from(
    { length: 50_000 },
    (_, i) => `t${i},08:00:00,08:00:00,s${i % 97},${i}`,
  ).join("\n")}\n`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gtfs-src-"));
    // A publisher-style zip with the files inside a folder, plus junk entries that must be ignored.
    const zip = zipSync({
      "feed/agency.txt": new TextEncoder().encode("agency_name\nX\n"),
      "feed/stop_times.txt": new TextEncoder().encode(bigStopTimes),
      "__MACOSX/feed/._agency.txt": new Uint8Array([1, 2, 3]),
      "readme.md": new TextEncoder().encode("hi"),
    });
    writeFileSync(join(dir, "feed.zip"), zip);
    server = createServer((req, res) => {
      if (req.url === "/feed.zip") {
        res.writeHead(200, { "content-type": "application/zip", "content-length": String(zip.length) });
        res.end(zip);
      } else if (req.url === "/stall.zip") {
        res.writeHead(200, { "content-length": "1000" });
        res.write(zip.subarray(0, 10)); // then never finishes
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads a folder of .txt files", async () => {
    const src = await openFeed(sampleDir);
    expect(src.files.has("stop_times.txt")).toBe(true);
    expect(await text(src, "agency.txt")).toBe(readFileSync(join(sampleDir, "agency.txt"), "utf8"));
    await src.close();
  });

  it("reads the sample feed's zip byte-for-byte like its folder", async () => {
    const src = await openFeed(join(process.cwd(), "node_modules/sample-gtfs-feed/gtfs.zip"));
    for (const name of ["stops.txt", "shapes.txt", "stop_times.txt"])
      expect(await text(src, name)).toBe(readFileSync(join(sampleDir, name), "utf8"));
    await src.close();
  });

  it("finds files one folder down in a zip and streams a large entry in several chunks", async () => {
    const src = await openFeed(join(dir, "feed.zip"));
    expect([...src.files].sort()).toEqual(["agency.txt", "stop_times.txt"]);
    let chunks = 0;
    const records: CsvRecord[] = [];
    async function* counted() {
      for await (const c of src.open("stop_times.txt")) {
        chunks++;
        yield c;
      }
    }
    for await (const _ of readCsvInto(
      counted(),
      collecting(() => records),
    ));
    const rows = records.length;
    expect(rows).toBe(50_001);
    expect(chunks).toBeGreaterThan(1);
  });

  it("downloads over http and reads the zip", async () => {
    let progress = 0;
    const src = await openFeed(`${base}/feed.zip`, { onDownload: (b) => (progress = b) });
    expect(progress).toBeGreaterThan(0);
    expect(await text(src, "stop_times.txt")).toBe(bigStopTimes);
    await src.close();
  });

  it("fails clearly on HTTP errors and on a stalled download", async () => {
    await expect(openFeed(`${base}/missing.zip`)).rejects.toThrow(/HTTP 404/);
    await expect(openFeed(`${base}/stall.zip`, { idleTimeoutMs: 300 })).rejects.toThrow(/aborted: no data for 300 ms/);
  });

  it("rejects a missing path and a non-zip file", async () => {
    await expect(openFeed(join(dir, "nope"))).rejects.toThrow(/feed not found/);
    writeFileSync(join(dir, "junk.zip"), "not a zip at all, definitely not");
    await expect(openFeed(join(dir, "junk.zip"))).rejects.toThrow(/not a zip archive/);
  });
});
