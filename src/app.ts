// createApp(deps) builds the HTTP application from injected dependencies. Only web-standard APIs here,
// so the same app runs under Bun (src/main.ts) and under Node (tests call app.handle(request)).
import { Elysia } from "elysia";
import type { Cache } from "./cache/cache";
import type { Config } from "./config/schema";
import type { Database } from "./db/database";
import { ApiError, classifyError, errorResponse } from "./http/errors";
import { pathOf } from "./http/fetch-handler";
import { createKeyRing, presentedKey } from "./http/key-ring";
import { docsPage } from "./http/openapi/docs-page";
import { openApiDocument } from "./http/openapi/document";
import { createLocalRateLimiter, type RateLimiter, rateLimitHeaders } from "./http/rate-limit";
import { requestInfo } from "./http/request-info";
import { urlProblem } from "./http/url-safety";
import type { Lifecycle } from "./lifecycle";
import type { Logger } from "./logging/logger";
import { gtfsExamples } from "./modules/gtfs/api/examples";
import { gtfsRoutes } from "./modules/gtfs/api/routes";
import { healthExamples, healthRoutes } from "./modules/health/health.routes";
import { createHealthService } from "./modules/health/health.service";
import type { RealtimeService } from "./modules/realtime/service";
import type { Metrics } from "./observability/metrics";

export interface AppDeps {
  config: Config;
  logger: Logger;
  database: Database;
  cache: Cache;
  lifecycle: Lifecycle;
  /** Shared through Redis by the runtime; in process when not given and `api.rate_limit` is set. */
  rateLimiter?: RateLimiter;
  /** GTFS-Realtime (src/modules/realtime); absent in one-shot commands and tests that do not need it. */
  realtime?: RealtimeService;
  /** Readiness per check and rate-limited requests are recorded here when given. */
  metrics?: Metrics;
}

/**
 * The licence the OpenAPI document states. The repository has chosen none yet (no LICENSE file, no
 * `license` in package.json), so none is granted: npm's term for that, until the owner picks one.
 */
const API_LICENSE = {
  name: "UNLICENSED",
  url: "https://docs.npmjs.com/cli/v11/configuring-npm/package-json#license",
};

