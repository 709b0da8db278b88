// The OpenAPI document: what @elysiajs/openapi derives from the routes' declared schemas, completed
// with what the routes cannot say. The /v1 key guard is an onRequest hook (src/app.ts), so security is
// added here for every /v1 path; error answers get their status's description, codes and an example
// each (src/http/contract.ts); answers served from prepared bytes get their caching headers and 304;
// numeric query parameters are shown as the numbers they are (Elysia's t.Numeric also accepts the
// string form, and describes it with `default: 0`, below `minimum: 1`); TypeBox's tuples (draft 7's
// array `items`) become 2020-12's `prefixItems`, which OpenAPI 3.1 uses; GeoJSON bodies are documented
// under RFC 7946's media type, which the service answers them with. Built once per app, on first use.
import { toOpenAPISchema } from "@elysiajs/openapi";
import type { AnyElysia } from "elysia";
import { ERROR_CODES, ErrorBody, type ErrorStatus } from "../contract";

type Json = Record<string, unknown>;

export interface OperationExample {
  /** The 200 answer's body, as the operation gives it for `params`. */
  answer: unknown;
  /** The GeoJSON answer of an operation that answers JSON or GeoJSON as asked. */
  geojson?: unknown;
  /** Path and query parameters the answer was given for (shown as the parameters' examples). */
  params?: Record<string, string | number>;
}

export interface DocumentOptions {
  title: string;
  version: string;
  description: string;
  license: { name: string; identifier?: string; url?: string };
  /** By operationId. */
  examples?: Record<string, OperationExample>;
}

/** Paths under this prefix need an API key (the guard in src/app.ts checks the same prefix). */
const KEYED_PREFIX = "/v1";
const SECURITY = [{ apiKey: [] }, { bearer: [] }];

// Stryker disable StringLiteral: what the headers and the error responses are, in words (prose).
const HEADER_DESCRIPTIONS = {
  ETag: "Weak validator of this answer; send it back in `If-None-Match` to get a 304",
  "Cache-Control": "How long the answer may be kept (feed data: public, bounded by its window)",
  Vary: "`Accept-Encoding` (when compressible), the API key headers, `Accept` where negotiated, `Origin` with CORS",
  "X-Cache": "Whether the answer came from the cache",
  RateLimit: "The key's remaining quota and when it resets (draft-ietf-httpapi-ratelimit-headers)",
  "RateLimit-Policy": "The key's quota and its window (draft-ietf-httpapi-ratelimit-headers)",
  "Retry-After": "Seconds until a request is allowed again",
  "WWW-Authenticate": "`Bearer realm=…`",
};
const ERROR_TITLES: Record<ErrorStatus, string> = {
  400: "Bad request",
  401: "No valid API key",
  403: "Origin not allowed",
  404: "Not found",
  429: "Too many requests",
  500: "Internal error",
  503: "Service unavailable",
  504: "Timed out",
};
// Stryker restore StringLiteral

const STRING = { type: "string" };
/**
 * Response headers: `required` ones come with every answer of the kind, the others when the service's
 * configuration adds them (test/unit/openapi-contract.test.ts compares the service's answers).
 */
const headers = (
  names: { [name in keyof typeof HEADER_DESCRIPTIONS]?: { schema?: Json; required?: true } },
): Record<string, Json> =>
  Object.fromEntries(
    Object.entries(names).map(([name, { schema = STRING, required }]) => [
      name,
      {
        description: HEADER_DESCRIPTIONS[name as keyof typeof HEADER_DESCRIPTIONS],
        schema,
        ...(required && { required }),
      },
    ]),
  );

/** On /v1 answers the rate limit has counted (src/app.ts), with a limit configured (`api.rate_limit`). */
const RATE_LIMITED = { RateLimit: {}, "RateLimit-Policy": {} };
const RATE_LIMIT_HEADERS = headers(RATE_LIMITED);

