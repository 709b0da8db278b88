// What the fetch handler (src/http/fetch-handler.ts) puts around the app, on a stand-in app: a CORS
// preflight is answered before the app's shortcut and the app, every answer (its own refusals and
// failures included) gets the CORS headers and the rate limit the request drew on, a shortcut answers
// before the app, and each request is counted once in the metrics.
import pino from "pino";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load";
import { createFetchHandler, type FetchableApp } from "../../src/http/fetch-handler";
import { requestInfo } from "../../src/http/request-info";
import { Lifecycle } from "../../src/lifecycle";
import { createMetrics } from "../../src/observability/metrics";

const MAPS = "https://maps.example.org";
const BUDGET = { policy: '"minute";q=60;w=60', limit: '"minute";r=59;t=60' };

function setup(app: FetchableApp, corsOrigins: string[] = []) {
  const config = loadConfig({ env: {}, file: "config.yaml" });
  config.api.cors_origins = corsOrigins;
  config.api.body_limit = 1024;
  const lifecycle = new Lifecycle();
  const metrics = createMetrics({ version: "1", commit: "c", processMetrics: false });
  const handler = createFetchHandler(app, { config, logger: pino({ level: "silent" }), lifecycle, metrics });
  return { handler, lifecycle, metrics };
}

/** A stand-in app recording who answered: its shortcut (for /fast) or its framework. */
function recordingApp(answer: (request: Request) => Response | Promise<Response> = () => new Response("app")) {
  const calls: string[] = [];
  const app: FetchableApp = {
    shortcut: (request) => {
      calls.push("shortcut");
      return new URL(request.url).pathname === "/fast" ? new Response("shortcut") : undefined;
    },
    fetch: (request) => {
      calls.push("app");
      return answer(request);
    },
  };
  return { app, calls };
}

describe("around the app", () => {
  it("answers a CORS preflight itself, before the shortcut and the app", async () => {
    const { app, calls } = recordingApp();
    const { handler, lifecycle } = setup(app, [MAPS]);
    const res = await handler(
      new Request("http://h/fast", {
        method: "OPTIONS",
        headers: { origin: MAPS, "access-control-request-method": "GET" },
      }),
    );
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(MAPS);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(calls).toEqual([]);
    expect(lifecycle.inFlight).toBe(0);
  });

  it("lets a shortcut answer before the app, and the app answer what the shortcut leaves", async () => {
    const { app, calls } = recordingApp();
    const { handler } = setup(app);
    expect(await (await handler(new Request("http://h/fast"))).text()).toBe("shortcut");
    expect(calls).toEqual(["shortcut"]);
    expect(await (await handler(new Request("http://h/other"))).text()).toBe("app");
    expect(calls).toEqual(["shortcut", "shortcut", "app"]);
  });

  it("gives its own refusals and failures the CORS headers of an allowed origin", async () => {
    const { app } = recordingApp(() => {
      throw new Error("boom");
    });
    const { handler } = setup(app, [MAPS]);
    const tooLarge = await handler(
      new Request("http://h/", {
        method: "POST",
        body: "x".repeat(2048),
        headers: { origin: MAPS, "content-length": "2048" },
      }),
    );
    const failed = await handler(new Request("http://h/", { headers: { origin: MAPS } }));
    expect([tooLarge.status, failed.status]).toEqual([413, 500]);
    for (const res of [tooLarge, failed]) {
      expect(res.headers.get("access-control-allow-origin")).toBe(MAPS);
      expect(res.headers.get("vary")).toContain("Origin");
    }
  });

  it("puts the rate limit the request drew on onto its answer, a failure included, and none otherwise", async () => {
    for (const fail of [false, true]) {
      const { app } = recordingApp((request) => {
        if (new URL(request.url).pathname === "/limited") requestInfo(request)!.rateLimit = BUDGET;
        if (fail) throw new Error("boom");
        return new Response("ok");
      });
      const { handler } = setup(app);
      const limited = await handler(new Request("http://h/limited"));
      expect(limited.status).toBe(fail ? 500 : 200);
      expect([limited.headers.get("ratelimit-policy"), limited.headers.get("ratelimit")]).toEqual([
        BUDGET.policy,
        BUDGET.limit,
      ]);
      const free = await handler(new Request("http://h/free"));
      expect([free.headers.get("ratelimit-policy"), free.headers.get("ratelimit")]).toEqual([null, null]);
    }
  });

  it("counts each request once in the metrics, by method, route and status", async () => {
    const { app } = recordingApp((request) => {
      requestInfo(request)!.route = "/v1/stops/:stopId";
      return new Response("", { status: 404 });
    });
    const { handler, metrics } = setup(app);
    const before = performance.now();
    await handler(new Request("http://h/v1/stops/a"));
    await handler(new Request("http://h/v1/stops/b"));
    const spentSeconds = (performance.now() - before) / 1000;
    const body = (await metrics.render()).body;
    expect(body).toContain('http_requests_total{method="GET",route="/v1/stops/:stopId",status="404"} 2');
    // The durations are in seconds: together within what both requests took.
    const sum = body.match(/^http_request_duration_seconds_sum\{[^}]*route="\/v1\/stops\/:stopId"[^}]*\} (\S+)$/m);
    expect(sum).not.toBeNull();
    expect(Number(sum![1])).toBeGreaterThanOrEqual(0);
    expect(Number(sum![1])).toBeLessThanOrEqual(spentSeconds);
  });
});
