// The service's OpenAPI document against the service, in process on the embedded database (no feed, so
// no data is needed): every route is an operation of the document and every operation a route; and each
// answer the service gives here (200 and 304 of public and /v1 operations, the 400, 401 and 429 of /v1,
// /ready's 503 while shutting down) has its status documented, a body valid against the documented
// schema, its documented headers (each valid against its schema; required unless the configuration
// adds it), and every header of its own (beyond what all answers carry) documented.
// test/integration/openapi-answers.test.ts does the same per operation on PostgreSQL with a feed.
import Ajv2020 from "ajv/dist/2020";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/http/contract";
import { docsPage } from "../../src/http/openapi/docs-page";
import { createTestApp, type TestApp } from "../support/test-app";

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is untyped JSON here.
type Json = Record<string, any>;

const KEY = "contract-key-0123456789";
const BURST_KEY = "burst-key-0123456789";
/**
 * Headers the service sends only with some configuration: the rate limit's (`api.rate_limit`), except on
 * the 429 it answers, and Vary (compression, API keys, CORS). Every other header is sent whatever the
 * configuration, so the document marks it required.
 */
const dependsOnConfiguration = (header: string, status: number) =>
  /^vary$/i.test(header) || (/^ratelimit/i.test(header) && status !== 429);

/** Requests a minute per key, in bursts of a sixth of that: the burst key spends one, the other key stays under. */
const RATE_LIMIT = 60;

