// CORS (the Fetch standard's CORS protocol) for browser pages on the configured origins. A preflight
// (OPTIONS with Access-Control-Request-Method) is answered here, before the app: without the API key
// (browsers never send it on a preflight) and without drawing on the rate limit. Actual answers to an
// allowed origin get Access-Control-Allow-Origin and the response headers a page may read. With no
// origins configured (production's default) none of this runs and no CORS header is ever sent.
// Credentials (cookies) are not how this API authenticates; they are allowed only when configured, and
// never together with "*".
import type { Config } from "../config/schema";
import { errorResponse } from "./errors";

/** What a browser may send on a cross-origin request (besides the CORS-safelisted headers). */
// traceparent/tracestate: pages instrumented with OpenTelemetry continue their trace here.
const ALLOWED_HEADERS = "X-API-Key, Authorization, If-None-Match, X-Request-Id, traceparent, tracestate";
const ALLOWED_METHODS = "GET, HEAD";
/** What a page may read from an answer besides the CORS-safelisted response headers. */
const EXPOSED_HEADERS = "ETag, RateLimit, RateLimit-Policy, Retry-After, X-Request-Id, X-Cache";

export interface Cors {
  /** The answer to a preflight request; undefined for any other request. */
  preflight(request: Request): Response | undefined;
  /** Adds the CORS headers an answer to `request` needs (none when it has no allowed Origin). */
  decorate(request: Request, response: Response): void;
}

type CorsConfig = Pick<Config["api"], "cors_origins" | "cors_credentials" | "cors_max_age">;

export function createCors(config: CorsConfig): Cors | undefined {
  if (config.cors_origins.length === 0) return undefined;
  const any = config.cors_origins.includes("*");
  const listed = new Set(config.cors_origins);
  const credentials = config.cors_credentials && !any;
  /**
   * The Access-Control-Allow-Origin value for a request's Origin, or undefined when not allowed. "*" goes
   * on every answer, to requests without an Origin too: the answer is then the same for everyone, and a
   * shared cache that stored it for a non-browser client can hand it to a page (Fetch standard, "CORS
   * protocol and HTTP caches").
   */
  const allowOrigin = (origin: string | null): string | undefined =>
    any ? "*" : origin !== null && listed.has(origin) ? origin : undefined;
  const varyByOrigin = !any;

  return {
    preflight(request) {
      if (request.method !== "OPTIONS") return undefined;
      const headers = request.headers;
      if (headers.get("access-control-request-method") === null) return undefined;
      const origin = headers.get("origin");
      const allowed = allowOrigin(origin);
      if (allowed === undefined)
        return errorResponse(403, "ORIGIN_NOT_ALLOWED", `origin ${origin ?? "(none)"} may not call this API`);
      const response = new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": allowed,
          "access-control-allow-methods": ALLOWED_METHODS,
          "access-control-allow-headers": ALLOWED_HEADERS,
          "access-control-max-age": String(config.cors_max_age),
          vary: "Access-Control-Request-Method, Access-Control-Request-Headers", // and Origin: decorate
          "cache-control": `public, max-age=${config.cors_max_age}`,
        },
      });
      if (credentials) response.headers.set("access-control-allow-credentials", "true");
      return response;
    },
    decorate(request, response) {
      const headers = response.headers;
      // With listed origins every answer depends on the Origin asked from, those to requests without
      // one included: a shared cache must not hand an answer without CORS headers to a page.
      if (varyByOrigin) headers.append("vary", "Origin");
      const allowed = allowOrigin(request.headers.get("origin"));
      if (allowed === undefined) return;
      headers.set("access-control-allow-origin", allowed);
      headers.set("access-control-expose-headers", EXPOSED_HEADERS);
      if (credentials) headers.set("access-control-allow-credentials", "true");
    },
  };
}