const ERROR_RESPONSES: Record<ErrorStatus, { name: string; headers?: Json }> = {
  400: { name: "InvalidRequest", headers: RATE_LIMIT_HEADERS },
  // Answered before the rate limit counts the request.
  401: { name: "Unauthorized", headers: headers({ "WWW-Authenticate": { required: true } }) },
  // Answered to CORS preflights (OPTIONS, src/http/cors.ts), which are not operations of the document.
  403: { name: "OriginNotAllowed" },
  404: { name: "NotFound", headers: RATE_LIMIT_HEADERS },
  429: {
    name: "RateLimited",
    headers: headers({
      "Retry-After": { schema: { type: "integer" }, required: true },
      RateLimit: { required: true },
      "RateLimit-Policy": { required: true },
    }),
  },
  500: { name: "Internal", headers: RATE_LIMIT_HEADERS },
  503: { name: "Unavailable", headers: RATE_LIMIT_HEADERS },
  504: { name: "Timeout", headers: RATE_LIMIT_HEADERS },
};

/** Headers of an answer served from prepared bytes (src/http/answer.ts), and of its 304 (RFC 9110 15.4.5). */
const CACHED_HEADERS = headers({
  ETag: { required: true },
  "Cache-Control": { required: true },
  Vary: {},
  "X-Cache": { schema: { enum: ["hit", "miss"] }, required: true },
  ...RATE_LIMITED,
});

const ERROR_SCHEMA_REF = { $ref: "#/components/schemas/Error" };

export function openApiDocument(app: AnyElysia, options: DocumentOptions): Json {
  const generated = toOpenAPISchema(app) as {
    paths: Record<string, Record<string, Json>>;
    components: { schemas: Json };
  };
  const paths: Record<string, Record<string, Json>> = {};
  /** The shared error responses operations refer to (only those are components: no unused ones). */
  const used = new Set<string>();
  for (const [path, item] of Object.entries(generated.paths)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(item)) {
      const responses = (op.responses ?? {}) as Record<string, Json>;
      const example = options.examples?.[op.operationId as string];
      const out: Json = { ...op, parameters: (op.parameters as Json[] | undefined)?.map((p) => parameter(p, example)) };
      if (!out.parameters) delete out.parameters;
      // Public operations say so; /v1 ones take the document's (root) security.
      if (!path.startsWith(`${KEYED_PREFIX}/`)) out.security = [];
      const documented: Record<string, Json> = {};
      for (const [status, response] of Object.entries(responses)) {
        const code = Number(status) as ErrorStatus;
        if (code in ERROR_RESPONSES && isErrorEnvelope(response)) {
          documented[status] = { $ref: `#/components/responses/${ERROR_RESPONSES[code].name}` };
          used.add(ERROR_RESPONSES[code].name);
        } else if (status === "200" && path.startsWith(`${KEYED_PREFIX}/`)) {
          documented[status] = withExample({ ...byMediaType(response), headers: CACHED_HEADERS }, example);
          documented["304"] = {
            // Stryker disable next-line StringLiteral: prose.
            description: "Not modified: `If-None-Match` holds this answer's ETag (no body)",
            headers: CACHED_HEADERS,
          };
        } else documented[status] = withExample(response, status === "200" ? example : undefined);
      }
      out.responses = documented;
      paths[path][method] = out;
    }
  }
  return {
    openapi: "3.1.1",
    info: {
      title: options.title,
      version: options.version,
      description: `${options.description}\n\n${errorTable()}`,
      license: options.license,
    },
    servers: [
      {
        url: "/",
        // Stryker disable next-line StringLiteral: prose.
        description: "This server (the document is served by the API it describes)",
      },
    ],
    security: SECURITY,
    tags: [
      {
        name: "transit",
        // Stryker disable next-line StringLiteral: prose.
        description: "The active GTFS feed: stops, routes, trips, departure boards (API key)",
      },
      {
        name: "geometry",
        // Stryker disable next-line StringLiteral: prose.
        description: "The lines routes and trips follow, as GeoJSON for maps (API key)",
      },
      {
        name: "operations",
        // Stryker disable next-line StringLiteral: prose.
        description: "Liveness, readiness, build (public)",
      },
    ],
    paths: toPrefixItems(paths),
    components: {
      // The TypeBox schema as JSON (its symbols, which only TypeBox reads, drop out).
      schemas: toPrefixItems({ ...generated.components.schemas, Error: JSON.parse(JSON.stringify(ErrorBody)) }),
      responses: Object.fromEntries(
        Object.entries(ERROR_RESPONSES)
          .filter(([, r]) => used.has(r.name))
          .map(([status, r]) => [
            r.name,
            {
              // Stryker disable next-line StringLiteral: prose.
              description: `${ERROR_TITLES[Number(status) as ErrorStatus]}: ${Object.keys(ERROR_CODES[Number(status) as ErrorStatus]).join(", ")}`,
              ...(r.headers ? { headers: r.headers } : {}),
              content: {
                "application/json": {
                  schema: ERROR_SCHEMA_REF,
                  examples: Object.fromEntries(
                    Object.entries(ERROR_CODES[Number(status) as ErrorStatus]).map(([code, when]) => [
                      code,
                      { summary: when, value: { error: exampleError(code) } },
                    ]),
                  ),
                },
              },
            },
          ]),
      ),
      securitySchemes: {
        apiKey: {
          type: "apiKey",
          in: "header",
          name: "X-API-Key",
          // Stryker disable next-line StringLiteral: prose.
          description: "The API key",
        },
        // Stryker disable next-line StringLiteral: prose.
        bearer: { type: "http", scheme: "bearer", description: "The same API key, as `Authorization: Bearer <key>`" },
      },
    },
  };
}

