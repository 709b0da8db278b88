import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load";
import { createFetchHandler } from "../../src/http/fetch-handler";
import { Lifecycle } from "../../src/lifecycle";
import { createTestApp, type TestApp } from "../support/test-app";

const KEY = "test-key-0123456789";

describe("HTTP surface", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      API_KEY: KEY,
      APP_VERSION: "9.8.7",
      GIT_COMMIT: "deadbeef",
      BUILD_TIME: "2026-01-02T03:04:05Z",
    });
  });
  afterAll(() => t.close());

  it("GET /health is liveness only", async () => {
    const res = await t.fetch("/health");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({ status: "healthy", timestamp: expect.any(String), version: "9.8.7" });
    expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false);
  });

  it("GET /ready reports each dependency; unconfigured ones do not fail readiness", async () => {
    const res = await t.fetch("/ready");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready", checks: { database: "embedded", redis: "disabled" } });
  });

  it("GET /version reports the build", async () => {
    expect(await (await t.fetch("/version")).json()).toEqual({
      version: "9.8.7",
      commit: "deadbeef",
      build_time: "2026-01-02T03:04:05Z",
    });
  });

  it("serves the OpenAPI document and Swagger UI publicly", async () => {
    const doc = await (await t.fetch("/swagger/json")).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/health", "/ready", "/version"]));
    const ui = await t.fetch("/swagger");
    expect(ui.status).toBe(200);
    expect(ui.headers.get("content-type")).toContain("text/html");
  });

  it("requires the API key on /v1 and accepts both header forms", async () => {
    for (const headers of [{}, { "x-api-key": "wrong-key-000000000" }, { authorization: "Basic abc" }] as Record<
      string,
      string
    >[]) {
      const res = await t.fetch("/v1/anything", { headers });
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe("UNAUTHORIZED");
    }
    for (const headers of [{ "x-api-key": KEY }, { authorization: `Bearer ${KEY}` }] as Record<string, string>[]) {
      const res = await t.fetch("/v1/no-such-thing", { headers });
      expect(res.status).toBe(404); // past auth, then not found
    }
  });

  it("answers every failure with one JSON error shape and the right status", async () => {
    const notFound = await t.fetch("/nope");
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toEqual({ error: { code: "NOT_FOUND", message: "no route for GET /nope" } });

    const wrongMethod = await t.fetch("/health", { method: "DELETE" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET");
    expect((await wrongMethod.json()).error.code).toBe("METHOD_NOT_ALLOWED");
  });

  it("echoes a given X-Request-Id, generates one otherwise, and logs one access line per request", async () => {
    const given = await t.fetch("/health", { headers: { "x-request-id": "abc-123" } });
    expect(given.headers.get("x-request-id")).toBe("abc-123");
    const generated = await t.fetch("/health", { headers: { "x-request-id": "bad id with spaces" } });
    const id = generated.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    const access = t.logLines().filter((l) => l.msg === "request" && l.req_id === id);
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ method: "GET", route: "/health", status: 200 });
    expect(typeof access[0]?.duration_ms).toBe("number");
  });

  it("/ready turns 503 once shutdown begins", async () => {
    t.lifecycle.shuttingDown = true;
    try {
      const res = await t.fetch("/ready");
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body.status).toBe("not ready");
      expect(body.checks.server).toBe("shutting down");
    } finally {
      t.lifecycle.shuttingDown = false;
    }
  });
});

describe("request deadline", () => {
  it("answers 504 when the app does not respond within api.timeout", async () => {
    const config = loadConfig({ env: {}, file: "config.yaml" });
    config.api.timeout = 0.05;
    const lifecycle = new Lifecycle();
    let release!: () => void;
    const never = new Promise<Response>((resolve) => {
      release = () => resolve(new Response("late"));
    });
    const handler = createFetchHandler(
      { fetch: () => never },
      { config, logger: pino({ level: "silent" }), lifecycle },
    );
    const res = await handler(new Request("http://localhost/slow"));
    expect(res.status).toBe(504);
    expect((await res.json()).error.code).toBe("TIMEOUT");
    release();
  });
});

describe("rate limit", () => {
  it("answers 429 with Retry-After once a client's /v1 budget is spent", async () => {
    const t = await createTestApp(
      { API_KEY: KEY },
      {
        configure: (c) => {
          c.api.rate_limit = 12;
        },
      },
    );
    try {
      const answers: Response[] = [];
      for (let i = 0; i < 2; i++) answers.push(await t.fetch("/v1/feeds", { headers: { "x-api-key": KEY } }));
      const limited = await t.fetch("/v1/feeds", { headers: { "x-api-key": KEY } });
      expect(answers.map((r) => r.status)).toEqual([200, 200]); // a burst of 12/6 = 2
      // Every answer tells the client its budget (draft-ietf-httpapi-ratelimit-headers): 12 a minute,
      // one more request every 5 s.
      expect(answers.map((r) => [r.headers.get("ratelimit-policy"), r.headers.get("ratelimit")])).toEqual([
        ['"per-key";q=12;w=60', '"per-key";r=1;t=5'],
        ['"per-key";q=12;w=60', '"per-key";r=0;t=5'],
      ]);
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toMatch(/^[1-5]$/);
      expect(limited.headers.get("ratelimit")).toMatch(/^"per-key";r=0;t=[1-5]$/);
      expect((await limited.json()).error.code).toBe("RATE_LIMITED");
      expect((await t.fetch("/health")).status).toBe(200); // operations endpoints are never limited
    } finally {
      await t.close();
    }
  });
});

describe("API key off in development", () => {
  it("leaves /v1 open and warns", async () => {
    const t = await createTestApp();
    try {
      expect((await t.fetch("/v1/nothing")).status).toBe(404);
      expect(t.logLines().some((l) => String(l.msg).includes("API_KEY is not set"))).toBe(true);
    } finally {
      await t.close();
    }
  });
});
