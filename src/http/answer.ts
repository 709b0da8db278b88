// Prepared answers: a JSON body encoded to bytes once, with its validator (a weak ETag over those
// bytes) and its caching policy, compressed once per encoding a client asks for, and kept as ready
// Responses that each request gets a clone of. A cache hit then neither re-encodes the text (a 17 kB
// string costs Bun a transcoding per send), nor hashes, nor compresses, nor parses a header init; a
// clone shares the bytes. Revalidation (If-None-Match) and Accept-Encoding are decided per request.
//
// The ETag is computed from the final bytes, so it changes exactly when the answer does: with the feed
// version (the cache key carries it) and with anything merged in later (realtime), and replicas agree
// on it. It is weak because one validator covers every content coding of the same JSON (RFC 9110
// 8.8.1: a weak validator for representations that differ only in their encoding).
import { hash } from "node:crypto";
import { brotliCompress, brotliCompressSync, constants, gzip, gzipSync } from "node:zlib";
import Negotiator from "negotiator";

/** How an answer may be cached and what it is. */
export interface AnswerPolicy {
  /** Cache-Control of the answer (and of its 304). */
  cacheControl: string;
  /** Media type; JSON unless said otherwise. */
  contentType?: string;
  /** Request headers the answer depends on besides Accept-Encoding (e.g. Accept when negotiated). */
  vary?: readonly string[];
}

export interface CompressionOptions {
  /** Bodies smaller than this are sent as they are (a packet or so: compression saves nothing). */
  minBytes: number;
  /** Off: every answer is identity (e.g. behind a proxy that compresses). */
  enabled: boolean;
}

/**
 * Levels chosen from bench:http's figures for a 20 kB board (the run prints them): gzip 6 is half the
 * time of 9 for the same size, brotli 5 is a tenth smaller than 4 and as small as 6–9 for less time,
 * while 11 takes 45 ms for 4 % less. Either is paid once per cached answer, beside a database query.
 */
const GZIP_LEVEL = 6;
export const BROTLI_QUALITY = 5;
/** Bodies above this (static assets) are compressed off the event loop; identity is served meanwhile. */
export const ASYNC_COMPRESSION_BYTES = 256 * 1024;

type Coding = "br" | "gzip" | "identity";
const CODINGS: Coding[] = ["br", "gzip", "identity"];
const PREFERRED = ["br", "gzip"];

/** Accept-Encoding values repeat (a handful of browsers and clients): each is parsed once. */
const codingFor = (() => {
  const known = new Map<string, Coding>();
  return (header: string | null): Coding => {
    if (header === null || header === "") return "identity";
    let coding = known.get(header);
    if (coding === undefined) {
      // negotiator 1.1's server preference for ties (its published types predate the option).
      const negotiate = new Negotiator({ headers: { "accept-encoding": header } }) as unknown as {
        encoding(available: string[], options: { preferred: string[] }): string | undefined;
      };
      const chosen = negotiate.encoding(CODINGS, { preferred: PREFERRED });
      // Nothing acceptable (identity;q=0): identity anyway, as RFC 9110 12.5.3 allows.
      coding = (chosen as Coding | undefined) ?? "identity";
      if (known.size >= 256) known.clear();
      known.set(header, coding);
    }
    return coding;
  };
})();

/** If-None-Match against a weak validator: weak comparison, a list or `*` (RFC 9110 13.1.2). */
export function noneMatch(header: string, etag: string): boolean {
  if (header === etag || header === "*") return true;
  const opaque = etag.slice(2); // without W/
  for (const part of header.split(",")) {
    const tag = part.trim();
    if (tag === "*" || (tag.startsWith("W/") ? tag.slice(2) : tag) === opaque) return true;
  }
  return false;
}

const encoder = new TextEncoder();

export class Answer {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly etag: string;
  readonly #headers: [string, string][];
  readonly #compressible: boolean;
  /** Ready Responses by coding, cloned per request; a 304 beside them. */
  readonly #ready: Partial<Record<Coding, Response>> = {};
  #notModified?: Response;
  #pending?: Partial<Record<Coding, true>>;

  constructor(text: string, policy: AnswerPolicy, compression: CompressionOptions) {
    this.body = encoder.encode(text);
    this.etag = `W/"${hash("sha256", this.body, "base64url").slice(0, 27)}"`;
    this.#compressible = compression.enabled && this.body.length >= compression.minBytes;
    const vary = [...(this.#compressible ? ["Accept-Encoding"] : []), ...(policy.vary ?? [])];
    this.#headers = [
      ["etag", this.etag],
      ["cache-control", policy.cacheControl],
      ...(vary.length ? [["vary", vary.join(", ")] as [string, string]] : []),
      ["x-cache", "hit"],
    ];
    this.#ready.identity = new Response(this.body, {
      headers: [["content-type", policy.contentType ?? "application/json; charset=utf-8"], ...this.#headers],
    });
  }

  /** The answer to `request`: 304 when its If-None-Match holds, else the body in the coding it prefers. */
  serve(request: Request, hit = true): Response {
    const headers = request.headers;
    const ifNoneMatch = headers.get("if-none-match");
    let response: Response;
    if (ifNoneMatch !== null && noneMatch(ifNoneMatch, this.etag)) {
      this.#notModified ??= new Response(null, { status: 304, headers: this.#headers });
      response = this.#notModified.clone();
    } else {
      const coding = this.#compressible ? codingFor(headers.get("accept-encoding")) : "identity";
      response = (this.#ready[coding] ?? this.#encode(coding as Exclude<Coding, "identity">)).clone();
    }
    if (!hit) response.headers.set("x-cache", "miss");
    return response;
  }

  /** Compresses once; large bodies in the background (identity until then). */
  #encode(coding: Exclude<Coding, "identity">): Response {
    const identity = this.#ready.identity!;
    if (this.body.length < ASYNC_COMPRESSION_BYTES) {
      this.#ready[coding] = this.#withBody(coding, coding === "br" ? brotli(this.body) : gzipped(this.body));
      return this.#ready[coding]!;
    }
    this.#pending ??= {};
    if (!this.#pending[coding]) {
      this.#pending[coding] = true;
      const done = (err: Error | null, out: Buffer<ArrayBuffer>) => {
        if (!err) this.#ready[coding] = this.#withBody(coding, out);
      };
      if (coding === "br") brotliCompress(this.body, brotliParams(this.body), done);
      else gzip(this.body, { level: GZIP_LEVEL }, done);
    }
    return identity;
  }

  #withBody(coding: Coding, bytes: Uint8Array<ArrayBuffer>): Response {
    const identity = this.#ready.identity!;
    return new Response(bytes, {
      headers: [
        ["content-type", identity.headers.get("content-type")!],
        ["content-encoding", coding],
        ...this.#headers,
      ],
    });
  }

  /** Bytes this answer holds, for cache accounting (compressed copies are a tenth of the JSON or less). */
  get size(): number {
    return Math.ceil(this.body.length * 1.2) + 512;
  }
}

const brotliParams = (body: Uint8Array) => ({
  params: {
    [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
    [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
    [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
  },
});
const brotli = (body: Uint8Array) => brotliCompressSync(body, brotliParams(body)) as Buffer<ArrayBuffer>;
const gzipped = (body: Uint8Array) => gzipSync(body, { level: GZIP_LEVEL }) as Buffer<ArrayBuffer>;
