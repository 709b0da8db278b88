// How long the service waits for a database or Redis that does not answer, decided by the settings
// that promise it rather than by a stopwatch:
// - each /ready check is bounded by its own 1 s limit (the other bounds are set far above it here, so
//   only that limit can end the check, and the check names it);
// - a data request against a database that accepts connections and never answers ends with 503
//   DATABASE_UNAVAILABLE, ended by the pool's connect timeout (database.connect_timeout), before the
//   request deadline (api.timeout) would answer 504.
import { createServer, type Server, type Socket } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisCache } from "../../src/cache/redis-cache";
import { eventually } from "../support/app-server";
import { type ServerProcess, startRedis } from "../support/processes";
import { createTestApp } from "../support/test-app";

const SLOW = 120_000;

/** A TCP server that accepts every connection and never sends a byte. */
async function blackhole(): Promise<{ url: (scheme: string) => string; hangUp(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: (scheme) => `${scheme}://x@127.0.0.1:${port}/db`,
    /** Closes the connections it holds, so clients still waiting give up at once. */
    hangUp() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe("/ready bounds each check at 1 s", () => {
  let hole: Awaited<ReturnType<typeof blackhole>>;
  beforeAll(async () => {
    hole = await blackhole();
  });
  afterAll(() => hole?.close());

  it(
    "reports a database that accepts and never answers as a timeout of its check",
    async () => {
      const app = await createTestApp(
        { DATABASE_URL: hole.url("postgres") },
        {
          migrate: false,
          configure: (c) => {
            c.database.connect_timeout = 60; // far above the check's bound
          },
        },
      );
      try {
        const res = await app.fetch("/ready");
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({
          status: "not ready",
          checks: { database: "error: database ping timed out after 1000 ms", redis: "disabled" },
        });
      } finally {
        hole.hangUp();
        await app.close();
      }
    },
    SLOW,
  );

  describe("with a Redis that stops answering", () => {
    let redis: ServerProcess;
    beforeAll(async () => {
      redis = await startRedis(); // private: it is frozen below
    }, SLOW);
    afterAll(() => redis?.destroy(), SLOW);

    it(
      "reports it as a timeout of its check (degraded, or not ready when Redis is required), and ready again once it answers",
      async () => {
        // The command timeout is far above the check's bound, so only the check's own limit can end it.
        const cache = createRedisCache({ url: redis.url, commandTimeoutMs: 60_000 }, pino({ level: "silent" }));
        const app = await createTestApp({}, { cache });
        const ready = async () => {
          const res = await app.fetch("/ready");
          return { status: res.status, body: await res.json() };
        };
        const timedOut = { database: "embedded", redis: "error: redis ping timed out after 1000 ms" };
        try {
          await eventually(async () => (await ready()).body.status === "ready", 10_000, "/ready with Redis up");
          redis.pause();
          // By default a Redis outage leaves the pod ready, reported as degraded.
          expect(await ready()).toEqual({
            status: 200,
            body: { status: "degraded", checks: timedOut },
          });
          // redis.required makes the same outage take the pod out (read per request, so set on the live config).
          app.config.redis.required = true;
          expect(await ready()).toEqual({
            status: 503,
            body: { status: "not ready", checks: timedOut },
          });
          redis.resume();
          await eventually(async () => (await ready()).status === 200, 10_000, "/ready after Redis resumed");
          expect(await ready()).toEqual({
            status: 200,
            body: { status: "ready", checks: { database: "embedded", redis: "ok" } },
          });
        } finally {
          redis.resume();
          await app.close();
        }
      },
      SLOW,
    );
  });
});

describe("a database that does not answer", () => {
  let hole: Awaited<ReturnType<typeof blackhole>>;
  beforeAll(async () => {
    hole = await blackhole();
  });
  afterAll(() => hole?.close());

  it(
    "answers 503 DATABASE_UNAVAILABLE, ended by the pool's connect timeout before the request deadline",
    async () => {
      const app = await createTestApp(
        { DATABASE_URL: hole.url("postgres") },
        {
          migrate: false,
          configure: (c) => {
            c.database.connect_timeout = 0.2;
            c.api.timeout = 5; // a request the pool did not end would answer 504 TIMEOUT
          },
        },
      );
      try {
        expect(app.database.pool?.options.connectionTimeoutMillis).toBe(200);
        for (const path of ["/v1/feeds", "/v1/stops/central/departures"]) {
          const res = await app.fetch(path);
          expect({ path, status: res.status, body: await res.json() }).toEqual({
            path,
            status: 503,
            body: {
              error: { code: "DATABASE_UNAVAILABLE", message: "the database is unavailable, try again shortly" },
            },
          });
        }
        // What ended them: pg's connect timeout, logged with each failure.
        const failures = app.logLines().filter((l) => l.msg === "request failed");
        expect(failures).toHaveLength(2);
        for (const failure of failures)
          expect((failure.err as { message: string }).message).toMatch(
            /^(Connection terminated due to connection timeout|timeout exceeded when trying to connect)$/,
          );
      } finally {
        hole.hangUp();
        await app.close();
      }
    },
    SLOW,
  );
});
