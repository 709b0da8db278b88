// Traces from the real processes (`serve`, `import`) on PostgreSQL 15 and Redis 7, exported over
// OTLP/HTTP to a receiver in this test that decodes what arrives (protobuf for the server, JSON for the
// import). Checks the trace a caller started is continued, the children the request made, the
// `traceparent` the response carries, and that log lines name the trace.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppServer, childEnv, eventually, startAppServer } from "../support/app-server";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../support/otlp-receiver";
import { BUN, MAIN, REPO_ROOT } from "../support/repo";
import { runProcess } from "../support/run";
import { createTestDatabase, type TestDatabase, testRedisUrl } from "../support/services";
import { createTestApp } from "../support/test-app";

const SAMPLE_ZIP = `${REPO_ROOT}/node_modules/sample-gtfs-feed/gtfs.zip`;
const CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN = "b7ad6b7169203331";

/** Runs `bun src/main.ts <args>` to its end, with only `env` beside the launcher's base. */
const run = (args: string[], env: Record<string, string>) => runProcess(BUN, [MAIN, ...args], { env: childEnv(env) });

describe("traces over OTLP/HTTP", () => {
  let receiver: OtlpReceiver;
  let db: TestDatabase;
  let app: AppServer;
  let importOutput = "";

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    db = await createTestDatabase("trace");
    const env = { DATABASE_URL: db.url, LOG_LEVEL: "info", OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    const migrated = await run(["migrate"], env);
    expect(migrated.code, migrated.output).toBe(0);
    const imported = await run(["import", SAMPLE_ZIP], { ...env, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" });
    expect(imported.code, imported.output).toBe(0);
    importOutput = imported.output;
    app = await startAppServer({ env: { ...env, REDIS_URL: await testRedisUrl() } });
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
    await db?.drop();
  });

  const spansOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);
  const childrenOf = (parent: ReceivedSpan) => receiver.spans.filter((s) => s.parentSpanId === parent.spanId);

  it("continues the caller's trace with a server span, and database and Redis spans below it", async () => {
    const path = "/v1/stops/airport";
    const res = await fetch(`${app.url}${path}`, {
      headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, "x-request-id": "traced-1" },
    });
    expect(res.status).toBe(200);
    // traceparent out: same trace, this server's span, sampled.
    const out = res.headers.get("traceparent") ?? "";
    expect(out).toMatch(new RegExp(`^00-${CALLER_TRACE}-[0-9a-f]{16}-01$`));
    const serverSpanId = out.split("-")[2]!;
    expect(serverSpanId).not.toBe(CALLER_SPAN);

    await eventually(async () => spansOf(CALLER_TRACE).some((s) => s.kind === 2), 15_000, "the server span");
    const server = spansOf(CALLER_TRACE).find((s) => s.kind === 2)!;
    expect(server).toMatchObject({
      spanId: serverSpanId,
      parentSpanId: CALLER_SPAN,
      name: "GET /v1/stops/:stopId",
      service: "transportation-api",
    });
    expect(server.attributes).toMatchObject({ "http.route": "/v1/stops/:stopId", "http.response.status_code": 200 });
    const children = childrenOf(server);
    const queries = children.filter((s) => s.attributes["db.system.name"] === "postgresql");
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.every((q) => typeof q.attributes["db.query.text"] === "string")).toBe(true);
    expect(children.some((s) => s.name === "redis GET" && s.attributes["db.system.name"] === "redis")).toBe(true);
    expect(receiver.contentTypes).toContain("application/x-protobuf");

    // The access line (and any other line of the request) names the trace.
    await eventually(async () => app.output().includes('"req_id":"traced-1"'), 5_000, "the access line");
    const line = app
      .output()
      .split("\n")
      .find((l) => l.includes('"req_id":"traced-1"'));
    expect(JSON.parse(line!).trace_id).toBe(CALLER_TRACE);
  });

  it("starts a trace of its own when the caller sent none", async () => {
    const res = await fetch(`${app.url}/health`);
    const out = res.headers.get("traceparent") ?? "";
    expect(out).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const traceId = out.split("-")[1]!;
    await eventually(async () => spansOf(traceId).length > 0, 15_000, "the /health span");
    expect(spansOf(traceId)[0]).toMatchObject({ name: "GET /health", parentSpanId: "" });
  });

  it("traces an import run: a root span with a span per file loaded and per phase", () => {
    const root = receiver.spans.find((s) => s.name === "gtfs import");
    expect(root, importOutput).toBeDefined();
    expect(root!.parentSpanId).toBe("");
    expect(root!.attributes["gtfs.source"]).toContain("gtfs.zip");
    expect(typeof root!.attributes["gtfs.feed_version"]).toBe("number");
    const names = childrenOf(root!).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["load stops.txt", "load stop_times.txt", "activate"]));
    const stops = childrenOf(root!).find((s) => s.name === "load stops.txt")!;
    expect(stops.attributes["gtfs.rows"]).toBeGreaterThan(0);
    expect(receiver.contentTypes).toContain("application/json");
  });
});

describe("tracing switched off", () => {
  it("adds no traceparent and exports nothing; the caller's trace id still reaches the access line", async () => {
    const t = await createTestApp();
    try {
      const res = await t.fetch("/health", {
        headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, "x-request-id": "untraced-1" },
      });
      expect(res.headers.get("traceparent")).toBeNull();
      expect(t.logLines().find((l) => l.req_id === "untraced-1")?.trace_id).toBe(CALLER_TRACE);
    } finally {
      await t.close();
    }
  });
});
