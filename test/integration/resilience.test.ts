// The running service against real PostgreSQL 15 and Redis 7 that are stopped and restarted under it.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cache } from "../../src/cache/cache";
import { createRedisCache } from "../../src/cache/redis-cache";
import { resilient } from "../../src/cache/resilient-cache";
import { type AppServer, childEnv, eventually, startAppServer } from "../support/app-server";
import { freePort, type ServerProcess, startPostgres, startRedis } from "../support/processes";
import { BUN, MAIN, REPO_ROOT } from "../support/repo";

const ready = async (s: AppServer) => (await fetch(`${s.url}/ready`)).status === 200;
const notReady = async (s: AppServer) => (await fetch(`${s.url}/ready`)).status === 503;

describe("readiness follows PostgreSQL and Redis", () => {
  let postgres: ServerProcess;
  let redis: ServerProcess;
  let app: AppServer;
  let logDir: string;

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    logDir = mkdtempSync(join(tmpdir(), "tapi-logs-"));
    app = await startAppServer({
      args: ["--migrate"],
      env: { DATABASE_URL: postgres.url, REDIS_URL: redis.url, LOG_FILE: join(logDir, "api.log") },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await Promise.all([postgres?.destroy(), redis?.destroy()]);
  });

  it("is ready with both dependencies up", async () => {
    const res = await fetch(`${app.url}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready", checks: { database: "ok", redis: "ok" } });
  });

  it("turns 503 when PostgreSQL stops and recovers without a restart", async () => {
    await postgres.stop();
    const down = await eventually(() => notReady(app), 10_000, "/ready 503 after PostgreSQL stopped");
    const body = await (await fetch(`${app.url}/ready`)).json();
    expect(body.status).toBe("not ready");
    expect(body.checks.database).toMatch(/^error: /);
    expect(body.checks.redis).toBe("ok");
    // Data requests fail fast with the JSON error instead of hanging on the dead pool.
    const started = Date.now();
    const data = await fetch(`${app.url}/v1/feeds`);
    const tookMs = Date.now() - started;
    expect(data.status).toBe(503);
    expect((await data.json()).error.code).toBe("DATABASE_UNAVAILABLE");
    console.log(`postgres down: /v1/feeds answered 503 in ${tookMs} ms`);
    await postgres.start();
    const up = await eventually(() => ready(app), 15_000, "/ready 200 after PostgreSQL restarted");
    console.log(`postgres: /ready 503 after ${down} ms, back to 200 ${up} ms after restart`);
  });

  it("stays ready when Redis stops, reporting it as degraded, and serves from the database", async () => {
    // A second server that requires Redis (redis.required: true), side by side with the default one.
    const dir = mkdtempSync(join(tmpdir(), "tapi-redis-required-"));
    const config = join(dir, "config.yaml");
    writeFileSync(
      config,
      readFileSync(join(REPO_ROOT, "config.yaml"), "utf8").replace(/^ {2}required: false/m, "  required: true"),
    );
    const strict = await startAppServer({
      env: { DATABASE_URL: postgres.url, REDIS_URL: redis.url, CONFIG_FILE: config },
    });
    try {
      await eventually(() => ready(strict), 10_000, "the strict server ready with Redis up");
      await redis.stop();
      const down = await eventually(() => notReady(strict), 10_000, "/ready 503 on the server that requires Redis");
      const res = await fetch(`${app.url}/ready`);
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body).toMatchObject({ status: "degraded", checks: { database: "ok" } });
      expect(body.checks.redis).toMatch(/^error: /);
      expect((await (await fetch(`${strict.url}/ready`)).json()).status).toBe("not ready");
      const data = await fetch(`${app.url}/v1/feeds`);
      expect(data.status).toBe(200); // the cache is optional: reads go to the database
      expect(Array.isArray((await data.json()).data)).toBe(true);
      await redis.start();
      const up = await eventually(
        async () => (await (await fetch(`${app.url}/ready`)).json()).status === "ready",
        15_000,
        "status ready after Redis restarted",
      );
      await eventually(() => ready(strict), 15_000, "/ready 200 on the strict server after Redis restarted");
      console.log(`redis: strict server 503 after ${down} ms; default server back to "ready" ${up} ms after restart`);
    } finally {
      await strict.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects a declared body over the limit with 413 JSON", async () => {
    const res = await fetch(`${app.url}/health`, { method: "POST", body: "x".repeat(1_048_577) });
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("writes the same JSON lines to LOG_FILE as to stdout", async () => {
    const id = `log-check-${Date.now()}`;
    await fetch(`${app.url}/version`, { headers: { "x-request-id": id } });
    const file = join(logDir, "api.log");
    await eventually(
      async () => existsSync(file) && readFileSync(file, "utf8").includes(id),
      5000,
      "access line in LOG_FILE",
    );
    const line = readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((l) => l.req_id === id);
    expect(line).toMatchObject({ msg: "request", method: "GET", route: "/version", status: 200 });
    await eventually(async () => app.output().includes(id), 5000, "access line on stdout");
  });
});

/** Read-through as the modules use it: the cached value, or load and store. */
async function readThrough<T>(cache: Cache, key: string, load: () => Promise<T>): Promise<T> {
  const hit = await cache.get(key);
  if (hit !== undefined) return JSON.parse(hit) as T;
  const value = await load();
  await cache.set(key, JSON.stringify(value), 60);
  return value;
}

describe("a cache outage never fails a read", () => {
  it("reads through to the loader while Redis is down, and caches again when it is back", async () => {
    const redis = await startRedis();
    const cache = resilient(
      createRedisCache({ url: redis.url, commandTimeoutMs: 300 }, pino({ level: "silent" })),
      pino({ level: "silent" }),
    );
    try {
      await eventually(async () => cache.ping(500).then(() => true), 10_000, "redis connect");
      let loads = 0;
      const load = async () => ({ n: ++loads });
      expect(await readThrough(cache, "k", load)).toEqual({ n: 1 });
      expect(await readThrough(cache, "k", load)).toEqual({ n: 1 }); // cached
      await redis.stop();
      expect(await readThrough(cache, "k", load)).toEqual({ n: 2 }); // miss: goes to the loader
      expect(await readThrough(cache, "k", load)).toEqual({ n: 3 });
      await redis.start();
      await eventually(async () => cache.ping(500).then(() => true), 10_000, "redis reconnect");
      expect(await readThrough(cache, "k2", load)).toEqual({ n: 4 });
      expect(await readThrough(cache, "k2", load)).toEqual({ n: 4 });
    } finally {
      await cache.close();
      await redis.destroy();
    }
  });
});

describe("migrations", () => {
  let postgres: ServerProcess;
  beforeAll(async () => {
    postgres = await startPostgres();
  });
  afterAll(() => postgres?.destroy());

  it("two concurrent `migrate` runs both succeed and apply each migration once", async () => {
    const { spawn } = await import("node:child_process");
    const run = () =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(BUN, [MAIN, "migrate"], { cwd: REPO_ROOT, env: childEnv({ DATABASE_URL: postgres.url }) });
        let out = "";
        child.stdout.on("data", (c) => {
          out += c;
        });
        child.stderr.on("data", (c) => {
          out += c;
        });
        child.on("exit", (code) => resolve({ code, out }));
      });
    const results = await Promise.all([run(), run()]);
    for (const r of results) expect(r.code, r.out).toBe(0);
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    const { rows } = await client.query("select name, count(*)::int as n from kysely_migration group by name");
    await client.end();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.n).toBe(1);
    const appliedNow = results.map((r) => /applied (\d+) migration/.exec(r.out)?.[1] ?? "0").map(Number);
    expect(appliedNow.sort()).toEqual([0, rows.length]);
  });
});

describe("command line", () => {
  it("exits 2 with one line naming the bad key", () => {
    let status = 0;
    let stderr = "";
    try {
      execFileSync(BUN, [MAIN, "migrate"], { cwd: REPO_ROOT, env: childEnv({ PORT: "abc" }), stdio: "pipe" });
    } catch (err) {
      const e = err as { status: number; stderr: Buffer };
      status = e.status;
      stderr = e.stderr.toString();
    }
    expect(status).toBe(2);
    expect(stderr).toBe("error: invalid configuration: PORT: must be a whole number\n");
  });

  it("refuses to start in production without API_KEY", () => {
    let status = 0;
    let stderr = "";
    try {
      execFileSync(BUN, [MAIN, "serve"], { cwd: REPO_ROOT, env: childEnv({ NODE_ENV: "production" }), stdio: "pipe" });
    } catch (err) {
      const e = err as { status: number; stderr: Buffer };
      status = e.status;
      stderr = e.stderr.toString();
    }
    expect(status).toBe(2);
    expect(stderr.trim().split("\n")).toEqual([
      "error: invalid configuration: API_KEY: is required when NODE_ENV=production (or API_KEYS, API_KEYS_FILE)",
    ]);
  });
});

describe("configuration from a newer release", () => {
  it("serves with the keys it knows and names the others in one start-up warning", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tapi-newer-config-"));
    const config = join(dir, "config.yaml");
    writeFileSync(
      config,
      `${readFileSync(join(REPO_ROOT, "config.yaml"), "utf8")}\nprofiling:\n  port: 9100\n`.replace(
        /^api:\n/m,
        "api:\n  new_knob: true\n",
      ),
    );
    const server = await startAppServer({ env: { CONFIG_FILE: config } });
    try {
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      const warnings = server
        .output()
        .split("\n")
        .filter((line) => line.includes("unknown keys ignored"))
        .map((line) => JSON.parse(line));
      expect(warnings).toEqual([expect.objectContaining({ level: "warn", keys: ["profiling", "api.new_knob"] })]);
    } finally {
      expect(await server.stop()).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("graceful shutdown", () => {
  let blackhole: Server;
  const sockets: Socket[] = [];
  let connected!: () => void;
  const firstConnection = new Promise<void>((r) => {
    connected = r;
  });

  beforeAll(async () => {
    // A "database" that accepts connections and never answers: /ready stays in flight for its check timeout.
    blackhole = createServer((socket) => {
      sockets.push(socket);
      // Only the request pool's connection counts (the feed listener also connects, at start-up);
      // the startup packet names the client's application_name.
      socket.on("data", (data) => {
        if (data.includes("application_name\0transportation-api\0")) connected();
      });
    });
    await new Promise<void>((r) => blackhole.listen(0, "127.0.0.1", r));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => blackhole.close(r));
  });

  it("finishes the in-flight request after SIGTERM, then exits 0", async () => {
    const address = blackhole.address();
    const port = typeof address === "object" && address ? address.port : await freePort();
    const app = await startAppServer({ env: { DATABASE_URL: `postgres://x@127.0.0.1:${port}/db` } });
    const inFlight = fetch(`${app.url}/ready`);
    await firstConnection; // the request is now waiting on the database
    app.child.kill("SIGTERM");
    const res = await inFlight;
    expect(res.status).toBe(503);
    expect((await res.json()).status).toBe("not ready");
    expect(await app.exited).toBe(0);
    expect(app.output()).toContain("shutting down");
  });
});
