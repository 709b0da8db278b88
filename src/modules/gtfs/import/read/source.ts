// Where a feed's files come from: a .zip, a folder of .txt files, or an http(s) URL (downloaded as a
// stream to a temporary file, then read as a zip). Files are opened by name, in whatever order the
// importer needs, and read as byte chunks so nothing holds a whole stop_times.txt in memory as text.
// A zip is read from its file, never loaded whole: yauzl reads its directory (Zip64 too) and hands each
// entry's compressed bytes, which node:zlib inflates in 256 KB chunks (yauzl's own inflate emits 16 KB
// ones, and the CSV reader's per-chunk cost made reading stop_times ~30% slower with them). yauzl checks
// no CRC-32, and so no longer the size it would check: both are checked here, so a corrupt entry fails
// the import instead of loading damaged rows.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Readable } from "node:stream";
import { crc32, createInflateRaw } from "node:zlib";
import yauzl, { type Entry, type ZipFile } from "yauzl";

export interface FeedSource {
  /** Human-readable origin, for logs and the feed catalogue. */
  readonly description: string;
  /** Base names of the files present ("stops.txt", …). */
  readonly files: ReadonlySet<string>;
  /** Total bytes of the file if known (for progress). */
  size(name: string): number | undefined;
  open(name: string): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

export class FeedSourceError extends Error {
  override name = "FeedSourceError";
}

export interface OpenFeedOptions {
  /** HTTP: abort when no bytes arrive for this long (also bounds connecting). Default 30 s. */
  idleTimeoutMs?: number;
  /** HTTP: abort when the whole download takes longer. Default 10 min. */
  totalTimeoutMs?: number;
  /** HTTP: progress callback with bytes so far and the announced length. */
  onDownload?: (bytes: number, total: number | undefined) => void;
}

export async function openFeed(location: string, options: OpenFeedOptions = {}): Promise<FeedSource> {
  if (/^https?:\/\//i.test(location)) return openHttpFeed(location, options);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(location);
  } catch {
    throw new FeedSourceError(`feed not found: ${location}`);
  }
  if (info.isDirectory()) return openFolderFeed(location);
  return openZipFeed(location);
}

async function openFolderFeed(dir: string): Promise<FeedSource> {
  const names = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith(".txt"));
  const sizes = new Map<string, number>();
  for (const n of names) sizes.set(n, (await stat(join(dir, n))).size);
  return {
    description: dir,
    files: new Set(names),
    size: (name) => sizes.get(name),
    open: (name) => createReadStream(join(dir, name), { highWaterMark: 1 << 18 }),
    close: async () => {},
  };
}

/** Inflated output per chunk (see the header). */
const CHUNK = 1 << 18;

/**
 * Reads the zip's directory; entry data is read from the file and inflated lazily, file by file, in
 * chunks. `description` names the archive in errors (the URL of a download).
 */
export async function openZipFeed(
  path: string,
  description = path,
  cleanup?: () => Promise<void>,
): Promise<FeedSource> {
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false });
  } catch (err) {
    await cleanup?.();
    throw new FeedSourceError(`${description} is not a zip archive, or is truncated (${reason(err)})`);
  }
  const entries = new Map<string, { entry: Entry; depth: number }>();
  try {
    for await (const entry of zip.eachEntry()) {
      const path = entry.fileName;
      if (path.endsWith("/") || path.startsWith("__MACOSX/")) continue;
      const name = basename(path);
      if (!name.toLowerCase().endsWith(".txt")) continue;
      const depth = path.split("/").length;
      const prev = entries.get(name);
      // Some publishers zip a folder: accept files one level down, the shallowest copy wins.
      if (!prev || depth < prev.depth) entries.set(name, { entry, depth });
    }
    for (const { entry } of entries.values()) {
      if (entry.isEncrypted())
        throw new FeedSourceError(`${description}: ${entry.fileName} is encrypted (a feed's files must not be)`);
      if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8)
        throw new FeedSourceError(
          `${description}: ${entry.fileName} uses compression method ${entry.compressionMethod}; only stored and deflated files are read (zip it again with plain deflate)`,
        );
    }
  } catch (err) {
    zip.close();
    await cleanup?.();
    if (err instanceof FeedSourceError) throw err;
    // yauzl refuses names that would point outside a folder extracted to ("../x", "/x") for the archive.
    const name = /^(?:invalid relative path|absolute path): (.*)$/.exec(reason(err))?.[1];
    if (name !== undefined)
      throw new FeedSourceError(
        `${description}: refused the entry named ${JSON.stringify(name)} (a path out of the archive)`,
      );
    throw new FeedSourceError(`${description} is not a readable zip archive (${reason(err)})`);
  }
  return {
    description,
    files: new Set(entries.keys()),
    size: (name) => entries.get(name)?.entry.uncompressedSize,
    open: (name) => {
      const found = entries.get(name);
      if (!found) throw new FeedSourceError(`${name} is not in ${description}`);
      return readEntry(zip, found.entry, description);
    },
    close: async () => {
      zip.close();
      await cleanup?.();
    },
  };
}

