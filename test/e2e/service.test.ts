// The built image running the service against real PostgreSQL 15 and Redis 7: migrate through the
// container's CLI, the operational endpoints, readiness following its dependencies, the production
// hardening (non-root, read-only root filesystem), the HEALTHCHECK, the log file, and shutdown on SIGTERM.
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort, type ServerProcess, startPostgres, startRedis } from "../support/processes";
import {
  API_KEY,
  type Container,
  docker,
  e2eSuite,
  get,
  type ImageUnderTest,
  imageUnderTest,
  jsonLines,
  runOnce,
  startService,
  waitFor,
} from "./support/docker";

const suite = e2eSuite();

suite("the image running the service", () => {
  let image: ImageUnderTest;
  let postgres: ServerProcess;
  let redis: ServerProcess;
  let api: Container;
  let logDir: string;
  const env = () => ({ DATABASE_URL: postgres.url, REDIS_URL: redis.url });

  beforeAll(async () => {
    [image, postgres, redis] = await Promise.all([imageUnderTest(), startPostgres(), startRedis()]);
    // The service runs as uid 10001: a bind-mounted log folder must be writable by it.
    logDir = mkdtempSync(join(tmpdir(), "tapi-e2e-logs-"));
    chownSync(logDir, 10001, 10001);
    chmodSync(logDir, 0o755);
  }, 1_800_000);

  afterAll(async () => {
    await api?.remove();
    await Promise.allSettled([postgres?.destroy(), redis?.destroy()]);
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  }, 120_000);

  it("migrates the database through the container's CLI, and again as a no-op", async () => {
    const first = await runOnce(image.ref, { args: ["migrate"], env: { ...env(), API_KEY } });
    expect(first.code, first.stderr + first.stdout).toBe(0);
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    const { rows } = await client.query("select count(*)::int as n from kysely_migration");
    await client.end();
    expect(rows[0].n).toBeGreaterThan(0);
    const again = await runOnce(image.ref, { args: ["migrate"], env: { ...env(), API_KEY } });
    expect(again.code, again.stderr + again.stdout).toBe(0);
  }, 300_000);

  it("serves /health, /ready and /version with the version stamped at build time", async () => {
    api = await startService(image.ref, await freePort(), {
      env: { ...env(), LOG_FILE: "/var/log/transportation/transportation-api.log" },
      mounts: { [logDir]: "/var/log/transportation:rw" },
      // The image's HEALTHCHECK command, polled faster than in production so the test need not wait.
      flags: ["--health-interval", "1s", "--health-start-period", "0s"],
    });
    const health = await get(`${api.url}/health`);
    expect(health.status).toBe(200);
    expect(health.json()).toMatchObject({ status: "healthy", version: image.version });
    expect(Number.isNaN(Date.parse(health.json().timestamp))).toBe(false);

    const version = await get(`${api.url}/version`);
    expect(version.status).toBe(200);
    expect(version.json()).toEqual({ version: image.version, commit: image.commit, build_time: image.buildTime });

    // Readiness follows the connections to PostgreSQL and Redis, which may still be opening.
    await waitFor(async () => (await get(`${api.url}/ready`)).status === 200, 30_000, "/ready 200");
    const ready = await get(`${api.url}/ready`);
    expect(ready.status, ready.body).toBe(200);
    expect(ready.json()).toMatchObject({ status: "ready", checks: { database: "ok", redis: "ok" } });
  }, 120_000);

  it("is reported healthy by the image's HEALTHCHECK (a Bun script, no curl)", async () => {
    let health = "";
    await waitFor(
      async () => {
        health = await api.inspect<string>(".State.Health.Status");
        return health === "healthy";
      },
      60_000,
      "container health",
    );
    expect(health).toBe("healthy");
  }, 90_000);

  it("runs as uid/gid 10001 on a read-only root filesystem with a writable /tmp", async () => {
    expect(await api.inspect<boolean>(".HostConfig.ReadonlyRootfs")).toBe(true);
    // PID 1 is the service itself (exec-form entrypoint), running as the non-root user.
    const status = await api.exec(["cat", "/proc/1/status"]);
    expect(status.stdout).toMatch(/^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
    expect(status.stdout).toMatch(/^Gid:\s+10001\s+10001\s+10001\s+10001$/m);
    const cmdline = await api.exec(["cat", "/proc/1/cmdline"]);
    expect(cmdline.stdout.split("\0").filter(Boolean)).toEqual(["bun", "src/main.ts", "serve"]);

    const probe = `const fs = require("node:fs");
      const attempt = (p) => { try { fs.writeFileSync(p, "x"); fs.rmSync(p); return "ok"; } catch (e) { return e.code; } };
      console.log(JSON.stringify({ app: attempt("/app/probe"), src: attempt("/app/src/probe"), etc: attempt("/etc/probe"), tmp: attempt("/tmp/probe") }));`;
    const writes = await api.exec(["bun", "-e", probe]);
    expect(writes.code, writes.stderr).toBe(0);
    expect(JSON.parse(writes.stdout)).toEqual({ app: "EROFS", src: "EROFS", etc: "EROFS", tmp: "ok" });
  }, 60_000);

  it("writes its JSON log to LOG_FILE in the mounted log folder", async () => {
    await get(`${api.url}/health`, { "x-request-id": "e2e-log-file-probe" });
    const file = join(logDir, "transportation-api.log");
    await waitFor(
      async () => readFileSync(file, "utf8").includes("e2e-log-file-probe"),
      20_000,
      "log line in LOG_FILE",
    );
    expect(readdirSync(logDir)).toContain("transportation-api.log");
    const line = jsonLines(readFileSync(file, "utf8")).find((l) => l.req_id === "e2e-log-file-probe");
    expect(line).toMatchObject({ msg: "request", status: 200, version: image.version });
  }, 60_000);

  it("answers /v1 only with the API key", async () => {
    const without = await get(`${api.url}/v1/agencies`);
    expect(without.status).toBe(401);
    expect(without.json().error.code).toBe("UNAUTHORIZED");
    const wrong = await get(`${api.url}/v1/agencies`, { "x-api-key": "not-the-key" });
    expect(wrong.status).toBe(401);
    const withKey = await get(`${api.url}/v1/agencies`, { "x-api-key": API_KEY });
    expect(withKey.status).not.toBe(401);
    const bearer = await get(`${api.url}/v1/agencies`, { authorization: `Bearer ${API_KEY}` });
    expect(bearer.status).toBe(withKey.status);
  }, 60_000);

  it("stays ready while Redis is down, reporting it as degraded, and ready again once it is back", async () => {
    await redis.stop();
    try {
      await waitFor(
        async () => (await get(`${api.url}/ready`)).json().status === "degraded",
        30_000,
        "/ready degraded without Redis",
      );
      const down = await get(`${api.url}/ready`);
      expect(down.status).toBe(200); // still in the Service: every request is served from the database
      expect(down.json().checks.redis).toMatch(/^error/);
      expect((await get(`${api.url}/health`)).status).toBe(200);
    } finally {
      await redis.start();
    }
    await waitFor(
      async () => (await get(`${api.url}/ready`)).json().status === "ready",
      60_000,
      "/ready ready after Redis restart",
    );
    expect((await get(`${api.url}/ready`)).json().checks.redis).toBe("ok");
  }, 180_000);

  it("reports 503 on /ready while PostgreSQL is down and 200 once it is back", async () => {
    await postgres.stop();
    try {
      await waitFor(
        async () => (await get(`${api.url}/ready`)).status === 503,
        30_000,
        "/ready 503 without PostgreSQL",
      );
      const down = await get(`${api.url}/ready`);
      expect(down.json().checks.database).toMatch(/^error/);
      expect((await get(`${api.url}/health`)).status).toBe(200);
    } finally {
      await postgres.start();
    }
    await waitFor(
      async () => (await get(`${api.url}/ready`)).status === 200,
      60_000,
      "/ready 200 after PostgreSQL restart",
    );
    expect((await get(`${api.url}/ready`)).json().checks.database).toBe("ok");
  }, 180_000);

  it("stops on `docker stop` (SIGTERM to PID 1) with exit code 0 within the default grace period", async () => {
    const stop = await docker(["stop", "--time", "10", api.name]);
    expect(stop.code, stop.stderr).toBe(0);
    const code = await api.inspect<number>(".State.ExitCode");
    // 137 would mean Docker had to SIGKILL it after the grace period.
    expect(code).toBe(0);
    expect(await api.logs()).toContain('"signal":"SIGTERM"');
  }, 60_000);
});
