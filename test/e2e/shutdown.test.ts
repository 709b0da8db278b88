// SIGTERM under load: the container stops taking new connections, finishes every request it had taken
// (including ones held up in the database at the moment of the signal), and exits 0 by itself.
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort, type ServerProcess, startPostgres, startRedis } from "../support/processes";
import {
  API_KEY,
  type Container,
  docker,
  e2eSuite,
  get,
  type HttpResponse,
  type ImageUnderTest,
  imageUnderTest,
  jsonLines,
  runOnce,
  startService,
  waitFor,
} from "./support/docker";

const suite = e2eSuite();

const HELD = 6; // requests held in flight by a table lock when SIGTERM arrives
const LOAD_LOOPS = 4; // clients sending back-to-back requests throughout

interface Outcome {
  id: string;
  response?: HttpResponse;
  error?: string;
}

suite("graceful shutdown of the container under load", () => {
  let image: ImageUnderTest;
  let postgres: ServerProcess;
  let redis: ServerProcess;
  let api: Container | undefined;

  beforeAll(async () => {
    [image, postgres, redis] = await Promise.all([imageUnderTest(), startPostgres(), startRedis()]);
    const migrate = await runOnce(image.ref, {
      args: ["migrate"],
      env: { DATABASE_URL: postgres.url, REDIS_URL: redis.url, API_KEY },
    });
    if (migrate.code !== 0) throw new Error(`migrate failed: ${migrate.stderr}`);
  }, 1_800_000);

  afterAll(async () => {
    await api?.remove();
    await Promise.allSettled([postgres?.destroy(), redis?.destroy()]);
  }, 120_000);

  it("drops no in-flight request on SIGTERM and exits 0", async () => {
    const service = await startService(image.ref, await freePort(), {
      env: { DATABASE_URL: postgres.url, REDIS_URL: redis.url },
    });
    api = service;
    const outcome = (id: string, path: string): Promise<Outcome> =>
      get(`${service.url}${path}`, { "x-request-id": id }).then(
        (response) => ({ id, response }),
        (err: NodeJS.ErrnoException) => ({ id, error: err.code ?? err.message }),
      );

    // Background load: back-to-back requests on fresh connections until the listener is gone.
    let signalled = false;
    const deadline = Date.now() + 90_000;
    const loops = Array.from({ length: LOAD_LOOPS }, async (_, loop) => {
      const results: Outcome[] = [];
      for (let n = 0; Date.now() < deadline && n < 20_000; n++) {
        const result = await outcome(`load-${loop}-${n}`, "/health");
        results.push(result);
        if (result.error && signalled) break; // connection refused after the signal: nothing more to learn
      }
      return results;
    });

    // Hold HELD requests inside the database: /ready's first schema check reads kysely_migration,
    // which this transaction locks until after the signal.
    const locker = new pg.Client({ connectionString: postgres.url });
    const observer = new pg.Client({ connectionString: postgres.url });
    await Promise.all([locker.connect(), observer.connect()]);
    let held: Promise<Outcome>[] = [];
    try {
      await locker.query("begin");
      await locker.query("lock table kysely_migration in access exclusive mode");
      held = Array.from({ length: HELD }, (_, i) => outcome(`held-${i}`, "/ready"));
      await waitFor(
        async () => {
          const { rows } = await observer.query(
            "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query ilike '%kysely_migration%'",
          );
          return rows[0].n >= HELD;
        },
        8_000, // under the service's 10 s statement timeout
        "requests waiting on the lock",
      );

      signalled = true;
      const kill = await docker(["kill", "--signal", "SIGTERM", service.name]);
      expect(kill.code, kill.stderr).toBe(0);
      let shutdownLine: Record<string, unknown> | undefined;
      await waitFor(
        async () => {
          shutdownLine = jsonLines(await service.logs()).find((l) => String(l.msg).startsWith("shutting down"));
          return shutdownLine !== undefined;
        },
        5_000,
        "the shutdown log line",
      );
      expect(shutdownLine?.signal).toBe("SIGTERM");
      expect(Number(shutdownLine?.in_flight)).toBeGreaterThanOrEqual(HELD);
      // Draining: no new connections are accepted while the held requests are still open.
      await waitFor(
        async () => (await outcome("after-signal", "/health")).error === "ECONNREFUSED",
        5_000,
        "new connections refused",
      );
    } finally {
      await locker.query("rollback").catch(() => {});
      await Promise.all([locker.end(), observer.end()]);
    }

    // Every held request gets its complete answer: not ready (shutting down), or ready.
    for (const result of await Promise.all(held)) {
      expect(result.error, `${result.id} failed`).toBeUndefined();
      expect([200, 503]).toContain(result.response?.status);
      expect(["ready", "not ready"]).toContain(result.response?.json().status);
    }
    const exitCode = await service.wait(60_000);
    expect(exitCode).toBe(0);

    // Every load request the service handled (it logs each one by id) reached its client complete;
    // the only failures are connections the closed listener never took.
    const load = (await Promise.all(loops)).flat();
    const handled = new Set(
      jsonLines(await service.logs())
        .filter((l) => l.msg === "request")
        .map((l) => String(l.req_id)),
    );
    const dropped = load.filter((r) => handled.has(r.id) && r.error);
    const answered = load.filter((r) => r.response);
    expect(dropped).toEqual([]);
    expect(answered.every((r) => r.response?.status === 200 && handled.has(r.id))).toBe(true);
    expect(answered.length).toBeGreaterThan(0);
    console.log(
      `[e2e] shutdown: ${answered.length} load requests answered, ${load.length - answered.length} refused after the signal, ` +
        `${HELD} held requests completed, in_flight at signal ≥ ${HELD}`,
    );
  }, 300_000);
});