const GEOJSON = "application/geo+json";
const isGeoJson = (schema: Json) =>
  ["Feature", "FeatureCollection"].includes(
    (schema.properties as { type?: { const?: string } } | undefined)?.type?.const ?? "",
  );

/**
 * A 200 whose body is GeoJSON (its `type` member says so) under application/geo+json (RFC 7946 12), and
 * one that is JSON or GeoJSON as negotiated (`anyOf` of both) split into the two media types.
 */
function byMediaType(response: Json): Json {
  const content = response.content as Record<string, { schema: Json }> | undefined;
  const schema = content?.["application/json"]?.schema;
  if (!schema) return response;
  const variants = (schema.anyOf as Json[] | undefined) ?? [schema];
  const geo = variants.filter(isGeoJson);
  if (geo.length === 0) return response;
  const json = variants.filter((v) => !isGeoJson(v));
  const one = (list: Json[]) => (list.length === 1 ? list[0]! : { anyOf: list });
  return {
    ...response,
    // Stryker disable next-line StringLiteral,ConditionalExpression,EqualityOperator: which words describe it (prose).
    description: response.description === "Response for status 200" ? "The answer" : response.description,
    content: {
      ...(json.length ? { "application/json": { schema: one(json) } } : {}),
      [GEOJSON]: { schema: one(geo) },
    },
  };
}

/**
 * Draft 7 tuples, as TypeBox writes them (`items: [a, b]`, `additionalItems: false`), in JSON Schema
 * 2020-12's words (`prefixItems: [a, b]`, `items: false`), everywhere in `node`.
 */
function toPrefixItems<T>(node: T): T {
  if (Array.isArray(node)) return node.map(toPrefixItems) as T;
  if (!node || typeof node !== "object") return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) out[key] = toPrefixItems(value);
  if (Array.isArray(out.items)) {
    out.prefixItems = out.items;
    if (out.additionalItems === false) out.items = false;
    else delete out.items;
    delete out.additionalItems;
  }
  return out as T;
}

