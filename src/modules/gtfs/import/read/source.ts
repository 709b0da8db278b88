// Where a feed's files come from: a .zip, a folder of .txt files, or an http(s) URL (downloaded as a
// stream to a temporary file, then read as a zip). Files are opened by name, in whatever order the
// importer needs, and read as byte chunks so nothing holds a whole stop_times.txt in memory as text.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Inflate } from "fflate";

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
  return openZipFeed(location, await readFile(location));
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

interface ZipEntry {
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  depth: number;
}

/** Reads the zip's central directory; entry data is inflated lazily, file by file, in chunks. */
export function openZipFeed(description: string, zip: Uint8Array, cleanup?: () => Promise<void>): FeedSource {
  const entries = readCentralDirectory(zip, description);
  return {
    description,
    files: new Set(entries.keys()),
    size: (name) => entries.get(name)?.size,
    open: (name) => {
      const entry = entries.get(name);
      if (!entry) throw new FeedSourceError(`${name} is not in ${description}`);
      return inflateEntry(zip, entry, name);
    },
    close: async () => {
      await cleanup?.();
    },
  };
}

function readCentralDirectory(zip: Uint8Array, description: string): Map<string, ZipEntry> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65_535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new FeedSourceError(`${description} is not a zip archive`);
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const decoder = new TextDecoder();
  const entries = new Map<string, ZipEntry>();
  for (let n = 0; n < count; n++) {
    if (p + 46 > zip.length || view.getUint32(p, true) !== 0x02014b50)
      throw new FeedSourceError(`${description}: corrupt zip central directory`);
    const method = view.getUint16(p + 10, true);
    const compressedSize = view.getUint32(p + 20, true);
    const size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const localHeaderOffset = view.getUint32(p + 42, true);
    const path = decoder.decode(zip.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (path.endsWith("/") || path.startsWith("__MACOSX/")) continue;
    const name = basename(path);
    if (!name.toLowerCase().endsWith(".txt")) continue;
    const depth = path.split("/").length;
    const prev = entries.get(name);
    // Some publishers zip a folder: accept files one level down, the shallowest copy wins.
    if (!prev || depth < prev.depth) entries.set(name, { method, compressedSize, size, localHeaderOffset, depth });
  }
  return entries;
}

async function* inflateEntry(zip: Uint8Array, entry: ZipEntry, name: string): AsyncGenerator<Uint8Array> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const h = entry.localHeaderOffset;
  if (view.getUint32(h, true) !== 0x04034b50) throw new FeedSourceError(`${name}: corrupt zip entry`);
  const start = h + 30 + view.getUint16(h + 26, true) + view.getUint16(h + 28, true);
  const data = zip.subarray(start, start + entry.compressedSize);
  const slice = 1 << 18;
  if (entry.method === 0) {
    for (let i = 0; i < data.length; i += slice) yield data.subarray(i, i + slice);
    return;
  }
  if (entry.method !== 8) throw new FeedSourceError(`${name}: unsupported zip compression method ${entry.method}`);
  let pending: Uint8Array[] = [];
  const inflate = new Inflate((chunk) => {
    pending.push(chunk);
  });
  for (let i = 0; i < data.length; i += slice) {
    inflate.push(data.subarray(i, i + slice), i + slice >= data.length);
    if (pending.length) {
      const out = pending;
      pending = [];
      yield* out;
    }
  }
  if (data.length === 0) inflate.push(new Uint8Array(0), true);
  yield* pending;
}

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
    return openZipFeed(url, await readFile(file), cleanup);
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
