// The error answers the docs promise (docs/api.md, README), each from the path that produces it:
// 503 NO_FEED before any import, 422 for a well-formed body that breaks a route's schema (and 400 for
// one that is not JSON), and how unexpected errors map to public statuses (src/http/errors.ts).
import { t } from "elysia";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { createMemoryCache } from "../../src/cache/memory-cache";
import { loadConfig } from "../../src/config/load";
import { type Database, openDatabase } from "../../src/db/database";
import { migrateToLatest } from "../../src/db/migrate";
import { ApiError, classifyError, errorResponse, invalidParameter, notFound } from "../../src/http/errors";
import { createFetchHandler } from "../../src/http/fetch-handler";
import { Lifecycle } from "../../src/lifecycle";
import { createTestApp, type TestApp } from "../support/test-app";

describe("before any feed is imported", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it.each([
    "/v1/agencies",
    "/v1/routes",
    "/v1/routes/R1",
    "/v1/stops?q=central",
    "/v1/stops/nearby?lat=40.75&lon=-73.99",
    "/v1/stops/central",
    "/v1/stops/central/departures",
    "/v1/trips/t1",
  ])("%s answers 503 NO_FEED", async (path) => {
    const res = await app.fetch(path);
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await res.json()).toEqual({
      error: { code: "NO_FEED", message: "no GTFS feed has been imported yet (run `import <feed>`)" },
    });
  });

  it("/v1/feeds lists no versions (200), and /ready does not depend on a feed", async () => {
    const feeds = await app.fetch("/v1/feeds");
    expect(feeds.status).toBe(200);
    expect(await feeds.json()).toEqual({ data: [], next_cursor: null });
    expect((await app.fetch("/ready")).status).toBe(200);
  });
});

describe("request bodies", () => {
  // No /v1 route takes a body yet; the mapping is the app's, for every route, so a route with a body
  // schema is added to the real app here.
  const config = loadConfig({ env: { DATA_DIR: ":memory:", NODE_ENV: "test" }, file: "config.yaml" });
  const logger = pino({ level: "silent" });
  let database: Database;
  let handler: (request: Request) => Response | Promise<Response>;
  beforeAll(async () => {
    database = await openDatabase(config, logger);
    await migrateToLatest(database.db);
    const lifecycle = new Lifecycle();
    const app = createApp({ config, logger, database, cache: createMemoryCache(10), lifecycle }).post(
      "/echo",
      ({ body }) => body,
      { body: t.Object({ count: t.Integer({ minimum: 1 }), name: t.String() }) },
    );
    handler = createFetchHandler(app, { config, logger, lifecycle });
  });
  afterAll(() => database.close());

  const post = async (body: string) => {
    const res = await handler(
      new Request("http://localhost/echo", { method: "POST", body, headers: { "content-type": "application/json" } }),
    );
    return { status: res.status, body: await res.json() };
  };

  it("answers a valid body", async () => {
    expect(await post('{"count":2,"name":"x"}')).toEqual({ status: 200, body: { count: 2, name: "x" } });
  });

  it("answers 422 UNPROCESSABLE_ENTITY naming the field for well-formed JSON that breaks the schema", async () => {
    const res = await post('{"count":0,"name":"x"}');
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("UNPROCESSABLE_ENTITY");
    expect(res.body.error.message).toMatch(/^invalid body parameter 'count': /);
    expect(res.body.error.details).toEqual([{ field: "count", message: expect.any(String) }]);
  });

  it("lists every broken field in details", async () => {
    const res = await post('{"count":"many"}');
    expect(res.status).toBe(422);
    const fields = (res.body.error.details as { field: string }[]).map((d) => d.field);
    expect(new Set(fields)).toEqual(new Set(["count", "name"]));
  });

  it("answers 400 INVALID_BODY for a body that is not JSON", async () => {
    expect(await post('{"count":')).toEqual({
      status: 400,
      body: { error: { code: "INVALID_BODY", message: "the request body could not be parsed" } },
    });
  });
});

describe("error mapping (src/http/errors.ts)", () => {
  const unavailable = ["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EPIPE"];
  const pgUnavailable = ["57P01", "57P02", "57P03", "08000", "08001", "08003", "08006"];

  it.each([...unavailable, ...pgUnavailable])("code %s means the database is unavailable: 503", (code) => {
    const mapped = classifyError(Object.assign(new Error("whatever"), { code }));
    expect([mapped.status, mapped.code, mapped.message]).toEqual([
      503,
      "DATABASE_UNAVAILABLE",
      "the database is unavailable, try again shortly",
    ]);
  });

  it.each([
    "timeout exceeded when trying to connect",
    "Connection terminated unexpectedly",
    "Connection terminated due to connection timeout",
    "connect ECONNREFUSED 127.0.0.1:5432",
    "Client has encountered a connection error and is not queryable",
    "TIMEOUT EXCEEDED WHEN TRYING TO CONNECT",
  ])("pg's message %j without a code means unavailable too", (message) => {
    expect(classifyError(new Error(message)).status).toBe(503);
  });

  it("a cancelled statement (57014, statement_timeout) is 504 QUERY_TIMEOUT", () => {
    const mapped = classifyError(
      Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" }),
    );
    expect([mapped.status, mapped.code, mapped.message]).toEqual([504, "QUERY_TIMEOUT", "the query took too long"]);
  });

  it.each([
    ["a SQL error", Object.assign(new Error('relation "x" does not exist'), { code: "42P01" })],
    ["a plain error", new Error("boom")],
    ["a thrown string", "boom"],
    ["undefined", undefined],
    ["null", null],
    ["a message that only mentions a connection", new Error("Connection reset by the client's proxy")],
  ])("anything else (%s) is 500 INTERNAL, with no detail leaked", (_what, err) => {
    const mapped = classifyError(err);
    expect([mapped.status, mapped.code, mapped.message, mapped.details]).toEqual([
      500,
      "INTERNAL",
      "internal server error",
      undefined,
    ]);
  });

  it("an ApiError passes through as it is", () => {
    const err = new ApiError(418, "TEAPOT", "short and stout", { spout: true });
    expect(classifyError(err)).toBe(err);
  });

  it("builds the helpers' errors with their status, code and details", () => {
    expect({ ...notFound("stop x"), message: notFound("stop x").message }).toEqual({
      status: 404,
      code: "NOT_FOUND",
      details: undefined,
      name: "ApiError",
      message: "stop x not found",
    });
    const bad = invalidParameter("at", "invalid query parameter 'at'", "not an instant");
    expect([bad.status, bad.code, bad.message, bad.details]).toEqual([
      400,
      "INVALID_REQUEST",
      "invalid query parameter 'at'",
      [{ field: "at", message: "not an instant" }],
    ]);
    expect(invalidParameter("date", "bad date").details).toEqual([{ field: "date", message: "bad date" }]);
  });

  it("errorResponse: JSON body, details only when given, extra headers kept", async () => {
    const plain = errorResponse(404, "NOT_FOUND", "gone");
    expect(plain.status).toBe(404);
    expect(plain.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await plain.text()).toBe('{"error":{"code":"NOT_FOUND","message":"gone"}}');
    const detailed = errorResponse(429, "RATE_LIMITED", "slow down", [{ a: 1 }], { "retry-after": "3" });
    expect(detailed.headers.get("retry-after")).toBe("3");
    expect(detailed.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await detailed.json()).toEqual({
      error: { code: "RATE_LIMITED", message: "slow down", details: [{ a: 1 }] },
    });
    expect(await errorResponse(400, "X", "y", null).json()).toEqual({
      error: { code: "X", message: "y", details: null },
    });
  });
});
