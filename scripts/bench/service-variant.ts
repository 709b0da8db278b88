// The service as src/main.ts serves it, with its observability switched by OBSERVABILITY, for
// bench:http's cost comparison (the same runtime, app and fetch handler; only the dependencies differ):
//   none     no metrics recorded anywhere, no trace header read (the baseline)
//   metrics  metrics recorded (requests, queries, cache, process), no Tracing at all
//   full     as shipped with OTEL_EXPORTER_OTLP_ENDPOINT unset: metrics, and tracing off (the caller's
//            `traceparent` read for the access line)
// Serves /metrics on METRICS_PORT when metrics are on. Exits on SIGTERM.
import { createApp } from "../../src/app";
import { runMigrate } from "../../src/cli/migrate-command";
import { createFetchHandler } from "../../src/http/fetch-handler";
import { Lifecycle } from "../../src/lifecycle";
import { watchServedFeed } from "../../src/modules/gtfs/feed-metrics";
import { createMetricsHandler } from "../../src/observability/metrics";
import { loadRuntimeConfig, openRuntime } from "../../src/runtime";

const mode = process.env.OBSERVABILITY ?? "full";
if (!["none", "metrics", "full"].includes(mode))
  throw new Error(`OBSERVABILITY must be none, metrics or full, not ${mode}`);
const config = loadRuntimeConfig(process.env, true);
const runtime = await openRuntime(config, { observability: mode !== "none" });
await runMigrate(runtime);
const lifecycle = new Lifecycle();
const metrics = mode === "none" ? undefined : runtime.metrics;
const tracing = mode === "full" ? runtime.tracing : undefined;
if (metrics) {
  metrics.watch.lifecycle(lifecycle);
  watchServedFeed(metrics, runtime.database, config);
}
const app = createApp({ ...runtime, lifecycle, metrics });
const fetch = createFetchHandler(app, { config, logger: runtime.logger, lifecycle, metrics, tracing });
const server = Bun.serve({ hostname: config.api.host, port: config.api.port, fetch, development: false });
const metricsServer =
  metrics && config.metrics.port > 0
    ? Bun.serve({
        hostname: "127.0.0.1",
        port: config.metrics.port,
        fetch: createMetricsHandler(metrics),
        development: false,
      })
    : undefined;
process.on("SIGTERM", async () => {
  server.stop(true);
  metricsServer?.stop(true);
  await runtime.close();
  process.exit(0);
});