async function* readEntry(zip: ZipFile, entry: Entry, description: string): AsyncGenerator<Uint8Array> {
  const corrupt = (why: string) =>
    new FeedSourceError(
      `${description}: ${entry.fileName} cannot be read (${why}); the archive is corrupt or truncated`,
    );
  let raw: Readable;
  try {
    raw = await zip.openReadStreamPromise(entry, { decodeFileData: false });
  } catch (err) {
    throw corrupt(reason(err));
  }
  const inflate = entry.compressionMethod === 8 ? createInflateRaw({ chunkSize: CHUNK }) : undefined;
  const data: Readable = inflate ? raw.pipe(inflate) : raw;
  // pipe() does not pass the file's read errors on to the inflater.
  raw.once("error", (err) => inflate?.destroy(err));
  let size = 0;
  let crc = 0;
  try {
    for await (const chunk of data as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > entry.uncompressedSize)
        throw corrupt(`more than the ${entry.uncompressedSize} bytes its header states`);
      crc = crc32(chunk, crc);
      yield chunk;
    }
  } catch (err) {
    throw err instanceof FeedSourceError ? err : corrupt(reason(err));
  } finally {
    // Stopped early (a bad header ends a file's read) or failed: let go of the file's read stream.
    if (inflate) {
      raw.unpipe(inflate);
      inflate.destroy();
    }
    raw.destroy();
  }
  if (size !== entry.uncompressedSize) throw corrupt(`${size} bytes where its header states ${entry.uncompressedSize}`);
  if (crc >>> 0 !== entry.crc32 >>> 0) throw corrupt("its CRC-32 does not match its data");
}

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function openHttpFeed(url: string, options: OpenFeedOptions): Promise<FeedSource> {
  const idle = options.idleTimeoutMs ?? 30_000;
  const total = options.totalTimeoutMs ?? 600_000;
  const dir = await mkdtemp(join(tmpdir(), "gtfs-download-"));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const file = join(dir, "feed.zip");
  const controller = new AbortController();
  let reason = "";
  const abort = (why: string) => {
    reason = why;
    controller.abort();
  };
  const totalTimer = setTimeout(() => abort(`download exceeded ${total} ms`), total);
  let idleTimer = setTimeout(() => abort(`no data for ${idle} ms`), idle);
  try {
    const res = await fetch(url, { signal: controller.signal, redirect: "follow" });
    if (!res.ok || !res.body) throw new FeedSourceError(`download failed: HTTP ${res.status} from ${url}`);
    const announced = Number(res.headers.get("content-length")) || undefined;
    const out = createWriteStream(file);
    let bytes = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => abort(`no data for ${idle} ms`), idle);
      bytes += value.byteLength;
      if (!out.write(value)) await new Promise<void>((r) => out.once("drain", () => r()));
      options.onDownload?.(bytes, announced);
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (announced !== undefined && bytes !== announced)
      throw new FeedSourceError(`download truncated: got ${bytes} of ${announced} bytes from ${url}`);
    return await openZipFeed(file, url, cleanup);
  } catch (err) {
    await cleanup();
    if (controller.signal.aborted) throw new FeedSourceError(`download of ${url} aborted: ${reason}`);
    if (err instanceof FeedSourceError) throw err;
    throw new FeedSourceError(`download of ${url} failed: ${(err as Error).message}`);
  } finally {
    clearTimeout(totalTimer);
    clearTimeout(idleTimer);
  }
}
