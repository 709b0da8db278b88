import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CsvRecord, collecting, readCsvInto } from "../../src/modules/gtfs/import/read/csv";
import { type FeedSource, openFeed } from "../../src/modules/gtfs/import/read/source";
import { REPO_ROOT } from "../support/repo";

const sampleDir = join(REPO_ROOT, "node_modules/sample-gtfs-feed/gtfs");

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
    const src = await openFeed(join(REPO_ROOT, "node_modules/sample-gtfs-feed/gtfs.zip"));
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

describe("zip archives", () => {
  let dir: string;
  let feed: string;
  let names: string[];
  /** The sample feed zipped by Info-ZIP's `zip` with `options`, as publishers' tools do. */
  const zip = (file: string, options: string[]) => {
    const path = join(dir, file);
    execFileSync("zip", ["-q", "-X", ...options, path, ...names], { cwd: feed });
    return path;
  };
  const failure = async (path: string, name?: string) => {
    try {
      const src = await openFeed(path);
      try {
        if (name) await text(src, name);
      } finally {
        await src.close();
      }
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error(`${path} was read without an error`);
  };
  /** Where an entry's data starts, from its local header (a stored entry's data is its text). */
  const dataOffset = (archive: Buffer, name: string) => {
    const header = archive.indexOf(Buffer.from(name)) - 30;
    expect(archive.readUInt32LE(header)).toBe(0x04034b50);
    return header + 30 + archive.readUInt16LE(header + 26) + archive.readUInt16LE(header + 28);
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "gtfs-zip-"));
    feed = join(dir, "feed");
    cpSync(sampleDir, feed, { recursive: true });
    names = readdirSync(feed).filter((n) => n.endsWith(".txt"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a Zip64 archive (zip -fz) byte-for-byte like its folder", async () => {
    const path = zip("zip64.zip", ["-fz"]);
    // Zip64: the end of central directory record is preceded by its Zip64 counterpart and locator.
    expect(readFileSync(path).includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
    const src = await openFeed(path);
    try {
      expect([...src.files].sort()).toEqual([...names].sort());
      for (const name of names) expect(await text(src, name)).toBe(readFileSync(join(feed, name), "utf8"));
      expect(src.size("stop_times.txt")).toBe(readFileSync(join(feed, "stop_times.txt")).length);
    } finally {
      await src.close();
    }
  });

  it("refuses an encrypted file, naming it", async () => {
    const path = zip("encrypted.zip", ["-P", "secret"]);
    expect(await failure(path)).toMatch(/encrypted\.zip: \w+\.txt is encrypted \(a feed's files must not be\)$/);
  });

  it("refuses an entry named to land outside the archive's folder (zip slip), naming it", async () => {
    const agency = readFileSync(join(feed, "agency.txt"));
    for (const evil of ["../stops.txt", "feed/../../stops.txt", "/etc/stops.txt"]) {
      const path = join(dir, "slip.zip");
      writeFileSync(path, zipSync({ "agency.txt": agency, [evil]: agency }));
      expect(await failure(path)).toBe(
        `${path}: refused the entry named ${JSON.stringify(evil)} (a path out of the archive)`,
      );
    }
  });

  it("names the archive and the file when a file's data is corrupt, stored or deflated", async () => {
    const stored = readFileSync(zip("stored.zip", ["-0"]));
    const at = dataOffset(stored, "stop_times.txt");
    expect(stored.subarray(at, at + 8).toString()).toBe(readFileSync(join(feed, "stop_times.txt"), "utf8").slice(0, 8));
    stored.writeUInt8(stored.readUInt8(at + 100) ^ 0x01, at + 100); // one bit: only the CRC-32 tells
    writeFileSync(join(dir, "stored.zip"), stored);
    expect(await failure(join(dir, "stored.zip"), "stop_times.txt")).toBe(
      `${join(dir, "stored.zip")}: stop_times.txt cannot be read (its CRC-32 does not match its data); the archive is corrupt or truncated`,
    );

    const deflated = readFileSync(zip("deflated.zip", []));
    deflated.fill(0xa5, dataOffset(deflated, "stop_times.txt") + 20, dataOffset(deflated, "stop_times.txt") + 60);
    writeFileSync(join(dir, "deflated.zip"), deflated);
    const message = await failure(join(dir, "deflated.zip"), "stop_times.txt");
    expect(message).toMatch(
      /deflated\.zip: stop_times\.txt cannot be read \(.+\); the archive is corrupt or truncated$/,
    );
    expect(message).not.toContain("\n");
  });

  it("says what is wrong with a truncated archive or a corrupt directory, in one line", async () => {
    const whole = readFileSync(zip("whole.zip", []));
    const truncated = join(dir, "truncated.zip");
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    expect(await failure(truncated)).toMatch(/^\S+truncated\.zip is not a zip archive, or is truncated \([^\n]+\)$/);

    const eocd = whole.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    const directory = whole.readUInt32LE(eocd + 16);
    const corrupt = Buffer.from(whole);
    corrupt.writeUInt32LE(0, directory); // the first central directory header's signature
    writeFileSync(join(dir, "directory.zip"), corrupt);
    expect(await failure(join(dir, "directory.zip"))).toMatch(
      /^\S+directory\.zip is not a readable zip archive \([^\n]*central directory[^\n]*\)$/,
    );
  });
});
