// The per-request access line, formatted by hand: it is written for every request, and pino's
// generic serialisation costs several microseconds a line. Same JSON shape and destination as the logger.
import pino from "pino";
import type { Logger } from "./logger";

export interface AccessEntry {
  requestId: string;
  /** Written as `trace_id` when the request belongs to a trace. */
  traceId?: string;
  /** The API key's name, when one was presented and known. */
  client?: string;
  method: string;
  route: string;
  status: number;
  durationMs: number;
}

export type AccessLog = (entry: AccessEntry) => void;

/** Routes whose line middles are kept. Unmatched paths (404s) are logged as sent, so the cache starts
 * over when full (a scan cannot fill it for good) and long paths are not kept at all. */
const MAX_CACHED_ROUTES = 512;
const MAX_CACHED_ROUTE_LENGTH = 256;

interface Middle {
  method: string;
  status: number;
  /** `,"method":…,"route":…,"status":…,"duration_ms":` */
  text: string;
}

export function createAccessLog(logger: Logger): AccessLog {
  const stream = (logger as unknown as Record<symbol, { write(line: string): void }>)[pino.symbols.streamSym];
  const bindings = logger.bindings();
  const base = Object.keys(bindings).length ? `,${JSON.stringify(bindings).slice(1, -1)}` : "";
  if (!stream)
    return (e) =>
      logger.info(
        {
          req_id: e.requestId,
          trace_id: e.traceId,
          client: e.client,
          method: e.method,
          route: e.route,
          status: e.status,
          duration_ms: e.durationMs,
        },
        "request",
      );
  // Lines differ from one request to the next in little: the part up to the id changes once per
  // millisecond, and the part between the id and the duration once per route, method and status.
  // Keeping those parts ready leaves three values to place per request: about a third off a line's cost.
  let headMs = Number.NaN;
  let head = "";
  const middles = new Map<string, Middle[]>();
  const middleOf = (e: AccessEntry): string => {
    const known = middles.get(e.route);
    if (known !== undefined) for (const m of known) if (m.method === e.method && m.status === e.status) return m.text;
    const text = `,"method":${quote(e.method)},"route":${quote(e.route)},"status":${e.status},"duration_ms":`;
    const entry = { method: e.method, status: e.status, text };
    if (known !== undefined) {
      if (known.length < 16) known.push(entry);
    } else if (e.route.length <= MAX_CACHED_ROUTE_LENGTH) {
      if (middles.size >= MAX_CACHED_ROUTES) middles.clear();
      middles.set(e.route, [entry]);
    }
    return text;
  };
  return (e) => {
    if (!logger.isLevelEnabled("info")) return;
    const ms = Date.now();
    if (ms !== headMs) {
      headMs = ms;
      head = `{"level":"info","time":"${new Date(ms).toISOString()}"${base},"req_id":`;
    }
    // A trace id is 32 lowercase hex digits (traceIdOf and the SDK only give valid ones): no quoting needed.
    const trace = e.traceId === undefined ? "" : `,"trace_id":"${e.traceId}"`;
    const client = e.client === undefined ? "" : `,"client":${quote(e.client)}`;
    stream.write(
      `${head}${quote(e.requestId)}${trace}${client}${middleOf(e)}${Math.round(e.durationMs * 100) / 100},"msg":"request"}\n`,
    );
  };
}

const PLAIN = /^[\w.:/@+-]*$/;
/** JSON string literal; the common case (ids, methods, route templates) needs no escaping. */
function quote(value: string): string {
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
}