describe("the OpenAPI document and the answers of the service", () => {
  let app: TestApp;
  let doc: Json;
  let ajv: Ajv2020;
  /** The headers every answer carries (those of a 404 for no route): no operation needs to list them. */
  let everyAnswer: Set<string>;

  beforeAll(async () => {
    app = await createTestApp(
      { API_KEYS: `main:${KEY},burst:${BURST_KEY}` },
      {
        configure: (config) => {
          config.api.rate_limit = RATE_LIMIT;
        },
      },
    );
    doc = await (await app.fetch("/swagger/json")).json();
    ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema(doc, "openapi.json");
    const none = await app.fetch("/no-such-route");
    expect(none.status).toBe(404);
    everyAnswer = new Set(none.headers.keys());
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  /** The operation documented for a request path (`{param}` matches one segment). */
  const operationOf = (method: string, url: string): { path: string; op: Json } => {
    const pathname = new URL(url, "http://api.test").pathname;
    const path = Object.keys(doc.paths).find((p) => new RegExp(`^${p.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(pathname));
    expect(path, `${method} ${pathname} is not documented`).toBeDefined();
    const op = doc.paths[path!][method.toLowerCase()];
    expect(op, `${method} ${path} is not documented`).toBeDefined();
    return { path: path!, op };
  };

  /** The pointer to a response object (its `$ref` followed) and the object. */
  const responseOf = (path: string, method: string, op: Json, status: number): { at: string; response: Json } => {
    const documented = op.responses[String(status)];
    expect(documented, `${method} ${path}: ${status} is not documented`).toBeDefined();
    const at = documented.$ref
      ? (documented.$ref as string)
      : `#/paths/${path.replaceAll("~", "~0").replaceAll("/", "~1")}/${method.toLowerCase()}/responses/${status}`;
    const response = at
      .slice(2)
      .split("/")
      .reduce((node: Json, key) => node[key.replaceAll("~1", "/").replaceAll("~0", "~")], doc);
    return { at, response };
  };

  /** A header's value as its schema reads it: HTTP sends text, a number schema means its digits. */
  const headerValue = (value: string, schema: Json) =>
    schema.type === "integer" || schema.type === "number" ? Number(value) : value;

  /** Asserts the answer is what the document says for its operation and status. */
  const conforms = async (res: Response, url: string, method = "GET") => {
    const { path, op } = operationOf(method, url);
    const where = `${method} ${url} ${res.status}`;
    const { at, response } = responseOf(path, method, op, res.status);
    const body = await res.text();
    if (res.status === 304 || body === "") expect(response.content, `${where}: documents a body`).toBeUndefined();
    else {
      const mediaType = res.headers.get("content-type")!.split(";")[0]!;
      expect(Object.keys(response.content ?? {}), where).toContain(mediaType);
      const validate = ajv.getSchema(`openapi.json${at}/content/${mediaType.replaceAll("/", "~1")}/schema`)!;
      expect(validate(JSON.parse(body)) ? [] : validate.errors, `${where}: ${body.slice(0, 200)}`).toEqual([]);
    }
    const documented = Object.entries<Json>(response.headers ?? {});
    for (const [name, header] of documented) {
      const value = res.headers.get(name);
      if (header.required) expect(value, `${where}: required header ${name} not sent`).not.toBeNull();
      if (value === null) continue;
      expect(Boolean(header.required), `${where}: ${name} is required unless configuration adds it`).toBe(
        !dependsOnConfiguration(name, res.status),
      );
      expect(Object.keys(header.schema ?? {}).length, `${where}: ${name} has no schema`).toBeGreaterThan(0);
      const validate = ajv.compile(header.schema);
      expect(validate(headerValue(value!, header.schema)), `${where}: ${name}: ${value}`).toBe(true);
    }
    const names = new Set(documented.map(([name]) => name.toLowerCase()));
    // Connection is about the connection, not the answer (RFC 9110 7.6.1).
    const own = [...res.headers.keys()].filter((name) => !everyAnswer.has(name) && name !== "connection");
    expect(
      own.filter((name) => !names.has(name)),
      `${where}: sent but not documented`,
    ).toEqual([]);
  };

  const get = (url: string, headers: Record<string, string> = { "x-api-key": KEY }) => app.fetch(url, { headers });

  it("documents every route of the service but the docs page's, and no other", () => {
    const docsRoutes = docsPage({
      title: "",
      document: () => ({}),
      compression: { enabled: false, minBytes: 0 },
    }).routes;
    const pageRoutes = new Set(docsRoutes.map((r) => `${r.method} ${r.path}`));
    const routes = app.app.routes
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`)
      .filter((r) => !pageRoutes.has(r));
    const operations = Object.entries<Json>(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.length).toBeGreaterThanOrEqual(15);
    expect(operations.sort()).toEqual(routes.sort());
  });

  it("declares every tag its operations use, and no other", () => {
    const used = new Set(
      Object.values<Json>(doc.paths).flatMap((item) => Object.values<Json>(item).flatMap((op) => op.tags ?? [])),
    );
    expect(used.size).toBeGreaterThan(1);
    expect(doc.tags.map((tag: Json) => tag.name).sort()).toEqual([...used].sort());
  });

  it("names as its server the root of the origin that serves it", () => {
    expect(doc.servers).toHaveLength(1);
    expect(new URL(doc.servers[0].url, "http://api.test/swagger/json").href).toBe("http://api.test/");
  });

  it("tabulates every error code under its status in the description, as Markdown", () => {
    const lines: string[] = doc.info.description.split("\n");
    const header = lines.findIndex((line) => line.startsWith("|"));
    expect(lines[header - 1]).toBe(""); // a table starts a block of its own
    expect(lines[header + 1]).toMatch(/^\|( --- \|){3}$/);
    const rows = lines.slice(header + 2).map((line) => line.split("|").map((cell) => cell.trim()));
    const expected = Object.entries(ERROR_CODES).flatMap(([status, codes]) =>
      Object.keys(codes).map((code) => [status, `\`${code}\``]),
    );
    expect(rows.map((cells) => [cells[1], cells[2]])).toEqual(expected);
    for (const cells of rows) expect(cells[3]!.length).toBeGreaterThan(0);
  });

  it("shows an example answer of each error code in the envelope, with the details its code documents", () => {
    const validate = ajv.getSchema("openapi.json#/components/schemas/Error")!;
    const seen: string[] = [];
    for (const response of Object.values<Json>(doc.components.responses))
      for (const [code, example] of Object.entries<Json>(response.content["application/json"].examples)) {
        seen.push(code);
        expect(validate(example.value) ? [] : validate.errors, code).toEqual([]);
        expect(example.value.error.code).toBe(code);
        expect(example.value.error.message.length, code).toBeGreaterThan(0);
        expect(example.summary.length, code).toBeGreaterThan(0);
        const { details } = example.value.error;
        if (code === "INVALID_REQUEST") {
          expect(details.length).toBeGreaterThan(0);
          for (const d of details) expect([d.field.length > 0, d.message.length > 0]).toEqual([true, true]);
        } else if (code === "NOT_RUNNING") {
          expect([details.trip_id.length > 0, /^\d{4}-\d{2}-\d{2}$/.test(details.date)]).toEqual([true, true]);
        } else expect(details, code).toBeUndefined();
      }
    // Every code but the preflight's, which no operation answers.
    const operationCodes = Object.entries(ERROR_CODES).flatMap(([status, codes]) =>
      status === "403" ? [] : Object.keys(codes),
    );
    expect(seen.sort()).toEqual(operationCodes.sort());
  });

  it("answers the public operations as documented", async () => {
    const publicPaths = Object.keys(doc.paths).filter((p) => !p.startsWith("/v1/"));
    expect(publicPaths.length).toBeGreaterThan(0);
    for (const path of publicPaths) {
      const res = await get(path, {});
      expect(res.status, path).toBe(200);
      await conforms(res, path);
    }
  });

  it("answers a /v1 operation's 200 and its 304 to the ETag with the documented headers", async () => {
    const url = "/v1/feeds";
    const first = await get(url);
    expect(first.status).toBe(200);
    const etag = first.headers.get("etag")!;
    await conforms(first, url);
    const again = await get(url, { "x-api-key": KEY, "if-none-match": etag });
    expect(again.status).toBe(304);
    await conforms(again, url);
  });

  it("answers a /v1 operation without a key (401) and with a bad number (400) as documented", async () => {
    const url = "/v1/feeds";
    const anonymous = await get(url, {});
    expect(anonymous.status).toBe(401);
    await conforms(anonymous, url);
    const bad = await get("/v1/stops/nearby?lat=1&lon=1&limit=0.5");
    expect(bad.status).toBe(400);
    await conforms(bad, "/v1/stops/nearby");
  });

  it("answers a key over its rate limit (429) as documented", async () => {
    const url = "/v1/feeds";
    let res: Response | undefined;
    for (let i = 0; i < RATE_LIMIT && res?.status !== 429; i++) res = await get(url, { "x-api-key": BURST_KEY });
    expect(res!.status).toBe(429);
    await conforms(res!, url);
  });

  it("answers /ready while shutting down (503, its own body) as documented", async () => {
    app.lifecycle.shuttingDown = true;
    const res = await get("/ready", {});
    expect(res.status).toBe(503);
    await conforms(res, "/ready");
  });
});
