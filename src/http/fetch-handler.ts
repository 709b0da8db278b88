// Wraps the Elysia app in a web-standard fetch handler: request ids, body limit (413), per-request
// timeout (504), in-flight tracking for graceful shutdown, CORS (src/http/cors.ts), one access log line
// and one metrics record per request, and the request's trace (its span when tracing is on, the
// caller's trace id otherwise).
import type { Config } from "../config/schema";
import type { Lifecycle } from "../lifecycle";
import { createAccessLog } from "../logging/access-log";
import type { Logger } from "../logging/logger";
import type { Metrics } from "../observability/metrics";
import { type Span, type Tracing, traceIdOf } from "../observability/tracing";
import { createCors } from "./cors";
import { errorResponse } from "./errors";
import { attachRequestInfo, createRequestIds, type RequestInfo } from "./request-info";

export interface FetchHandlerDeps {
  config: Config;
  logger: Logger;
  lifecycle: Lifecycle;
  metrics?: Metrics;
  tracing?: Tracing;
}

const VALID_REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface FetchableApp {
  fetch(request: Request): Response | Promise<Response>;
  /** Answers some requests before the app's framework runs (src/app.ts says which); undefined: the app does. */
  shortcut?: (request: Request) => Response | undefined;
}

export function createFetchHandler(
  app: FetchableApp,
  deps: FetchHandlerDeps,
): (request: Request) => Response | Promise<Response> {
  const { config, logger, lifecycle, tracing } = deps;
  const record = deps.metrics?.request ?? (() => {});
  const tracer = tracing?.enabled ? tracing : undefined;
  // Without a Tracing at all (benchmarks' baseline, bare test rigs) not even the header is read.
  const readCallerTrace = tracing !== undefined && tracer === undefined;
  const nextRequestId = createRequestIds();
  const timeoutMs = Math.round(config.api.timeout * 1000);
  const bodyLimit = config.api.body_limit;
  const accessLog = createAccessLog(logger);
  const withDeadline = createDeadlines(timeoutMs);
  const shortcut = app.shortcut;
  const cors = createCors(config.api);

  const finish = (request: Request, info: RequestInfo, started: number, response: Response, span?: Span): Response => {
    lifecycle.requestFinished();
    const durationMs = performance.now() - started;
    const method = request.method;
    response.headers.set("x-request-id", info.id);
    cors?.decorate(request, response);
    // On every answer the budget applied to, errors included (draft-ietf-httpapi-ratelimit-headers).
    if (info.rateLimit !== undefined) {
      response.headers.set("ratelimit-policy", info.rateLimit.policy);
      response.headers.set("ratelimit", info.rateLimit.limit);
    }
    if (lifecycle.shuttingDown) response.headers.set("connection", "close");
    if (span !== undefined) tracer!.endRequest(span, method, info.route, response);
    record(method, info.route, response.status, durationMs / 1000);
    accessLog({
      requestId: info.id,
      traceId: info.traceId,
      client: info.client,
      method,
      route: info.route ?? pathOf(request.url),
      status: response.status,
      durationMs,
    });
    return response;
  };
  const failed = (info: RequestInfo, err: unknown): Response => {
    logger.error(
      { req_id: info.id, trace_id: info.traceId, err: { message: (err as Error)?.message } },
      "unhandled request failure",
    );
    return errorResponse(500, "INTERNAL", "internal server error");
  };

  // Not an async function: a Response returned synchronously (e.g. /health) lets Bun's server write it
  // at once; a Promise, even one already settled, sends every request down its slower async path.
  return (request) => {
    const started = performance.now();
    lifecycle.requestStarted();
    const headers = request.headers;
    const given = headers.get("x-request-id");
    const info: RequestInfo = {
      id: given !== null && VALID_REQUEST_ID.test(given) ? given : nextRequestId(),
      // Tracing off: the caller's trace id (if any) for the log lines, and nothing else.
      traceId: readCallerTrace ? traceIdOf(headers.get("traceparent")) : undefined,
    };
    attachRequestInfo(request, info);
    let span: Span | undefined;
    if (tracer !== undefined) {
      span = tracer.startRequest(request.method, headers);
      info.traceId = span.spanContext().traceId;
    }
    // A declared body over the limit is refused unread (undeclared ones are stopped by the server).
    const length = headers.get("content-length");
    if (length !== null && Number(length) > bodyLimit)
      return finish(
        request,
        info,
        started,
        errorResponse(413, "PAYLOAD_TOO_LARGE", `request body exceeds ${bodyLimit} bytes`),
        span,
      );
    let result: Response | Promise<Response>;
    try {
      result =
        cors?.preflight(request) ??
        shortcut?.(request) ??
        (span === undefined ? app.fetch(request) : tracer!.within(span, () => app.fetch(request)));
    } catch (err) {
      return finish(request, info, started, failed(info, err), span);
    }
    if (result instanceof Response) return finish(request, info, started, result, span);
    return withDeadline(result).then(
      (response) => finish(request, info, started, response, span),
      (err: unknown) => finish(request, info, started, failed(info, err), span),
    );
  };
}

/**
 * Per-request deadlines without a timer per request: one sweep timer resolves every request whose
 * deadline has passed with a 504 (the handler's own work is bounded by the database statement timeout).
 */
function createDeadlines(ms: number) {
  const pending = new Set<{ at: number; resolve: (r: Response) => void }>();
  let sweeper: ReturnType<typeof setInterval> | undefined;
  const sweep = () => {
    const now = performance.now();
    for (const p of pending) {
      if (p.at <= now) {
        pending.delete(p);
        p.resolve(errorResponse(504, "TIMEOUT", `the request did not complete within ${ms / 1000} s`));
      }
    }
    if (pending.size === 0 && sweeper) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };
  const tick = Math.max(5, Math.min(250, ms / 4));
  return (work: Promise<Response>): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const entry = { at: performance.now() + ms, resolve };
      pending.add(entry);
      sweeper ??= setInterval(sweep, tick);
      work.then(
        (response) => {
          pending.delete(entry);
          resolve(response);
        },
        (err) => {
          pending.delete(entry);
          reject(err);
        },
      );
    });
}

export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}
