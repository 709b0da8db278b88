// The OpenAPI document checked against the service it describes: every operation is called with the
// parameters the document gives as examples, on PostgreSQL with the sample feed imported, and each
// answer is validated (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it) against the schema the document
// declares for its status: the 200 body, the 304 to its ETag, and the error envelope for a missing key,
// an unknown id and a bad parameter. A GTFS-Realtime alerts source (a local server with a feed built by
// the official bindings) gives /v1/alerts an alert to answer with.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importFeed } from "../../src/modules/gtfs/import/importer";
import { createRealtimeService } from "../../src/modules/realtime/service";
import { SAMPLE_DIR, SLOW } from "../gtfs/helpers";
import { encodeFeed, type FeedServer, startFeedServer } from "../realtime/helpers";
import { REPO_ROOT } from "../support/repo";
import { createTestDatabase, type TestDatabase } from "../support/services";
import { createTestApp, type TestApp } from "../support/test-app";

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is untyped JSON here.
type Json = Record<string, any>;
const KEY = "contract-key-0123456789";

interface Operation {
  method: string;
  path: string;
  op: Json;
}

describe("every operation answers as its OpenAPI document says", () => {
  let db: TestDatabase;
  let app: TestApp;
  let doc: Json;
  let ajv: Ajv2020;
  let feedServer: FeedServer;
  const operations: Operation[] = [];

  beforeAll(async () => {
    db = await createTestDatabase("contract");
    feedServer = await startFeedServer();
    app = await createTestApp(
      { DATABASE_URL: db.url, API_KEY: KEY, GTFS_RT_ALERTS_URL: feedServer.url("/alerts") },
      { realtime: (deps) => createRealtimeService(deps) },
    );
    await importFeed({ location: SAMPLE_DIR, database: app.database, connectionString: db.url, keepVersions: 2 });
    // An alert for route B, which none of docs/api.md's examples shows, always active (no period).
    const alert = {
      id: "tram-works",
      alert: {
        informedEntity: [{ routeId: "B" }],
        cause: "MAINTENANCE",
        effect: "REDUCED_SERVICE",
        headerText: { translation: [{ text: "Tram works", language: "en" }] },
      },
    };
    feedServer.set({ kind: "feed", bytes: encodeFeed(Math.floor(Date.now() / 1000), [alert]) }, "/alerts");
    expect(await app.realtime!.pollNow("alerts")).toBe("published");
    doc = await (await app.fetch("/swagger/json")).json();
    for (const [path, item] of Object.entries<Json>(doc.paths))
      for (const [method, op] of Object.entries<Json>(item))
        operations.push({ method: method.toUpperCase(), path, op });
    // The document is registered whole, so `$ref`s inside a schema resolve against it.
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(doc, "openapi.json");
  }, SLOW);
  afterAll(async () => {
    await app?.close();
    await feedServer?.close();
    await db?.drop();
  }, SLOW);

  /** The response object for `status`, its `$ref` followed. */
  const responseOf = (op: Json, status: number): Json => {
    const r = op.responses[String(status)];
    expect(r, `no ${status} documented`).toBeDefined();
    if (!r.$ref) return r;
    return (r.$ref as string)
      .slice(2)
      .split("/")
      .reduce((node: Json, key) => node[key.replaceAll("~1", "/").replaceAll("~0", "~")], doc);
  };

  /** Asserts the body conforms to the documented JSON schema of `status`, naming the failures. */
  const conforms = (o: Operation, status: number, body: unknown, mediaType = "application/json") => {
    const pointer = `openapi.json#/paths/${o.path.replaceAll("~", "~0").replaceAll("/", "~1")}/${o.method.toLowerCase()}/responses/${status}`;
    const documented = o.op.responses[String(status)];
    const ref = documented?.$ref ? `openapi.json${documented.$ref}` : pointer;
    responseOf(o.op, status); // documented at all
    const validate = ajv.getSchema(`${ref}/content/${mediaType.replaceAll("/", "~1")}/schema`);
    expect(validate, `${o.method} ${o.path} ${status}: no ${mediaType} schema`).toBeDefined();
    const ok = validate!(body);
    expect(
      ok ? [] : validate!.errors,
      `${o.method} ${o.path} ${status}: ${JSON.stringify(body).slice(0, 300)}`,
    ).toEqual([]);
  };

  /** The URL for an operation from its parameters' examples (required ones must have one). */
  const urlOf = (o: Operation, override: Record<string, string> = {}) => {
    let path = o.path;
    const query = new URLSearchParams();
    for (const p of (o.op.parameters ?? []) as Json[]) {
      const value = override[p.name] ?? (p.example === undefined ? undefined : String(p.example));
      if (value === undefined) {
        expect(p.required, `${o.method} ${o.path}: required parameter ${p.name} has no example`).toBe(false);
        continue;
      }
      if (p.in === "path") path = path.replace(`{${p.name}}`, encodeURIComponent(value));
      else query.set(p.name, value);
    }
    return query.size ? `${path}?${query}` : path;
  };

  const call = (o: Operation, url: string, headers: Record<string, string> = { "x-api-key": KEY }) =>
    app.fetch(url, { method: o.method, headers });

  it("answers 200 with the documented body in each documented media type, and 304 to its ETag", async () => {
    expect(operations.length).toBeGreaterThanOrEqual(15);
    for (const o of operations) {
      const url = urlOf(o);
      // Each media type the 200 documents, asked for through Accept (JSON or GeoJSON, as negotiated).
      for (const mediaType of Object.keys(responseOf(o.op, 200).content)) {
        const res = await call(o, url, { "x-api-key": KEY, accept: mediaType });
        const body = await res.json();
        const where = `${o.method} ${url} (${mediaType})`;
        expect(res.status, `${where}: ${JSON.stringify(body)}`).toBe(200);
        expect(res.headers.get("content-type")?.split(";")[0], where).toBe(mediaType);
        conforms(o, 200, body, mediaType);
        // Lists are not empty (the sample feed, the alert above): the schema is checked against real items.
        const items = (body as Json).data ?? (body as Json).features;
        if (Array.isArray(items)) expect(items.length, where).toBeGreaterThan(0);
        if (o.op.responses["304"]) {
          for (const [header, documented] of Object.entries<Json>(responseOf(o.op, 200).headers ?? {}))
            if (documented.required) expect(res.headers.get(header), `${where} ${header}`).not.toBeNull();
          const again = await call(o, url, {
            "x-api-key": KEY,
            accept: mediaType,
            "if-none-match": res.headers.get("etag")!,
          });
          expect(again.status, where).toBe(304);
          expect(await again.text()).toBe("");
        }
      }
    }
  });

  it("answers the documented error envelope without a key (401), for an unknown id (404) and a bad parameter (400)", async () => {
    let checked404 = 0;
    let checked400 = 0;
    for (const o of operations.filter((x) => x.path.startsWith("/v1/"))) {
      const url = urlOf(o);
      const anonymous = await call(o, url, {});
      expect(anonymous.status, url).toBe(401);
      conforms(o, 401, await anonymous.json());

      const pathParam = ((o.op.parameters ?? []) as Json[]).find((p) => p.in === "path");
      if (pathParam) {
        const missing = await call(o, urlOf(o, { [pathParam.name]: "no-such-id" }));
        expect(missing.status, o.path).toBe(404);
        conforms(o, 404, await missing.json());
        checked404++;
      }
      const numeric = ((o.op.parameters ?? []) as Json[]).find((p) => p.schema.type === "integer");
      if (numeric) {
        const bad = await call(o, urlOf(o, { [numeric.name]: "0.5" }));
        expect(bad.status, o.path).toBe(400);
        const body = await bad.json();
        conforms(o, 400, body);
        expect(body.error.details, o.path).toEqual([{ field: numeric.name, message: expect.any(String) }]);
        checked400++;
      }
    }
    expect(checked404).toBe(6);
    expect(checked400).toBeGreaterThanOrEqual(5);
  });

  it("answers each example request of docs/api.md with the answer shown there", async () => {
    const docs = readFileSync(join(REPO_ROOT, "docs/api.md"), "utf8");
    const endpoints = docs.slice(
      docs.indexOf("\n## Endpoints\n"),
      docs.indexOf("\n## ", docs.indexOf("\n## Endpoints\n") + 5),
    );
    const examples = [...endpoints.matchAll(/```http\nGET (\S+)\n[^`]*```\n\n```json\n([^`]+)```/g)];
    expect(examples.length).toBe(9);
    for (const [, url, shown] of examples) {
      const res = await app.fetch(url!, { headers: { "x-api-key": KEY } });
      expect(res.status, url).toBe(200);
      const real = await res.json();
      // "…" in the docs stands for whatever the service answers there (ids and times of an import).
      expect(real, url).toEqual(withWildcards(JSON.parse(shown!), real));
    }
  });
});

/** `shown` with each "…" replaced by the value at the same place in `real`. */
function withWildcards(shown: unknown, real: unknown): unknown {
  if (shown === "…") return real;
  if (Array.isArray(shown)) return shown.map((v, i) => withWildcards(v, (real as unknown[] | undefined)?.[i]));
  if (shown && typeof shown === "object")
    return Object.fromEntries(
      Object.entries(shown).map(([k, v]) => [k, withWildcards(v, (real as Record<string, unknown> | undefined)?.[k])]),
    );
  return shown;
}
