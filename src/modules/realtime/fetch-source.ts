// One HTTP poll of a feed source: a conditional GET (If-None-Match / If-Modified-Since from the last
// answer's ETag / Last-Modified), one deadline for the whole exchange including the body (a server that
// sends headers and then stalls must not hold the poller), and a size cap. Errors say what went wrong
// without the URL's query string, which often carries an agency's key.

export interface Validators {
  etag?: string;
  lastModified?: string;
}

export type FetchResult =
  | { kind: "modified"; bytes: Uint8Array; validators: Validators }
  | { kind: "not-modified"; validators: Validators };

export interface FetchOptions {
  headers?: Record<string, string>;
  timeoutMs: number;
  validators?: Validators;
  /** Larger bodies are refused (default 256 MiB). */
  maxBytes?: number;
  /** Called as the body arrives (bytes so far, Content-Length when known). */
  onProgress?: (bytes: number, total: number | undefined) => void;
}

export class SourceError extends Error {
  override name = "SourceError";
}

/** The URL without query string and credentials: safe to log. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

export async function fetchSource(url: string, options: FetchOptions): Promise<FetchResult> {
  const maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
  const headers: Record<string, string> = { ...options.headers };
  if (options.validators?.etag) headers["if-none-match"] = options.validators.etag;
  if (options.validators?.lastModified) headers["if-modified-since"] = options.validators.lastModified;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  const seconds = `${(options.timeoutMs / 1000).toFixed(options.timeoutMs < 1000 ? 1 : 0)} s`;
  try {
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: controller.signal, redirect: "follow" });
    } catch (err) {
      if (controller.signal.aborted) throw new SourceError(`no answer within ${seconds}`);
      throw new SourceError(`request failed: ${causeOf(err)}`);
    }
    const validators: Validators = {
      etag: res.headers.get("etag") ?? undefined,
      lastModified: res.headers.get("last-modified") ?? undefined,
    };
    if (res.status === 304) {
      await res.body?.cancel().catch(() => {});
      return { kind: "not-modified", validators: { ...options.validators, ...defined(validators) } };
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new SourceError(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
    }
    const declared = Number(res.headers.get("content-length") ?? Number.NaN);
    const total = Number.isFinite(declared) ? declared : undefined;
    if (total !== undefined && total > maxBytes) throw new SourceError(`body of ${total} bytes exceeds ${maxBytes}`);
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      const reader = res.body?.getReader();
      for (;;) {
        const next = await reader?.read();
        if (!next || next.done) break;
        size += next.value.byteLength;
        if (size > maxBytes) {
          await reader?.cancel().catch(() => {});
          throw new SourceError(`body exceeds ${maxBytes} bytes`);
        }
        chunks.push(next.value);
        options.onProgress?.(size, total);
      }
    } catch (err) {
      if (err instanceof SourceError) throw err;
      if (controller.signal.aborted) throw new SourceError(`body not complete within ${seconds}`);
      throw new SourceError(`reading the body failed: ${causeOf(err)}`);
    }
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    return { kind: "modified", bytes, validators };
  } finally {
    clearTimeout(timer);
  }
}

function defined(v: Validators): Validators {
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined));
}

function causeOf(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string }; code?: string; message?: string };
  return e?.cause?.code ?? e?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}