/** Whether a generated response is the error envelope (ErrorBody), not an operation's own body (/ready's 503). */
function isErrorEnvelope(response: Json): boolean {
  const schema = (response.content as Record<string, { schema?: Json }> | undefined)?.["application/json"]?.schema;
  const properties = schema?.properties as Json | undefined;
  return properties !== undefined && Object.keys(properties).join() === "error";
}

/** A query or path parameter as documented: numbers as numbers, with the default the handler applies. */
function parameter(p: Json, example: OperationExample | undefined): Json {
  let schema = p.schema as Json;
  const numeric = (schema.anyOf as Json[] | undefined)?.find((s) => s.type === "number" || s.type === "integer");
  if (numeric) {
    const { "x-default": fallback, multipleOf, ...rest } = numeric;
    schema = {
      ...rest,
      ...(multipleOf === 1 ? { type: "integer" } : multipleOf !== undefined ? { multipleOf } : {}),
      ...(fallback !== undefined ? { default: fallback } : {}),
    };
  }
  const value = example?.params?.[p.name as string];
  const { description, ...schemaRest } = schema;
  return {
    ...p,
    ...(description ? { description } : {}),
    schema: schemaRest,
    ...(value !== undefined ? { example: value } : {}),
  };
}

/** The example in each media type: `answer`, or `geojson` for the GeoJSON one of a negotiated answer. */
function withExample(response: Json, example: OperationExample | undefined): Json {
  if (example === undefined) return response;
  const content = response.content as Record<string, Json>;
  const types = Object.keys(content);
  const exampleOf = (type: string) => (type === GEOJSON && types.length > 1 ? example.geojson : example.answer);
  return {
    ...response,
    content: Object.fromEntries(
      Object.entries(content).map(([type, media]) => {
        const value = exampleOf(type);
        return [type, value === undefined ? media : { ...media, example: value }];
      }),
    ),
  };
}

/** An answer of each code, worded as the service words it (src/http/errors.ts and the routes). */
// Stryker disable StringLiteral: the examples' wording (prose); their shape is tested.
const exampleError = (code: string): { code: string; message: string; details?: unknown } =>
  ({
    INVALID_REQUEST: {
      code,
      message: "invalid query parameter 'limit': must be a whole number from 1 to 500",
      details: [{ field: "limit", message: "must be a whole number from 1 to 500" }],
    },
    UNAUTHORIZED: { code, message: "a valid API key is required (X-API-Key or Authorization: Bearer)" },
    NOT_FOUND: { code, message: "stop nowhere not found" },
    NOT_RUNNING: {
      code,
      message: "trip a-downtown-all-day does not run on 2019-12-25",
      details: { trip_id: "a-downtown-all-day", date: "2019-12-25" },
    },
    RATE_LIMITED: { code, message: "too many requests, retry in 2 s" },
    INTERNAL: { code, message: "internal server error" },
    NO_FEED: { code, message: "no GTFS feed has been imported yet (run `import <feed>`)" },
    DATABASE_UNAVAILABLE: { code, message: "the database is unavailable, try again shortly" },
    TIMEOUT: { code, message: "the request did not complete within 30 s" },
    QUERY_TIMEOUT: { code, message: "the query took too long" },
  })[code] ?? { code, message: code };
// Stryker restore StringLiteral

/** The codes in Markdown, for the document's description. */
function errorTable(): string {
  const rows = Object.entries(ERROR_CODES).flatMap(([status, codes]) =>
    Object.entries(codes).map(([code, when]) => `| ${status} | \`${code}\` | ${when} |`),
  );
  return [
    // Stryker disable next-line StringLiteral: prose.
    "Every /v1 request needs the API key, as `X-API-Key: <key>` or `Authorization: Bearer <key>`.",
    // Stryker disable next-line StringLiteral: prose.
    'Every failure is answered with `{"error": {"code", "message", "details?"}}`; codes are stable, messages may be reworded:',
    "",
    "| status | code | when |",
    "| --- | --- | --- |",
    ...rows,
  ].join("\n");
}
