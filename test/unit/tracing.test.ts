// Tracing switched on, with the SDK's in-memory exporter in place of OTLP: spans continue the caller's
// trace, children hang below the span current where they start (also after an await), and every log
// line written inside a span names it. Switched off, nothing is current and lines carry nothing.
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import { describe, expect, it } from "vitest";
import { createLogger, flushLogger } from "../../src/logging/logger";
import { createTracing, disabledTracing, endSpan, traceparentOf } from "../../src/observability/tracing";

const app = {
  name: "transportation-api",
  version: "1.2.3",
  commit: "c",
  build_time: "b",
  debug: false,
  log_level: "info" as const,
  log_file: null,
};
const CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/** The SDK's in-memory exporter forgets its spans on shutdown; this one keeps them to be read after. */
class KeepingExporter extends InMemorySpanExporter {
  override shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

describe("tracing", () => {
  it("continues the caller's trace and puts children below the current span, across awaits", async () => {
    const exporter = new KeepingExporter();
    const tracing = await createTracing({ serviceName: "t", serviceVersion: "1", env: {}, exporter });
    expect(tracing.enabled).toBe(true);
    const server = tracing.startRequest("GET", new Headers({ traceparent: CALLER }));
    await tracing.within(server, async () => {
      await new Promise((r) => setTimeout(r, 1));
      endSpan(tracing.startChild("SELECT gtfs_active_feed", { "db.system.name": "postgresql" }));
      endSpan(tracing.startChild("redis GET"), new Error("connection lost"));
    });
    expect(tracing.startChild("outside any span")).toBeUndefined();
    const response = new Response("ok");
    tracing.endRequest(server, "GET", "/v1/stops/:stopId", response);
    expect(response.headers.get("traceparent")).toBe(traceparentOf(server));
    await tracing.shutdown();

    const spans = exporter.getFinishedSpans();
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    const root = byName["GET /v1/stops/:stopId"]!;
    expect(root.spanContext().traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(root.parentSpanContext?.spanId).toBe("b7ad6b7169203331");
    for (const child of ["SELECT gtfs_active_feed", "redis GET"])
      expect(byName[child]!.parentSpanContext?.spanId, child).toBe(root.spanContext().spanId);
    expect(byName["redis GET"]!.status.code).toBe(2); // ERROR
  });

  it("names the current trace and span in every log line written inside it", async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = await createTracing({ serviceName: "t", serviceVersion: "1", env: {}, exporter });
    const lines: string[] = [];
    const logger = createLogger(
      { app },
      { stream: { write: (t: string) => void lines.push(t) }, mixin: tracing.logFields },
    );
    const span = tracing.startRequest("GET", new Headers());
    await tracing.within(span, async () => {
      await Promise.resolve();
      logger.warn("inside");
    });
    logger.info("outside");
    flushLogger(logger);
    const parsed = lines
      .join("")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(parsed.find((l) => l.msg === "inside")).toMatchObject({
      trace_id: span.spanContext().traceId,
      span_id: span.spanContext().spanId,
    });
    expect(parsed.find((l) => l.msg === "outside")).not.toHaveProperty("trace_id");
    await tracing.shutdown();
  });

  it("is off without an endpoint, and then costs nothing but the header read", async () => {
    const tracing = await createTracing({ serviceName: "t", serviceVersion: "1", env: {} });
    expect(tracing).toBe(disabledTracing);
    const on = await createTracing({
      serviceName: "t",
      serviceVersion: "1",
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
    }).catch((err: Error) => err);
    expect((on as Error).message).toContain("OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported");
  });
});
