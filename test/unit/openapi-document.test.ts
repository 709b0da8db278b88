// What the OpenAPI document says about a route, for routes built to show each rule of
// src/http/openapi/document.ts (the service's own document is checked in openapi-contract.test.ts):
// GeoJSON bodies under RFC 7946's media type, tuples that accept exactly their items under JSON Schema
// 2020-12 (which OpenAPI 3.1 uses), a status's own body kept apart from the error envelope, and numeric
// parameters with their step. Schemas are checked by validating values with ajv, not by their shape.
import Ajv2020 from "ajv/dist/2020";
import { type AnyElysia, Elysia, type Static, t } from "elysia";
import { describe, expect, it } from "vitest";
import { ErrorBody } from "../../src/http/contract";
import { openApiDocument } from "../../src/http/openapi/document";

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is untyped JSON here.
type Json = Record<string, any>;

const OPTIONS = { title: "test", version: "0.0.0", description: "test", license: { name: "MIT" } };
const GEOJSON = "application/geo+json";

const Point = t.Object({ type: t.Literal("Point"), coordinates: t.Tuple([t.Number(), t.Number()]) });
const Feature = t.Object({ type: t.Literal("Feature"), geometry: Point, properties: t.Object({ id: t.String() }) });
const FeatureCollection = t.Object({ type: t.Literal("FeatureCollection"), features: t.Array(Feature) });
const Page = t.Object({ data: t.Array(t.Object({ id: t.String() })) });

const feature: Static<typeof Feature> = {
  type: "Feature",
  geometry: { type: "Point", coordinates: [1, 2] },
  properties: { id: "a" },
};
const collection: Static<typeof FeatureCollection> = { type: "FeatureCollection", features: [feature] };
const page = { data: [{ id: "a" }] };

