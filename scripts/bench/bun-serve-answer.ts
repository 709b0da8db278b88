// The limits for bench:http's board scenarios: Bun.serve alone answering, to every request, the very
// bytes the service sent for it (status, headers, body as captured; Bun adds Date and Content-Length as
// it does for the service). ANSWER_FILE holds {status, headers, body} with the body in base64.
// With REQUIRED=1 it also does what any server of this API must do per request, the cheapest way Bun
// offers: digest the API key presented (as the key ring does), read X-Request-Id or make one, echo it,
// and write the access line through the service's own logger and formatter. The difference between the
// two is the part of the service's cost that no framework or cache can remove.
// With HEAP_BYTES as well, it first loads the service's modules and keeps that many bytes of live
// objects, as the service holds (bench:http reads the service's heap from its /metrics): garbage
// collection then costs what it costs any process of that size, which no request path can avoid.
import { hash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createAccessLog } from "../../src/logging/access-log";
import { createLogger } from "../../src/logging/logger";

const heapBytes = Number(process.env.HEAP_BYTES ?? 0);
if (heapBytes > 0) {
  await import("../../src/app");
  await import("../../src/runtime");
  // Small records much like the feed data and caches a service keeps: many objects, as a heap has.
  const kept: { id: string; at: number; names: string[] }[] = [];
  (globalThis as { kept?: unknown }).kept = kept;
  while (process.memoryUsage().heapUsed < heapBytes)
    for (let i = 0; i < 10_000; i++) kept.push({ id: `k${kept.length}`, at: kept.length, names: [`n${i}`] });
}

const file = process.env.ANSWER_FILE;
if (!file) {
  console.error("ANSWER_FILE is required");
  process.exit(2);
}
const answer = JSON.parse(readFileSync(file, "utf8")) as { status: number; headers: [string, string][]; body: string };
const body = answer.status === 304 ? null : Buffer.from(answer.body, "base64");
const init = { status: answer.status, headers: answer.headers };

const plain = () => new Response(body, init);

const ready = new Response(body, init);
const accessLog = createAccessLog(
  createLogger({
    app: {
      name: "transportation-api",
      version: "bench",
      commit: "unknown",
      build_time: "unknown",
      debug: false,
      log_level: "info",
      log_file: null,
    },
  }),
);
let seq = 0;
const keys = new Map<string, string>();
const required = (request: Request) => {
  const started = performance.now();
  const headers = request.headers;
  const client = keys.get(hash("sha256", headers.get("x-api-key") ?? "", "base64"));
  const id = headers.get("x-request-id") ?? `ref-${++seq}`;
  const response = ready.clone();
  response.headers.set("x-request-id", id);
  accessLog({
    requestId: id,
    client,
    method: request.method,
    route: "/v1/stops/:stopId/departures",
    status: response.status,
    durationMs: performance.now() - started,
  });
  return response;
};

Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  development: false,
  fetch: process.env.REQUIRED === "1" ? required : plain,
});
