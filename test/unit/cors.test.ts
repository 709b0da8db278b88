// CORS as browsers use it (the Fetch standard's CORS protocol): preflights answered without the API
// key and without drawing on the rate limit, allowed origins echoed on every answer (errors included),
// others left without CORS headers, "*" never with credentials, and nothing at all when no origin is
// configured.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../src/config/schema";
import { createTestApp, type TestApp } from "../support/test-app";

const KEY = "cors-test-key-0123456789";
const MAPS = "https://maps.example.org";

function suiteApp(configure: (config: Config) => void): { app: TestApp } {
  const env = {} as { app: TestApp };
  beforeAll(async () => {
    env.app = await createTestApp({ API_KEY: KEY }, { configure });
  });
  afterAll(() => env.app?.close());
  return env;
}

const preflight = (origin: string, headers = "x-api-key") => ({
  method: "OPTIONS",
  headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": headers },
});

describe("CORS with listed origins", () => {
  const env = suiteApp((config) => {
    config.api.cors_origins = [MAPS, "http://localhost:3000"];
    config.api.rate_limit = 1;
  });

  it("answers a preflight from a listed origin with the methods and headers allowed, without the key", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await env.app.fetch("/v1/stops/central", preflight(MAPS, "authorization, x-api-key"));
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe(MAPS);
      expect(res.headers.get("access-control-allow-methods")).toContain("GET");
      const allowed = res.headers.get("access-control-allow-headers")!.toLowerCase().split(/,\s*/);
      expect(allowed).toEqual(
        expect.arrayContaining(["x-api-key", "authorization", "if-none-match", "traceparent", "tracestate"]),
      );
      expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThan(0);
      expect(res.headers.get("access-control-allow-credentials")).toBeNull();
      expect(res.headers.get("vary")).toContain("Origin");
    }
    // Three preflights drew nothing from a budget of one request a minute.
    const real = await env.app.fetch("/v1/feeds", { headers: { origin: MAPS, "x-api-key": KEY } });
    expect(real.status).toBe(200);
  });

  it("refuses a preflight from an origin not listed, in the error envelope and without CORS headers", async () => {
    const res = await env.app.fetch("/v1/stops/central", preflight("https://evil.example.com"));
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("ORIGIN_NOT_ALLOWED");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("echoes a listed origin on answers, errors included, with the headers a page may read", async () => {
    const health = await env.app.fetch("/health", { headers: { origin: "http://localhost:3000" } });
    expect(health.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    expect(health.headers.get("vary")).toContain("Origin");
    const refused = await env.app.fetch("/v1/stops/central", { headers: { origin: MAPS } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe(MAPS);
    const exposed = refused.headers.get("access-control-expose-headers")!.toLowerCase();
    for (const name of ["etag", "ratelimit", "retry-after", "x-request-id"]) expect(exposed).toContain(name);
  });

  it("sends no CORS header to another origin, or to a request without one, but says the answer varies by Origin", async () => {
    const other = await env.app.fetch("/health", { headers: { origin: "https://evil.example.com" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const none = await env.app.fetch("/health");
    expect(none.headers.get("access-control-allow-origin")).toBeNull();
    // A shared cache must not give this answer to a page on a listed origin.
    expect(none.headers.get("vary")).toContain("Origin");
  });
});

describe("CORS for any origin", () => {
  const env = suiteApp((config) => {
    config.api.cors_origins = ["*"];
  });

  it('answers "*", never with credentials, and does not vary by Origin', async () => {
    const pre = await env.app.fetch("/v1/feeds", preflight("https://anywhere.example"));
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(pre.headers.get("access-control-allow-credentials")).toBeNull();
    const res = await env.app.fetch("/health", { headers: { origin: "https://anywhere.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("vary") ?? "").not.toContain("Origin");
    // Also without an Origin (curl, a server): a shared cache may hand that answer to a page.
    const plain = await env.app.fetch("/health");
    expect(plain.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("CORS with credentials for listed origins", () => {
  const env = suiteApp((config) => {
    config.api.cors_origins = [MAPS];
    config.api.cors_credentials = true;
  });

  it("allows credentials to the listed origin only", async () => {
    const pre = await env.app.fetch("/v1/feeds", preflight(MAPS));
    expect(pre.headers.get("access-control-allow-credentials")).toBe("true");
    const res = await env.app.fetch("/health", { headers: { origin: MAPS } });
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-allow-origin")).toBe(MAPS);
  });

  it("decorates a /v1 answer and its 304 alike, with Origin once in Vary", async () => {
    const headers = { origin: MAPS, "x-api-key": KEY, "accept-encoding": "gzip" };
    const first = await env.app.fetch("/v1/feeds", { headers });
    expect(first.status).toBe(200);
    expect(first.headers.get("access-control-allow-origin")).toBe(MAPS);
    expect(first.headers.get("access-control-expose-headers")).toContain("ETag");
    const vary = first.headers.get("vary")!.split(/,\s*/);
    expect(vary).toEqual(expect.arrayContaining(["X-API-Key", "Authorization", "Origin"]));
    expect(vary.filter((v) => v === "Origin")).toHaveLength(1);
    const etag = first.headers.get("etag")!;
    const notModified = await env.app.fetch("/v1/feeds", { headers: { ...headers, "if-none-match": etag } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("access-control-allow-origin")).toBe(MAPS);
    expect(notModified.headers.get("vary")).toContain("Origin");
  });
});

describe("no CORS origin configured (production's default)", () => {
  const env = suiteApp((config) => {
    config.api.cors_origins = [];
  });

  it("sends no CORS header and leaves OPTIONS to the app (405)", async () => {
    const pre = await env.app.fetch("/health", preflight(MAPS));
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    expect(pre.status).toBe(405);
    expect(pre.headers.get("vary") ?? "").not.toContain("Origin");
    const res = await env.app.fetch("/health", { headers: { origin: MAPS } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});
