// What the HTTP layer knows about a request in flight (its id, and the route template once matched),
// carried on the Request object itself so the fetch handler and the app's hooks share it. A symbol
// property costs a cached structure transition; a WeakMap keyed by Request cost measurably more per
// request (weak entries on a host object are extra work for every garbage collection).
import { randomBytes } from "node:crypto";

export interface RequestInfo {
  id: string;
  /** Route template, filled by the app once matched (keeps access logs low-cardinality). */
  route?: string;
  /** The name of the API key presented (never the key), once it is checked. */
  client?: string;
  /** RateLimit-Policy and RateLimit header values, once the request has drawn on its budget. */
  rateLimit?: { policy: string; limit: string };
  /** W3C trace id: this request's span's when tracing is on, else the caller's `traceparent`'s. */
  traceId?: string;
}

const INFO = Symbol("transportation-api.request-info");
type Carrier = { [INFO]?: RequestInfo };

export function attachRequestInfo(request: Request, info: RequestInfo): void {
  (request as Carrier)[INFO] = info;
}

export function requestInfo(request: Request): RequestInfo | undefined {
  return (request as Carrier)[INFO];
}

/**
 * Request ids: 48 random bits per process and a counter, so ids from many replicas and restarts
 * do not collide, without paying for a UUID's fresh randomness on every request.
 */
export function createRequestIds(): () => string {
  const prefix = randomBytes(6).toString("hex");
  let seq = 0;
  return () => `${prefix}-${(++seq).toString(36)}`;
}
