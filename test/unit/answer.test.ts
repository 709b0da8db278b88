// A prepared answer (src/http/answer.ts) as a client sees it, in process: revalidation with
// If-None-Match (RFC 9110 13.1.2: weak comparison, lists, `*`), the headers every copy carries, and
// the content coding chosen from Accept-Encoding, whose bytes must decode to exactly the JSON.
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { Answer, type AnswerPolicy, ASYNC_COMPRESSION_BYTES, BROTLI_QUALITY } from "../../src/http/answer";
import { eventually } from "../support/app-server";

const policy: AnswerPolicy = { cacheControl: "public, max-age=30" };
const compress = { enabled: true, minBytes: 256 };
const rows = Array.from({ length: 60 }, (_, i) => ({ stop_id: `S${i}`, stop_name: `Stop number ${i}` }));
const text = JSON.stringify({ data: rows });

const get = (headers: Record<string, string> = {}) => new Request("http://api.test/v1/stops", { headers });
const codingOf = (response: Response) => response.headers.get("content-encoding") ?? "identity";
/** The body's bytes and the text they decode to under the answer's Content-Encoding. */
const bodyOf = async (response: Response) => {
  const bytes = new Uint8Array(await response.arrayBuffer());
  const coding = codingOf(response);
  const plain = coding === "gzip" ? gunzipSync(bytes) : coding === "br" ? brotliDecompressSync(bytes) : bytes;
  return { bytes, text: new TextDecoder().decode(plain) };
};

describe("revalidation (If-None-Match)", () => {
  const answer = new Answer(text, policy, compress);
  const opaque = answer.etag.slice(2); // the tag without W/
  const status = (ifNoneMatch: string) => answer.serve(get({ "if-none-match": ifNoneMatch })).status;

  it("is a weak tag over the bytes: the same text gets the same tag, other text another", () => {
    expect(answer.etag).toMatch(/^W\/"[^"]+"$/);
    expect(new Answer(text, { cacheControl: "no-store" }, compress).etag).toBe(answer.etag);
    expect(new Answer(`${text} `, policy, compress).etag).not.toBe(answer.etag);
  });

  it("answers 304 to the tag, its strong form, a list holding it, and * alone or in a list", () => {
    for (const header of [answer.etag, opaque, `W/"other", ${answer.etag}`, `"other",${opaque}`, "*", `W/"other", *`])
      expect(status(header), header).toBe(304);
  });

  it("answers in full to other tags, an empty header and a list with an empty element", () => {
    for (const header of [`W/"other"`, `W/"other", "more"`, "", `W/"other", `, " , ", `W/${answer.etag}`])
      expect(status(header), JSON.stringify(header)).toBe(200);
    expect(answer.serve(get()).status).toBe(200);
  });

  it("a 304 has no body and the same validator, caching policy and Vary as the full answer", async () => {
    const full = answer.serve(get({ "accept-encoding": "gzip" }));
    const notModified = answer.serve(get({ "if-none-match": answer.etag, "accept-encoding": "gzip" }));
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe("");
    for (const name of ["etag", "cache-control", "vary"])
      expect(notModified.headers.get(name), name).toBe(full.headers.get(name));
    expect(notModified.headers.get("content-encoding")).toBeNull();
  });
});