export function createApp(deps: AppDeps) {
  const { config, logger } = deps;
  const keys = createKeyRing({ keys: config.api.api_keys, file: config.api.api_keys_file, logger });
  if (!keys) logger.warn("API_KEY is not set: /v1 is open to everyone (development only)");
  const limiter =
    deps.rateLimiter ?? (config.api.rate_limit > 0 ? createLocalRateLimiter(config.api.rate_limit) : undefined);
  let allowedMethods: ((path: string) => string[]) | undefined;
  const v1 = gtfsRoutes(deps);

  /** The API key and parameter encoding for /v1 paths: a response when the request is turned away. */
  const guardV1 = (request: Request): Response | undefined => {
    const url = request.url;
    if (!isV1(url)) return undefined;
    // The key's name, never the key, identifies the client from here on (access log, rate limit).
    const client = keys?.nameOf(presentedKey(request.headers));
    if (keys && client === undefined)
      return errorResponse(
        401,
        "UNAUTHORIZED",
        "a valid API key is required (X-API-Key or Authorization: Bearer)",
        undefined,
        {
          "www-authenticate": 'Bearer realm="transportation-api"',
        },
      );
    if (client !== undefined) {
      const info = requestInfo(request);
      if (info) info.client = client;
    }
    const problem = urlProblem(url);
    if (problem !== undefined) return errorResponse(400, "INVALID_REQUEST", problem);
    return undefined;
  };

  /**
   * Draws on the client's budget before a /v1 route runs. A separate hook from the key check: the
   * budget may live in Redis (a round trip), and an asynchronous onRequest hook would make Elysia
   * answer every route asynchronously, /health included. Unknown /v1 paths are not counted.
   */
  const limitV1 = async ({ request }: { request: Request }): Promise<Response | undefined> => {
    if (!limiter) return undefined;
    const info = requestInfo(request);
    const decision = await limiter.take(info?.client ?? "anonymous");
    const headers = rateLimitHeaders(limiter.perMinute, decision);
    if (info) info.rateLimit = headers;
    if (decision.allowed) return v1.recent.lookup(request);
    deps.metrics?.rateLimited();
    const wait = Math.max(1, Math.ceil(decision.nextMs / 1000));
    return errorResponse(429, "RATE_LIMITED", `too many requests, retry in ${wait} s`, undefined, {
      "retry-after": String(wait),
      "ratelimit-policy": headers.policy,
      ratelimit: headers.limit,
    });
  };

  /**
   * A GET of a /v1 URL answered before (src/http/recent-answers.ts), answered again before the framework
   * runs: no routing, parsing or validation, synchronously. Only with a valid key, and only without a
   * rate limit (whose budget is drawn after routing; limitV1 then serves it). Anything else is left to
   * the app, which checks the key again (a URL not remembered costs no digest here).
   */
  const shortcut = limiter
    ? undefined
    : (request: Request): Response | undefined => {
        const url = request.url;
        if (!isV1(url)) return undefined;
        const entry = v1.recent.match(request, url);
        if (entry === undefined) return undefined;
        const client = keys?.nameOf(presentedKey(request.headers));
        if (keys && client === undefined) return undefined;
        if (client !== undefined) {
          const info = requestInfo(request);
          if (info) info.client = client;
        }
        return v1.recent.serve(request, entry);
      };

  const app = new Elysia({ name: "transportation-api" })
    .use(
      docsPage({
        title: "transportation-api",
        compression: { enabled: config.api.compression, minBytes: config.api.compression_min_bytes },
        document: (): Record<string, unknown> =>
          openApiDocument(app, {
            title: "transportation-api",
            version: config.app.version,
            description: "GTFS public-transit data API: stops, routes, trips and departure boards of the active feed.",
            license: API_LICENSE,
            examples: { ...healthExamples, ...gtfsExamples },
          }),
      }),
    )
    // /v1 needs the API key; /health, /ready, /version and /swagger stay public.
    // Elysia decides from a hook's source text whether it may be async (any `return f(` counts) and
    // then answers every route with a Promise, which costs Bun's server its synchronous fast path:
    // keep this hook's body free of that pattern (test/unit/sync-fast-path.test.ts guards it).
    .onRequest(({ request }) => {
      const denied = guardV1(request);
      if (denied) return denied;
    })
    .onBeforeHandle({ as: "global" }, ({ request, route }) => {
      const info = requestInfo(request);
      if (info) info.route = route;
    })
    .onError({ as: "global" }, ({ code, error, request }) => {
      const info = requestInfo(request);
      const requestId = info?.id ?? request.headers.get("x-request-id") ?? undefined;
      // ApiError carries its own code (e.g. NOT_FOUND), which Elysia reports as `code`: handle it first.
      if (error instanceof ApiError) return errorResponse(error.status, error.code, error.message, error.details);
      switch (code) {
        case "NOT_FOUND": {
          const path = pathOf(request.url);
          allowedMethods ??= methodsByPath(app.routes);
          const allowed = allowedMethods(path);
          if (allowed.length > 0 && !allowed.includes(request.method))
            return errorResponse(405, "METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${path}`, undefined, {
              allow: allowed.join(", "),
            });
          return errorResponse(404, "NOT_FOUND", `no route for ${request.method} ${path}`);
        }
        case "VALIDATION": {
          // Query parameters declared with NumberParam carry their name and rule.
          const custom = (error as { customError?: { field?: unknown; message?: unknown } }).customError;
          if (typeof custom?.field === "string" && typeof custom.message === "string")
            return errorResponse(
              400,
              "INVALID_REQUEST",
              `invalid query parameter '${custom.field}': ${custom.message}`,
              [{ field: custom.field, message: custom.message }],
            );
          // Malformed query/path parameters are 400; a well-formed body that breaks the schema is 422.
          const isBody = (error as { type?: string }).type === "body";
          return errorResponse(
            isBody ? 422 : 400,
            isBody ? "UNPROCESSABLE_ENTITY" : "INVALID_REQUEST",
            validationMessage(error),
            validationDetails(error),
          );
        }
        case "PARSE":
          return errorResponse(400, "INVALID_BODY", "the request body could not be parsed");
        case "INVALID_FILE_TYPE":
        case "INVALID_COOKIE_SIGNATURE":
          return errorResponse(400, "BAD_REQUEST", "bad request");
      }
      const apiError = error instanceof ApiError ? error : classifyError(error);
      if (apiError.status >= 500) {
        const e = error as { message?: string; code?: string };
        logger.error(
          { req_id: requestId, trace_id: info?.traceId, err: { message: e?.message, code: e?.code } },
          "request failed",
        );
      }
      return errorResponse(apiError.status, apiError.code, apiError.message, apiError.details);
    })
    .use(healthRoutes(createHealthService(deps)))
    // Feature modules mount here, under /v1 (the API key check above covers every /v1 path), behind
    // the rate limit (a plugin's local hook applies to the routes of the plugins it uses).
    .use(limiter ? new Elysia({ name: "v1-rate-limit" }).onBeforeHandle(limitV1).use(v1.plugin) : v1.plugin);
  return Object.assign(app, { shortcut });
}

/** The application's type: what the typed client (src/client) is derived from. */
export type App = ReturnType<typeof createApp>;

/** Whether the URL's path is /v1 or under it, read in place (no substring per request: /health's hot path). */
function isV1(url: string): boolean {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0 || !url.startsWith("/v1", start)) return false;
  const next = url.charCodeAt(start + 3);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
}

type RouteList = { method: string; path: string }[];

/** For 405s: which methods exist for a path, from the registered route templates. */
function methodsByPath(routes: RouteList): (path: string) => string[] {
  const compiled = routes.map((r) => ({
    method: r.method,
    re: new RegExp(
      `^${r.path
        .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
        .replace(/:[^/]+/g, "[^/]+")
        .replace(/\*/g, ".*")}/?$`,
    ),
  }));
  return (path) => [...new Set(compiled.filter((c) => c.re.test(path)).map((c) => c.method))];
}

function validationMessage(error: unknown): string {
  const e = error as { type?: string; value?: unknown; valueError?: { path?: string; message?: string } };
  const field = e.valueError?.path ? e.valueError.path.replace(/^\//, "").replaceAll("/", ".") : undefined;
  const problem = e.valueError?.message ?? "invalid value";
  if (field) return `invalid ${e.type ?? "request"} parameter '${field}': ${problem}`;
  // A single decoded parameter (e.g. t.Numeric with bounds) is checked without its name; say what was sent.
  if (e.type === "property") return `invalid parameter value ${JSON.stringify(e.value)}: ${problem}`;
  return `invalid ${e.type ?? "request"}: ${problem}`;
}

function validationDetails(error: unknown): unknown {
  const all = (error as { all?: { path?: string; message?: string }[] }).all;
  if (!Array.isArray(all)) return undefined;
  return all.slice(0, 10).map((v) => {
    const field = (v.path ?? "").replace(/^\//, "").replaceAll("/", ".");
    return field ? { field, message: v.message } : { message: v.message };
  });
}
