// The fetch handler (src/http/fetch-handler.ts) and the small HTTP helpers beside it, rule by rule on
// a stand-in app, each case built so that one rule alone decides it (what `npm run test:mutation --
// http` checks): request ids, the body limit, the in-flight count on every path, the deadline, errors
// thrown or rejected, shutdown's Connection: close, the access line; API keys and the rate limiter.
import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load";
import { createFetchHandler, pathOf } from "../../src/http/fetch-handler";
import { presentedKey } from "../../src/http/key-ring";
import { attachRequestInfo, createRequestIds, requestInfo } from "../../src/http/request-info";
import { Lifecycle } from "../../src/lifecycle";

type App = { fetch(request: Request): Response | Promise<Response> };

function setup(app: App, options: { timeout?: number; bodyLimit?: number } = {}) {
  const config = loadConfig({ env: {}, file: "config.yaml" });
  if (options.timeout !== undefined) config.api.timeout = options.timeout;
  if (options.bodyLimit !== undefined) config.api.body_limit = options.bodyLimit;
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      cb();
    },
  });
  const logger = pino({ level: "info" }, sink);
  const lifecycle = new Lifecycle();
  const handler = createFetchHandler(app, { config, logger, lifecycle });
  return { handler, lifecycle, lines, logger };
}

const ok: App = { fetch: () => new Response("ok") };

describe("request ids", () => {
  it("keeps a client's id of up to 128 word characters, dots, colons and dashes", async () => {
    const { handler } = setup(ok);
    for (const id of ["a", "A_b.c:d-e", "x".repeat(128)]) {
      const res = await handler(new Request("http://h/", { headers: { "x-request-id": id } }));
      expect(res.headers.get("x-request-id")).toBe(id);
    }
  });

  it("replaces an empty, too long or oddly charactered one with its own", async () => {
    const { handler } = setup(ok);
    for (const id of ["", "x".repeat(129), "a b", "a/b", "ü", "a\tb", "id;drop"]) {
      const res = await handler(new Request("http://h/", { headers: { "x-request-id": id } }));
      expect(res.headers.get("x-request-id"), JSON.stringify(id)).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    }
  });

  it("numbers its own ids in sequence behind one random prefix per handler", () => {
    const next = createRequestIds();
    const [a, b, c] = [next(), next(), next()];
    expect([a, b, c].map((id) => id.split("-")[1])).toEqual(["1", "2", "3"]);
    expect(new Set([a, b, c].map((id) => id.split("-")[0])).size).toBe(1);
    expect(createRequestIds()().split("-")[0]).not.toBe(a.split("-")[0]);
  });

  it("carries what the app knows about a request on the request itself", () => {
    const request = new Request("http://h/");
    expect(requestInfo(request)).toBeUndefined();
    const info = { id: "abc" };
    attachRequestInfo(request, info);
    expect(requestInfo(request)).toBe(info);
  });
});

describe("body limit", () => {
  it("answers 413 to a declared body over the limit, without calling the app", async () => {
    let called = 0;
    const { handler, lifecycle } = setup(
      {
        fetch: () => {
          called++;
          return new Response("ok");
        },
      },
      { bodyLimit: 2048 },
    );
    const at = (length: number) =>
      handler(
        new Request("http://h/", {
          method: "POST",
          body: "x".repeat(length),
          headers: { "content-length": String(length) },
        }),
      );
    const over = await at(2049);
    expect(over.status).toBe(413);
    expect(await over.json()).toEqual({
      error: { code: "PAYLOAD_TOO_LARGE", message: "request body exceeds 2048 bytes" },
    });
    expect(over.headers.get("x-request-id")).toMatch(/-/);
    expect(called).toBe(0);
    expect((await at(2048)).status).toBe(200); // the limit itself is allowed
    expect(called).toBe(1);
    expect(lifecycle.inFlight).toBe(0);
  });
});

