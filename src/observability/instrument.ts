// Connects the database and the cache to the metrics and the traces: one observer per dependency,
// built from whichever of the two the process has.
import type { Cache } from "../cache/cache";
import type { QueryObserver } from "../db/instrumented-pool";
import type { Metrics, QueryFailure } from "./metrics";
import { endSpan, type Tracing } from "./tracing";

/** pg's and pg-pool's errors sorted the way the runbook tells them apart. */
export function queryFailure(err: unknown): QueryFailure {
  const e = err as { code?: string; message?: string };
  // 57014 query_canceled: statement_timeout (or a cancel); pg-pool's own wait for a free connection.
  if (e?.code === "57014" || /timeout exceeded when trying to connect|timed out|timeout/i.test(e?.message ?? ""))
    return "timeout";
  // Class 08 connection exceptions, 57P0x shutdowns, and the socket errors Node reports.
  if (
    /^(08|57P0)/.test(e?.code ?? "") ||
    /^E(CONNREFUSED|CONNRESET|PIPE|HOSTUNREACH|NOTFOUND|AI_AGAIN)$/.test(e?.code ?? "") ||
    /Connection terminated|connection (refused|closed|lost)|not queryable/i.test(e?.message ?? "")
  )
    return "connection";
  return "query";
}

/** `SELECT`, `INSERT`, …: the statement's first word, as db.operation.name has it. */
function operationOf(text: string): string {
  const m = /^\s*(?:--[^\n]*\n\s*)*([a-zA-Z]+)/.exec(text);
  return m ? m[1]!.toUpperCase() : "QUERY";
}

const MAX_QUERY_TEXT = 2000;

export function queryObserver(metrics: Metrics | undefined, tracing: Tracing | undefined): QueryObserver {
  const tracer = tracing?.enabled ? tracing : undefined;
  return {
    start(text, name) {
      const started = performance.now();
      const operation = tracer ? operationOf(text) : "";
      // Parameters are never recorded: the text holds $1…$n placeholders, the values stay out.
      const span = tracer?.startChild(name ? `${operation} ${name}` : operation, {
        "db.system.name": "postgresql",
        "db.operation.name": operation,
        "db.query.text": text.length > MAX_QUERY_TEXT ? `${text.slice(0, MAX_QUERY_TEXT)}…` : text,
        ...(name ? { "db.query.summary": name } : {}),
      });
      return (err) => {
        metrics?.query((performance.now() - started) / 1000, err === undefined ? undefined : queryFailure(err));
        endSpan(span, err);
      };
    },
  };
}

/**
 * Counts cache reads by result and failed writes, and gives each Redis command a span. Wraps the raw
 * backend, inside the wrapper that turns its failures into misses (resilient-cache.ts), so errors are seen.
 */
export function instrumentCache(cache: Cache, metrics: Metrics | undefined, tracing: Tracing | undefined): Cache {
  const tracer = tracing?.enabled && cache.kind === "redis" ? tracing : undefined;
  if (!metrics && !tracer) return cache;
  const backend = cache.kind;
  const slot = (op: "get" | "set", result: "hit" | "miss" | "error" | "ok") =>
    metrics ? metrics.cacheSlot(backend, op, result) : -1;
  const [hit, miss, getError, setError] = [
    slot("get", "hit"),
    slot("get", "miss"),
    slot("get", "error"),
    slot("set", "error"),
  ];
  const count = (s: number) => {
    if (s >= 0) metrics!.cacheResult(s);
  };
  const command = (name: string) =>
    tracer?.startChild(`redis ${name}`, { "db.system.name": "redis", "db.operation.name": name });
  return {
    kind: cache.kind,
    async get(key) {
      const span = command("GET");
      try {
        const value = await cache.get(key);
        count(value === undefined ? miss : hit);
        endSpan(span);
        return value;
      } catch (err) {
        count(getError);
        endSpan(span, err);
        throw err;
      }
    },
    async set(key, value, ttl) {
      const span = command("SET");
      try {
        await cache.set(key, value, ttl);
        endSpan(span);
      } catch (err) {
        count(setError);
        endSpan(span, err);
        throw err;
      }
    },
    ping: (ms) => cache.ping(ms),
    close: () => cache.close(),
  };
}
