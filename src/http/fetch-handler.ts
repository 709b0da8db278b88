// Wraps the Elysia app in a web-standard fetch handler: request ids, body limit (413), per-request
// timeout (504), in-flight tracking for graceful shutdown, and one access log line per request.
import { randomUUID } from "node:crypto";
import type { Config } from "../config/schema";
import type { Lifecycle } from "../lifecycle";
import { createAccessLog } from "../logging/access-log";
import type { Logger } from "../logging/logger";
import { errorResponse } from "./errors";

export interface FetchHandlerDeps {
  config: Config;
  logger: Logger;
  lifecycle: Lifecycle;
  /** Filled by the app with each request's route template (low-cardinality access logs). */
  requestRoutes: WeakMap<Request, string>;
}

const VALID_REQUEST_ID = /^[\w.:-]{1,128}$/;

export function requestIdOf(request: Request): string {
  return request.headers.get("x-request-id") ?? "";
}

export function createFetchHandler(
  app: { fetch(request: Request): Response | Promise<Response> },
  deps: FetchHandlerDeps,
): (request: Request) => Promise<Response> {
  const { config, logger, lifecycle, requestRoutes } = deps;
  const timeoutMs = Math.round(config.api.timeout * 1000);
  const bodyLimit = config.api.body_limit;
  const accessLog = createAccessLog(logger);
  const withDeadline = createDeadlines(timeoutMs);

  return async (incoming) => {
    const started = performance.now();
    lifecycle.requestStarted();
    let request = incoming;
    let requestId = incoming.headers.get("x-request-id");
    if (!requestId || !VALID_REQUEST_ID.test(requestId)) {
      requestId = randomUUID();
      request = withHeader(incoming, "x-request-id", requestId);
    }
    let response: Response;
    try {
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > bodyLimit) {
        response = errorResponse(413, "PAYLOAD_TOO_LARGE", `request body exceeds ${bodyLimit} bytes`);
      } else {
        response = await withDeadline(app.fetch(request));
      }
    } catch (err) {
      logger.error({ req_id: requestId, err: { message: (err as Error).message } }, "unhandled request failure");
      response = errorResponse(500, "INTERNAL", "internal server error");
    } finally {
      lifecycle.requestFinished();
    }
    response.headers.set("x-request-id", requestId);
    if (lifecycle.shuttingDown) response.headers.set("connection", "close");
    accessLog({
      requestId,
      method: request.method,
      route: requestRoutes.get(request) ?? pathOf(request.url),
      status: response.status,
      durationMs: performance.now() - started,
    });
    return response;
  };
}

function withHeader(request: Request, name: string, value: string): Request {
  try {
    request.headers.set(name, value);
    return request;
  } catch {
    // Immutable headers (some runtimes): copy the request instead.
    const headers = new Headers(request.headers);
    headers.set(name, value);
    return new Request(request, { headers });
  }
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
  return (work: Response | Promise<Response>): Response | Promise<Response> => {
    if (work instanceof Response) return work;
    const entry = { at: performance.now() + ms, resolve: (_: Response) => {} };
    const late = new Promise<Response>((resolve) => {
      entry.resolve = resolve;
    });
    pending.add(entry);
    sweeper ??= setInterval(sweep, tick);
    return Promise.race([work, late]).finally(() => pending.delete(entry));
  };
}

export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}