describe("headers of every copy", () => {
  it("JSON in UTF-8 unless the policy names another type", () => {
    expect(new Answer(text, policy, compress).serve(get()).headers.get("content-type")).toBe(
      "application/json; charset=utf-8",
    );
    const yaml = new Answer("openapi: 3.1.0", { ...policy, contentType: "application/yaml" }, compress);
    expect(yaml.serve(get()).headers.get("content-type")).toBe("application/yaml");
  });

  it("the policy's Cache-Control and the type, on the identity and the compressed copies", () => {
    const answer = new Answer(text, policy, compress);
    for (const encoding of ["identity", "gzip", "br"]) {
      const response = answer.serve(get({ "accept-encoding": encoding }));
      expect(codingOf(response)).toBe(encoding);
      expect(response.headers.get("cache-control")).toBe(policy.cacheControl);
      expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    }
  });

  it("Vary names Accept-Encoding only when the answer is compressed, and what the policy adds", () => {
    const vary = (answer: Answer) => answer.serve(get()).headers.get("vary");
    expect(vary(new Answer(text, policy, compress))).toBe("Accept-Encoding");
    expect(vary(new Answer(text, { ...policy, vary: ["Accept"] }, compress))).toBe("Accept-Encoding, Accept");
    expect(vary(new Answer("{}", policy, compress))).toBeNull(); // under minBytes
    const atMin = "x".repeat(compress.minBytes);
    expect(vary(new Answer(atMin, policy, compress))).toBe("Accept-Encoding");
    expect(vary(new Answer(atMin.slice(1), policy, compress))).toBeNull();
    expect(vary(new Answer(text, policy, { ...compress, enabled: false }))).toBeNull();
    expect(vary(new Answer("{}", { ...policy, vary: ["Accept"] }, compress))).toBe("Accept");
  });

  it("X-Cache tells a hit from a miss, on full answers and 304s", () => {
    const answer = new Answer(text, policy, compress);
    expect(answer.serve(get()).headers.get("x-cache")).toBe("hit");
    expect(answer.serve(get(), false).headers.get("x-cache")).toBe("miss");
    expect(answer.serve(get({ "if-none-match": "*" }), false).headers.get("x-cache")).toBe("miss");
    // A miss marks only its own copy.
    expect(answer.serve(get()).headers.get("x-cache")).toBe("hit");
  });

  it("counts at least its bytes for cache accounting", () => {
    for (const body of [text, `"${"x".repeat(1024 * 1024)}"`]) {
      const answer = new Answer(body, policy, compress);
      expect(answer.size).toBeGreaterThanOrEqual(answer.body.length);
    }
  });
});

describe("content coding (Accept-Encoding)", () => {
  const answer = new Answer(text, policy, compress);
  const coding = (acceptEncoding?: string) =>
    codingOf(answer.serve(get(acceptEncoding === undefined ? {} : { "accept-encoding": acceptEncoding })));

  it("sends the coding the client prefers, and the server's preference (br, then gzip) on a tie", () => {
    expect(coding("gzip")).toBe("gzip");
    expect(coding("br")).toBe("br");
    expect(coding("gzip, deflate, br")).toBe("br");
    expect(coding("*")).toBe("br");
    expect(coding("identity, gzip")).toBe("gzip");
    expect(coding("br;q=0.5, gzip")).toBe("gzip");
    expect(coding("gzip;q=0.5, identity")).toBe("identity");
    expect(coding("deflate")).toBe("identity");
  });

  it("sends identity without the header, with an empty one, and when nothing offered is acceptable", () => {
    expect(coding()).toBe("identity");
    expect(coding("")).toBe("identity");
    expect(coding("identity;q=0, deflate")).toBe("identity");
  });

  it("each coding decodes to exactly the JSON, every time it is served", async () => {
    const answer = new Answer(text, policy, compress); // compressed here first
    for (const encoding of ["gzip", "br", "identity", "gzip", "br"]) {
      const response = answer.serve(get({ "accept-encoding": encoding }));
      expect(codingOf(response)).toBe(encoding);
      expect((await bodyOf(response)).text).toBe(text);
    }
  });

  it("brotli runs at the quality chosen for answers, not the library's default 11 (45 ms for a board)", async () => {
    const brotliAt = (quality: number) =>
      new Uint8Array(brotliCompressSync(text, { params: { [constants.BROTLI_PARAM_QUALITY]: quality } }));
    expect(brotliAt(BROTLI_QUALITY)).not.toEqual(brotliAt(constants.BROTLI_MAX_QUALITY)); // the check can tell
    const { bytes } = await bodyOf(new Answer(text, policy, compress).serve(get({ "accept-encoding": "br" })));
    expect(bytes).toEqual(brotliAt(BROTLI_QUALITY));
  });

  it("large bodies are sent as they are until compressed off the event loop, then compressed", async () => {
    // Exactly the size from which compression runs in the background.
    const large = `"${"0123456789abcdef".repeat(ASYNC_COMPRESSION_BYTES / 16).slice(2)}"`;
    expect(new TextEncoder().encode(large).length).toBe(ASYNC_COMPRESSION_BYTES);
    const answer = new Answer(large, policy, compress);
    for (const encoding of ["gzip", "br"]) {
      const first = answer.serve(get({ "accept-encoding": encoding }));
      expect(codingOf(first)).toBe("identity");
      expect((await bodyOf(first)).text).toBe(large);
      await eventually(
        async () => codingOf(answer.serve(get({ "accept-encoding": encoding }))) === encoding,
        10_000,
        `the ${encoding} copy`,
      );
      const compressed = await bodyOf(answer.serve(get({ "accept-encoding": encoding })));
      expect(compressed.bytes.length).toBeLessThan(ASYNC_COMPRESSION_BYTES / 10);
      expect(compressed.text).toBe(large);
    }
  });
});
