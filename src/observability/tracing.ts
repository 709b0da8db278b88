// OpenTelemetry traces: a server span per request (continuing the caller's W3C `traceparent`), child
// spans for database queries, Redis commands and import phases, exported over OTLP/HTTP in batches.
//
// Only when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set. Otherwise
// `enabled` is false and the request path does nothing but read the `traceparent` header, so the
// access line still carries the caller's trace id. The current span is kept in this object's own
// AsyncLocalStorage and passed to the SDK explicitly: nothing is registered with the OpenTelemetry
// API's globals, so a test (or two services in one process) cannot see another's spans.
import { AsyncLocalStorage } from "node:async_hooks";
import {
  type Attributes,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";

export type { Span };

export interface Tracing {
  readonly enabled: boolean;
  /** Starts the server span of a request, as a child of the caller's `traceparent` when it sent one. */
  startRequest(method: string, headers: Headers): Span;
  /** Runs `fn` with `span` as the current span (child spans made inside it, sync or async, hang below). */
  within<T>(span: Span, fn: () => T): T;
  /** Names the span after the route, records the status, sets `traceparent` on the response, ends it. */
  endRequest(span: Span, method: string, route: string | undefined, response: Response): void;
  /** A child of the current span; undefined when tracing is off or nothing is current. */
  startChild(name: string, attributes?: Attributes, kind?: SpanKind): Span | undefined;
  /** A span with no parent, for work that starts outside any request (an import run). */
  startRoot(name: string, attributes?: Attributes): Span | undefined;
  /** Pino mixin: the current trace and span ids, for every log line written inside a span. */
  logFields(): Record<string, string>;
  /** Exports what is buffered and stops (called before the process exits). */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  serviceName: string;
  serviceVersion: string;
  env?: Record<string, string | undefined>;
  /** Tests pass an exporter; otherwise OTLP/HTTP to the configured endpoint. */
  exporter?: SpanExporter;
}

// `version-traceid-parentid-flags`, lower-case hex (W3C Trace Context, "traceparent Header Field Values").
const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}(?:-|$)/;
const ZERO_TRACE_ID = "0".repeat(32);
const ZERO_PARENT_ID = "0".repeat(16);

/**
 * The caller's trace id from a `traceparent` header value, if it is a valid W3C one. This is the one
 * thing tracing costs a request when it is switched off, so it is a single regex test and a slice:
 * @opentelemetry/core's parseTraceParent (captures, a SpanContext object) took twice as long, which
 * bench:http showed on every request carrying the header.
 */
export function traceIdOf(traceparent: string | null): string | undefined {
  if (traceparent === null || traceparent.length < 55 || !TRACEPARENT.test(traceparent)) return undefined;
  // Version ff is invalid; version 00 has exactly these four fields; all-zero ids are invalid.
  const version = traceparent.slice(0, 2);
  if (version === "ff" || (version === "00" && traceparent.length !== 55)) return undefined;
  const traceId = traceparent.slice(3, 35);
  return traceId === ZERO_TRACE_ID || traceparent.slice(36, 52) === ZERO_PARENT_ID ? undefined : traceId;
}

/** `00-<trace id>-<span id>-<flags>`: what a response (or an outgoing call) carries on. */
export function traceparentOf(span: Span): string {
  const c = span.spanContext();
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 1) === 1 ? "01" : "00"}`;
}

export function tracesEndpoint(env: Record<string, string | undefined>): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!base) return undefined;
  // The base endpoint gets the signal's path appended (OTLP exporter spec, "Endpoint URLs for OTLP/HTTP").
  return `${base.replace(/\/+$/, "")}/v1/traces`;
}

export class TracingConfigError extends Error {}

export async function createTracing(options: TracingOptions): Promise<Tracing> {
  const env = options.env ?? process.env;
  const url = tracesEndpoint(env);
  if (!url && !options.exporter) return disabledTracing;
  if (env.OTEL_SDK_DISABLED === "true") return disabledTracing;
  const exporter = options.exporter ?? (await otlpExporter(url!, env));
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      "service.name": env.OTEL_SERVICE_NAME || options.serviceName,
      "service.version": options.serviceVersion,
    }),
    sampler: samplerFrom(env),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1000 })],
  });
  return enabledTracing(provider.getTracer("transportation-api"), provider);
}

async function otlpExporter(url: string, env: Record<string, string | undefined>): Promise<SpanExporter> {
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || "http/protobuf";
  // Loaded only when tracing is on: nothing of the exporters is parsed by a process that does not trace.
  if (protocol === "http/protobuf") {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-proto");
    return new OTLPTraceExporter({ url });
  }
  if (protocol === "http/json") {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    return new OTLPTraceExporter({ url });
  }
  throw new TracingConfigError(
    `OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: use http/protobuf (default) or http/json`,
  );
}

/** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG as the SDK environment spec names them. */
function samplerFrom(env: Record<string, string | undefined>): Sampler {
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? 1);
  const arg = Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1;
  switch (env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on") {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(arg);
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(arg) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** Tracing switched off: what createTracing gives without an endpoint. */
export const disabledTracing: Tracing = {
  enabled: false,
  startRequest: () => trace.wrapSpanContext({ traceId: "", spanId: "", traceFlags: 0 }),
  within: (_span, fn) => fn(),
  endRequest() {},
  startChild: () => undefined,
  startRoot: () => undefined,
  logFields: () => ({}),
  shutdown: async () => {},
};

function enabledTracing(tracer: Tracer, provider: TracerProvider): Tracing {
  const current = new AsyncLocalStorage<Span>();
  const propagator = new W3CTraceContextPropagator();
  const getter = {
    keys: (carrier: Headers) => [...carrier.keys()],
    get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
  };
  return {
    enabled: true,
    startRequest(method, headers) {
      const parent = propagator.extract(ROOT_CONTEXT, headers, getter);
      return tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { "http.request.method": method } }, parent);
    },
    within: (span, fn) => current.run(span, fn),
    endRequest(span, method, route, response) {
      const status = response.status;
      if (route) {
        // Semantic conventions: a server span is named "{method} {http.route}".
        span.updateName(`${method} ${route}`);
        span.setAttribute("http.route", route);
      }
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      response.headers.set("traceparent", traceparentOf(span));
      span.end();
    },
    startChild(name, attributes, kind = SpanKind.CLIENT) {
      const parent = current.getStore();
      if (!parent) return undefined;
      return tracer.startSpan(name, { kind, attributes }, trace.setSpan(ROOT_CONTEXT, parent));
    },
    startRoot: (name, attributes) => tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, ROOT_CONTEXT),
    logFields(): Record<string, string> {
      const span = current.getStore();
      if (!span) return {};
      const c = span.spanContext();
      return { trace_id: c.traceId, span_id: c.spanId };
    },
    async shutdown() {
      await provider.shutdown();
    },
  };
}

/** Ends a child span, marking it failed when `err` is set. */
export function endSpan(span: Span | undefined, err?: unknown): void {
  if (!span) return;
  if (err !== undefined) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}
