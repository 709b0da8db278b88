// The per-request access line, formatted by hand: it is written for every request, and pino's
// generic serialisation costs several microseconds a line. Same JSON shape and destination as the logger.
import pino from "pino";
import { createIsoClock } from "../lib/iso-clock";
import type { Logger } from "./logger";

export interface AccessEntry {
  requestId: string;
  method: string;
  route: string;
  status: number;
  durationMs: number;
}

export type AccessLog = (entry: AccessEntry) => void;

export function createAccessLog(logger: Logger): AccessLog {
  const stream = (logger as unknown as Record<symbol, { write(line: string): void }>)[pino.symbols.streamSym];
  const bindings = logger.bindings();
  const base = Object.keys(bindings).length ? `,${JSON.stringify(bindings).slice(1, -1)}` : "";
  if (!stream)
    return (e) =>
      logger.info(
        { req_id: e.requestId, method: e.method, route: e.route, status: e.status, duration_ms: e.durationMs },
        "request",
      );
  const isoNow = createIsoClock();
  return (e) => {
    if (!logger.isLevelEnabled("info")) return;
    stream.write(
      `{"level":"info","time":"${isoNow()}"${base},"req_id":${quote(e.requestId)},"method":${quote(e.method)},"route":${quote(e.route)},"status":${e.status},"duration_ms":${Math.round(e.durationMs * 100) / 100},"msg":"request"}\n`,
    );
  };
}

const PLAIN = /^[\w.:/@+-]*$/;
/** JSON string literal; the common case (ids, methods, route templates) needs no escaping. */
function quote(value: string): string {
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
}
