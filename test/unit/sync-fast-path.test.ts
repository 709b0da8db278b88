// /health and /version must be answered synchronously: Bun.serve writes a Response returned
// synchronously at once, while a Promise (even a settled one) takes its slower async path. Elysia
// decides per route from the hooks' and handler's source text whether to compose an async handler,
// so an innocent-looking edit (`() => service.health()`, `return errorResponse(...)` in a hook)
// would silently make every request async. bench:http measures the cost; this test names the cause.
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { createMemoryCache } from "../../src/cache/memory-cache";
import { loadConfig } from "../../src/config/load";
import { type Database, openDatabase } from "../../src/db/database";
import { migrateToLatest } from "../../src/db/migrate";
import { createFetchHandler } from "../../src/http/fetch-handler";
import { Lifecycle } from "../../src/lifecycle";
import { createMetrics } from "../../src/observability/metrics";
import { createTracing } from "../../src/observability/tracing";

describe("synchronous fast path", () => {
  const config = loadConfig({
    env: { DATA_DIR: ":memory:", NODE_ENV: "test", API_KEY: "sync-fast-path-key-0123" },
    file: "config.yaml",
  });
  const logger = pino({ level: "silent" });
  const lifecycle = new Lifecycle();
  let database: Database;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    database = await openDatabase(config, logger);
    await migrateToLatest(database.db);
    app = createApp({ config, logger, database, cache: createMemoryCache(10), lifecycle });
  });
  afterAll(() => database.close());

  it.each(["/health", "/version"])("the app answers %s with a Response, not a Promise", async (path) => {
    const result = app.fetch(new Request(`http://localhost${path}`));
    expect(result).toBeInstanceOf(Response);
    expect((result as Response).status).toBe(200);
  });

  it("the fetch handler keeps it synchronous and still adds the request id", () => {
    const lifecycle = new Lifecycle(); // the handler's own count, independent of the other tests
    const handler = createFetchHandler(app, { config, logger, lifecycle });
    const result = handler(new Request("http://localhost/health", { headers: { "x-request-id": "probe-1" } }));
    expect(result).toBeInstanceOf(Response);
    expect((result as Response).headers.get("x-request-id")).toBe("probe-1");
    expect(lifecycle.inFlight).toBe(0);
  });

  it("stays synchronous with metrics recorded and tracing off (a traceparent header only read)", async () => {
    const lifecycle = new Lifecycle();
    const metrics = createMetrics({ version: "1", commit: "c", processMetrics: false });
    const tracing = await createTracing({ serviceName: "t", serviceVersion: "1", env: {} });
    expect(tracing.enabled).toBe(false);
    const handler = createFetchHandler(app, { config, logger, lifecycle, metrics, tracing });
    const headers = { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };
    const result = handler(new Request("http://localhost/health", { headers }));
    expect(result).toBeInstanceOf(Response);
    expect((await metrics.render()).body).toContain('http_requests_total{method="GET",route="/health",status="200"} 1');
  });

  it("routes that do I/O are still answered asynchronously, through the deadline", async () => {
    const lifecycle = new Lifecycle();
    const handler = createFetchHandler(app, { config, logger, lifecycle });
    const result = handler(new Request("http://localhost/ready"));
    expect(result).toBeInstanceOf(Promise);
    expect(lifecycle.inFlight).toBe(1);
    expect((await result).status).toBe(200);
    expect(lifecycle.inFlight).toBe(0);
  });
});