/** The document of `app`, and a validator of the value at a JSON pointer into it. */
function documentOf(app: AnyElysia, examples?: Parameters<typeof openApiDocument>[1]["examples"]) {
  const doc = openApiDocument(app, { ...OPTIONS, examples }) as Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema(JSON.parse(JSON.stringify(doc)), "openapi.json");
  const pointer = (...keys: string[]) => keys.map((k) => k.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
  const accepts = (value: unknown, ...keys: string[]) => {
    const validate = ajv.getSchema(`openapi.json#/${pointer(...keys)}`);
    expect(validate, keys.join(" ")).toBeDefined();
    return validate!(value) as boolean;
  };
  return { doc, accepts };
}

const content = (doc: Json, path: string, status = "200") => doc.paths[path].get.responses[status].content as Json;

describe("the OpenAPI document of a route", () => {
  it("documents a GeoJSON body under application/geo+json, and a negotiated one under both types", () => {
    const app = new Elysia()
      .get("/v1/feature", () => feature, { response: Feature })
      .get("/v1/collection", () => collection, { response: FeatureCollection })
      .get("/v1/either", () => feature, { response: t.Union([Feature, FeatureCollection]) })
      .get("/v1/negotiated", () => page, { response: t.Union([Page, FeatureCollection]) })
      .get("/v1/plain", () => page, { response: Page });
    const { doc, accepts } = documentOf(app);
    expect(Object.keys(content(doc, "/v1/feature"))).toEqual([GEOJSON]);
    expect(Object.keys(content(doc, "/v1/collection"))).toEqual([GEOJSON]);
    expect(Object.keys(content(doc, "/v1/either"))).toEqual([GEOJSON]);
    expect(Object.keys(content(doc, "/v1/negotiated")).sort()).toEqual([GEOJSON, "application/json"]);
    expect(Object.keys(content(doc, "/v1/plain"))).toEqual(["application/json"]);

    const schema = (path: string, type: string) => [
      "paths",
      path,
      "get",
      "responses",
      "200",
      "content",
      type,
      "schema",
    ];
    expect(accepts(feature, ...schema("/v1/feature", GEOJSON))).toBe(true);
    expect(accepts(collection, ...schema("/v1/collection", GEOJSON))).toBe(true);
    // Each body of a union of GeoJSON types is valid GeoJSON of that operation.
    expect(accepts(feature, ...schema("/v1/either", GEOJSON))).toBe(true);
    expect(accepts(collection, ...schema("/v1/either", GEOJSON))).toBe(true);
    expect(accepts(page, ...schema("/v1/either", GEOJSON))).toBe(false);
    // Negotiated: each media type takes its own body only.
    expect(accepts(page, ...schema("/v1/negotiated", "application/json"))).toBe(true);
    expect(accepts(collection, ...schema("/v1/negotiated", "application/json"))).toBe(false);
    expect(accepts(collection, ...schema("/v1/negotiated", GEOJSON))).toBe(true);
    expect(accepts(page, ...schema("/v1/negotiated", GEOJSON))).toBe(false);
  });

  it("shows each media type's example: the GeoJSON one of a negotiated answer, the answer elsewhere", () => {
    const app = new Elysia()
      .get("/v1/negotiated", () => page, { response: t.Union([Page, FeatureCollection]), detail: { operationId: "n" } })
      .get("/v1/shape", () => collection, { response: FeatureCollection, detail: { operationId: "s" } });
    const { doc } = documentOf(app, { n: { answer: page, geojson: collection }, s: { answer: collection } });
    expect(content(doc, "/v1/negotiated")["application/json"].example).toEqual(page);
    expect(content(doc, "/v1/negotiated")[GEOJSON].example).toEqual(collection);
    expect(content(doc, "/v1/shape")[GEOJSON].example).toEqual(collection);
  });

  it("describes a tuple as exactly its items, and an open one (draft 7 without additionalItems) as at least them", () => {
    const Open = t.Unsafe<unknown[]>({ type: "array", items: [{ type: "number" }, { type: "string" }] });
    // Closed by additionalItems alone (TypeBox's tuples also set maxItems).
    const Closed = t.Unsafe<unknown[]>({ type: "array", items: [{ type: "number" }], additionalItems: false });
    const app = new Elysia()
      .get("/pair", () => [1, 2] as [number, number], { response: t.Tuple([t.Number(), t.Number()]) })
      .get("/open", () => [1, "a"], { response: Open })
      .get("/closed", () => [1], { response: Closed });
    const { accepts } = documentOf(app);
    const body = (path: string) => ["paths", path, "get", "responses", "200", "content", "application/json", "schema"];
    expect(accepts([1, 2], ...body("/pair"))).toBe(true);
    expect(accepts([1, 2, 3], ...body("/pair"))).toBe(false);
    expect(accepts([1, "2"], ...body("/pair"))).toBe(false);
    expect(accepts([1, "a"], ...body("/open"))).toBe(true);
    expect(accepts([1, "a", null], ...body("/open"))).toBe(true);
    expect(accepts(["a", 1], ...body("/open"))).toBe(false);
    expect(accepts([1], ...body("/closed"))).toBe(true);
    expect(accepts([1, 2], ...body("/closed"))).toBe(false);
  });

  it("refers to the shared error response for the error envelope only, keeping a status's own body", () => {
    const NotReady = t.Object({ status: t.Literal("not ready") });
    const app = new Elysia()
      .get("/ready", () => ({ status: "not ready" as const }), { response: { 200: Page, 503: NotReady } })
      .get("/text", () => "down", { response: { 200: t.String(), 503: t.String() } })
      .get("/v1/thing", () => page, { response: { 200: Page, 503: ErrorBody } });
    const { doc, accepts } = documentOf(app);
    expect(doc.paths["/v1/thing"].get.responses["503"]).toEqual({ $ref: "#/components/responses/Unavailable" });
    const own = (path: string) => ["paths", path, "get", "responses", "503", "content", "application/json", "schema"];
    expect(accepts({ status: "not ready" }, ...own("/ready"))).toBe(true);
    expect(accepts({ error: { code: "NO_FEED", message: "none" } }, ...own("/ready"))).toBe(false);
    expect(doc.paths["/text"].get.responses["503"].$ref).toBeUndefined();
    expect(accepts({ error: { code: "NO_FEED", message: "none" } }, "components", "schemas", "Error")).toBe(true);
  });

  it("keeps a parameter's description and shows the operation's example value of it", () => {
    const app = new Elysia().get("/v1/find", () => page, {
      query: t.Object({
        q: t.String({ description: "Words of the name" }),
        near: t.Optional(t.String()),
      }),
      response: Page,
      detail: { operationId: "find" },
    });
    const { doc } = documentOf(app, { find: { answer: page, params: { q: "central" } } });
    const param = (name: string) => (doc.paths["/v1/find"].get.parameters as Json[]).find((p) => p.name === name)!;
    expect([param("q").description, param("q").example]).toEqual(["Words of the name", "central"]);
    expect(JSON.parse(JSON.stringify(param("near")))).not.toHaveProperty("example");
  });

  it("shows the example of a public operation's answer too", () => {
    const Health = t.Object({ status: t.String() });
    const app = new Elysia().get("/health", () => ({ status: "ok" }), {
      response: Health,
      detail: { operationId: "health" },
    });
    const { doc } = documentOf(app, { health: { answer: { status: "ok" } } });
    expect(content(doc, "/health")["application/json"].example).toEqual({ status: "ok" });
    expect(doc.paths["/health"].get.security).toEqual([]);
  });

  it("documents a numeric parameter's step, whole numbers as integers", () => {
    const app = new Elysia().get("/v1/grid", () => page, {
      query: t.Object({ step: t.Numeric({ multipleOf: 0.25 }), count: t.Numeric({ multipleOf: 1, minimum: 1 }) }),
      response: Page,
    });
    const { doc, accepts } = documentOf(app);
    const params = doc.paths["/v1/grid"].get.parameters as Json[];
    const schemaOf = (name: string) => [
      "paths",
      "/v1/grid",
      "get",
      "parameters",
      String(params.findIndex((p) => p.name === name)),
      "schema",
    ];
    expect(accepts(1.75, ...schemaOf("step"))).toBe(true);
    expect(accepts(1.3, ...schemaOf("step"))).toBe(false);
    expect(accepts(3, ...schemaOf("count"))).toBe(true);
    expect(accepts(2.5, ...schemaOf("count"))).toBe(false);
    expect(accepts("3", ...schemaOf("count"))).toBe(false);
  });
});
