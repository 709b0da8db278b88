// Two things the fetch handler (src/http/fetch-handler.ts) does beside answering, on a stand-in app:
// - the request's trace: its own span when tracing is on (answer's traceparent, the access line's trace
//   id), the caller's trace id for the access line when it is off, nothing at all without a Tracing;
// - the deadline sweep: one interval timer, ticking at a quarter of api.timeout (5 ms to 250 ms, how
//   late a 504 may come), that runs only while some request is waiting: an idle server is not woken.
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load";
import { createFetchHandler, type FetchableApp } from "../../src/http/fetch-handler";
import { Lifecycle } from "../../src/lifecycle";
import { createTracing, disabledTracing, type Tracing } from "../../src/observability/tracing";
import { eventually } from "../support/app-server";

const CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c";
const TRACEPARENT = `00-${CALLER_TRACE}-b7ad6b7169203331-01`;

function setup(app: FetchableApp, options: { timeout?: number; tracing?: Tracing } = {}) {
  const config = loadConfig({ env: {}, file: "config.yaml" });
  if (options.timeout !== undefined) config.api.timeout = options.timeout;
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const lifecycle = new Lifecycle();
  const handler = createFetchHandler(app, { config, logger, lifecycle, tracing: options.tracing });
  const access = () => lines.filter((l) => l.msg === "request");
  return { handler, lifecycle, access };
}

const ok: FetchableApp = { fetch: () => new Response("ok") };
const traced = () => new Request("http://h/v1/feeds", { headers: { traceparent: TRACEPARENT } });

describe("the request's trace", () => {
  it("with tracing on: a span continuing the caller's trace, named on the answer and in the access line", async () => {
    const tracing = await createTracing({
      serviceName: "t",
      serviceVersion: "1",
      env: {},
      exporter: new InMemorySpanExporter(),
    });
    try {
      let current: Record<string, string> = {};
      const { handler, access } = setup(
        {
          fetch: () => {
            current = tracing.logFields(); // the app runs inside the request's span
            return new Response("ok");
          },
        },
        { tracing },
      );
      const res = await handler(traced());
      expect(res.headers.get("traceparent")).toMatch(new RegExp(`^00-${CALLER_TRACE}-[0-9a-f]{16}-01$`));
      expect(current.trace_id).toBe(CALLER_TRACE);
      expect(access().map((l) => l.trace_id)).toEqual([CALLER_TRACE]);
    } finally {
      await tracing.shutdown();
    }
  });

  it("with tracing off: the caller's trace id in the access line, nothing on the answer", async () => {
    const { handler, access } = setup(ok, { tracing: disabledTracing });
    const res = await handler(traced());
    expect(res.headers.get("traceparent")).toBeNull();
    expect(access().map((l) => l.trace_id)).toEqual([CALLER_TRACE]);
  });

  it("without a Tracing (bare rigs, the benchmarks' baseline): not even the caller's trace id", async () => {
    const { handler, access } = setup(ok);
    const res = await handler(traced());
    expect(res.headers.get("traceparent")).toBeNull();
    expect(access()).toHaveLength(1);
    expect(access()[0]).not.toHaveProperty("trace_id");
  });
});

describe("the deadline sweep", () => {
  const realSetInterval = globalThis.setInterval;
  const realClearInterval = globalThis.clearInterval;
  afterEach(() => {
    globalThis.setInterval = realSetInterval;
    globalThis.clearInterval = realClearInterval;
  });

  /** Calls the handler with the interval timers it starts recorded, and whether each is still running. */
  function watched(handler: (request: Request) => Response | Promise<Response>) {
    const timers: { period: number; running: boolean; id: ReturnType<typeof setInterval> }[] = [];
    globalThis.clearInterval = ((id: ReturnType<typeof setInterval>) => {
      for (const t of timers) if (t.id === id) t.running = false;
      realClearInterval(id);
    }) as typeof clearInterval;
    const call = (request: Request) => {
      // Only the handler's own timers: the recording is on while it runs (it starts its timer synchronously).
      globalThis.setInterval = ((fn: () => void, period: number) => {
        const id = realSetInterval(fn, period);
        timers.push({ period, running: true, id });
        return id;
      }) as typeof setInterval;
      try {
        return handler(request);
      } finally {
        globalThis.setInterval = realSetInterval;
      }
    };
    const idle = async () => timers.every((t) => !t.running);
    const stopAll = () => {
      for (const t of timers) realClearInterval(t.id);
    };
    return { call, timers, idle, stopAll };
  }

  it("ticks at a quarter of the timeout, at least every 250 ms and at most every 5 ms", async () => {
    for (const [timeout, period] of [
      [30, 250],
      [1, 250],
      [0.4, 100],
      [0.1, 25],
      [0.004, 5],
    ] as const) {
      const { handler } = setup({ fetch: async () => new Response("ok") }, { timeout });
      const w = watched(handler);
      try {
        await w.call(new Request("http://h/"));
        expect(
          w.timers.map((t) => t.period),
          `timeout ${timeout} s`,
        ).toEqual([period]);
      } finally {
        w.stopAll();
      }
    }
  });

  it("stops once no request waits: after an answer in time, a failure, or a 504", async () => {
    const never = new Promise<Response>(() => {});
    const cases: [string, FetchableApp, number, number][] = [
      ["answered", { fetch: () => new Promise((done) => setTimeout(() => done(new Response("ok")), 5)) }, 60, 200],
      ["failed", { fetch: () => new Promise((_, fail) => setTimeout(() => fail(new Error("boom")), 5)) }, 60, 500],
      ["timed out", { fetch: () => never }, 0.05, 504],
    ];
    for (const [what, app, timeout, status] of cases) {
      const { handler, lifecycle } = setup(app, { timeout });
      const w = watched(handler);
      try {
        const answers = await Promise.all([w.call(new Request("http://h/1")), w.call(new Request("http://h/2"))]);
        expect(answers.map((a) => a.status)).toEqual([status, status]);
        expect(w.timers, `${what}: one timer for both requests`).toHaveLength(1);
        await eventually(w.idle, 2000, `the sweep to stop (${what})`);
        expect(lifecycle.inFlight).toBe(0);
        // The next request starts it again.
        await Promise.all([w.call(new Request("http://h/3"))]);
        expect(w.timers).toHaveLength(2);
        await eventually(w.idle, 2000, `the sweep to stop again (${what})`);
      } finally {
        w.stopAll();
      }
    }
  });
});