describe("in flight, errors and the deadline", () => {
  it("answers a synchronous app synchronously, and counts the request out", () => {
    const { handler, lifecycle } = setup(ok);
    const res = handler(new Request("http://h/"));
    expect(res).toBeInstanceOf(Response);
    expect(lifecycle.inFlight).toBe(0);
  });

  it("counts an asynchronous request in until it is answered", async () => {
    let release!: () => void;
    const { handler, lifecycle } = setup({
      fetch: () => new Promise<Response>((r) => (release = () => r(new Response("late")))),
    });
    const pending = handler(new Request("http://h/"));
    expect(lifecycle.inFlight).toBe(1);
    release();
    const res = await pending;
    expect(await res.text()).toBe("late");
    expect(lifecycle.inFlight).toBe(0);
  });

  it("turns a thrown error and a rejected promise into a logged 500, and counts both out", async () => {
    for (const app of [
      {
        fetch: (): Response => {
          throw new Error("boom sync");
        },
      },
      { fetch: () => Promise.reject(new Error("boom async")) },
    ]) {
      const { handler, lifecycle, lines } = setup(app);
      const res = await handler(new Request("http://h/x", { headers: { "x-request-id": "fail-1" } }));
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: { code: "INTERNAL", message: "internal server error" } });
      expect(res.headers.get("x-request-id")).toBe("fail-1");
      expect(lifecycle.inFlight).toBe(0);
      const logged = lines.find((l) => l.msg === "unhandled request failure");
      expect(logged).toMatchObject({ level: 50, req_id: "fail-1" });
      expect((logged!.err as { message: string }).message).toMatch(/^boom (sync|async)$/);
    }
  });

  it("answers 504 at api.timeout for an app that does not answer, and counts it out", async () => {
    const { handler, lifecycle } = setup({ fetch: () => new Promise<Response>(() => {}) }, { timeout: 0.05 });
    const res = await handler(new Request("http://h/slow"));
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({
      error: { code: "TIMEOUT", message: "the request did not complete within 0.05 s" },
    });
    expect(lifecycle.inFlight).toBe(0);
  });

  it("lets a request that outlasts a few deadline sweeps but not its deadline answer itself", async () => {
    // The deadline sweep runs every 250 ms for a 30 s timeout; this answer comes after two sweeps.
    const { handler, lifecycle } = setup(
      { fetch: () => new Promise<Response>((done) => setTimeout(() => done(new Response("in time")), 600)) },
      { timeout: 30 },
    );
    const res = await handler(new Request("http://h/"));
    expect([res.status, await res.text()]).toEqual([200, "in time"]);
    expect(lifecycle.inFlight).toBe(0);
  });

  it("turns a thrown or rejected non-Error (null, undefined) into a 500 as well", async () => {
    for (const app of [
      {
        fetch: (): Response => {
          throw null;
        },
      },
      { fetch: () => Promise.reject(undefined) },
    ]) {
      const { handler, lines } = setup(app as App);
      const res = await handler(new Request("http://h/"));
      expect(res.status).toBe(500);
      expect(lines.find((l) => l.msg === "unhandled request failure")?.err).toEqual({});
    }
  });

  it("answers an app that finishes in time with its own answer, and keeps the deadline for later requests", async () => {
    const { handler } = setup(
      { fetch: (r) => new Promise<Response>((done) => setTimeout(() => done(new Response(pathOf(r.url))), 5)) },
      { timeout: 30 },
    );
    const answers = await Promise.all(["/a", "/b", "/c"].map((p) => handler(new Request(`http://h${p}`))));
    expect(await Promise.all(answers.map((a) => a.text()))).toEqual(["/a", "/b", "/c"]);
    // After the deadlines of those requests were cleared, a new one still gets its own.
    const { handler: slow } = setup({ fetch: () => new Promise<Response>(() => {}) }, { timeout: 0.05 });
    await slow(new Request("http://h/1"));
    expect((await slow(new Request("http://h/2"))).status).toBe(504);
  });
});

describe("shutdown and the access line", () => {
  it("closes the connection after each answer once shutdown has begun", async () => {
    const { handler, lifecycle } = setup(ok);
    expect((await handler(new Request("http://h/"))).headers.get("connection")).toBeNull();
    lifecycle.shuttingDown = true;
    expect((await handler(new Request("http://h/"))).headers.get("connection")).toBe("close");
  });

  it("logs one line per request with method, route (the template once matched) and status", async () => {
    const { handler, lines } = setup({
      fetch: (r) => {
        if (pathOf(r.url) === "/stops/42") requestInfo(r)!.route = "/stops/:stopId";
        return new Response("", { status: 404 });
      },
    });
    const before = performance.now();
    await handler(new Request("http://h/stops/42?x=1", { method: "DELETE", headers: { "x-request-id": "r-1" } }));
    await handler(new Request("http://h/other/path?y=2", { headers: { "x-request-id": "r-2" } }));
    const spent = performance.now() - before;
    const access = lines.filter((l) => l.msg === "request");
    expect(access.map((l) => [l.req_id, l.method, l.route, l.status])).toEqual([
      ["r-1", "DELETE", "/stops/:stopId", 404],
      ["r-2", "GET", "/other/path", 404],
    ]);
    // Each line's duration is its own request's: within what both took together (lines round to 0.01 ms).
    for (const l of access) {
      expect(l.duration_ms).toBeGreaterThanOrEqual(0);
      expect(l.duration_ms).toBeLessThanOrEqual(spent + 0.01);
    }
  });

  it("pathOf: the path without the query, / for none", () => {
    expect(pathOf("http://h:8000/a/b?c=d")).toBe("/a/b");
    expect(pathOf("http://h/a/b")).toBe("/a/b");
    expect(pathOf("http://h")).toBe("/");
    expect(pathOf("http://h/")).toBe("/");
    expect(pathOf("https://h/?q=/x")).toBe("/");
  });
});

describe("API keys", () => {
  it("reads X-API-Key first, then a Bearer authorization of any case", () => {
    const key = (headers: Record<string, string>) => presentedKey(new Headers(headers));
    expect(key({ "x-api-key": "k1" })).toBe("k1");
    expect(key({ "x-api-key": "k1", authorization: "Bearer k2" })).toBe("k1");
    expect(key({ authorization: "Bearer k2" })).toBe("k2");
    expect(key({ authorization: "bearer   k3  " })).toBe("k3");
    expect(key({ authorization: "BEARER k4" })).toBe("k4");
    expect(key({ authorization: "Basic abc" })).toBeNull();
    expect(key({ authorization: "xBearer k5" })).toBeNull();
    expect(key({ authorization: "Bearerk6" })).toBeNull();
    expect(key({})).toBeNull();
  });
});
