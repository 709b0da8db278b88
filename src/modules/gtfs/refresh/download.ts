// Downloads a static feed for `import --refresh`: a conditional GET (If-None-Match /
// If-Modified-Since from the last refresh), the agency's headers, the body streamed to a temporary
// file while it is hashed (so an unchanged feed is recognised even from a server without validators),
// an idle and a total deadline. Errors never show the URL's query string (agencies put keys there).
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeUrl } from "../../realtime/fetch-source";

export interface Validators {
  etag?: string;
  lastModified?: string;
}

export type Download =
  | { kind: "not-modified" }
  | {
      kind: "downloaded";
      file: string;
      sha256: string;
      bytes: number;
      validators: Validators;
      /** Deletes the temporary file. */
      remove(): Promise<void>;
    };

export interface DownloadOptions {
  headers?: Record<string, string>;
  validators?: Validators;
  /** Abort when no bytes arrive for this long (also bounds connecting). Default 30 s. */
  idleTimeoutMs?: number;
  /** Abort when the whole download takes longer. Default 10 min. */
  totalTimeoutMs?: number;
}

export class DownloadError extends Error {
  override name = "DownloadError";
}

export async function downloadFeed(url: string, options: DownloadOptions = {}): Promise<Download> {
  const idle = options.idleTimeoutMs ?? 30_000;
  const total = options.totalTimeoutMs ?? 600_000;
  const where = describeUrl(url);
  const headers: Record<string, string> = { ...options.headers };
  if (options.validators?.etag) headers["if-none-match"] = options.validators.etag;
  if (options.validators?.lastModified) headers["if-modified-since"] = options.validators.lastModified;
  const controller = new AbortController();
  let reason = "";
  const abort = (why: string) => {
    reason = why;
    controller.abort();
  };
  const totalTimer = setTimeout(() => abort(`took longer than ${total / 1000} s`), total);
  let idleTimer = setTimeout(() => abort(`no data for ${idle / 1000} s`), idle);
  const dir = await mkdtemp(join(tmpdir(), "gtfs-refresh-"));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const res = await fetch(url, { headers, signal: controller.signal, redirect: "follow" });
    if (res.status === 304) {
      await res.body?.cancel().catch(() => {});
      await remove();
      return { kind: "not-modified" };
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw new DownloadError(
        `download of ${where} failed: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`,
      );
    }
    const announced = Number(res.headers.get("content-length")) || undefined;
    const file = join(dir, "feed.zip");
    const out = createWriteStream(file);
    const hash = createHash("sha256");
    let bytes = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => abort(`no data for ${idle / 1000} s`), idle);
      bytes += value.byteLength;
      hash.update(value);
      if (!out.write(value)) await new Promise<void>((r) => out.once("drain", () => r()));
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (announced !== undefined && bytes !== announced)
      throw new DownloadError(`download of ${where} truncated: got ${bytes} of ${announced} bytes`);
    return {
      kind: "downloaded",
      file,
      sha256: hash.digest("hex"),
      bytes,
      validators: {
        etag: res.headers.get("etag") ?? undefined,
        lastModified: res.headers.get("last-modified") ?? undefined,
      },
      remove,
    };
  } catch (err) {
    await remove();
    if (controller.signal.aborted) throw new DownloadError(`download of ${where} aborted: ${reason}`);
    if (err instanceof DownloadError) throw err;
    const e = err as { cause?: { code?: string }; message?: string };
    throw new DownloadError(`download of ${where} failed: ${e.cause?.code ?? e.message ?? String(err)}`);
  } finally {
    clearTimeout(totalTimer);
    clearTimeout(idleTimer);
  }
}
