// The /v1 rate limit is one budget per client across replicas (two real server processes, one real
// Redis), and keeps limiting in process while Redis is down.

import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSharedRateLimiter, type RateDecision } from "../../src/http/rate-limit";
import { type AppServer, eventually, runMain, startAppServer } from "../support/app-server";
import { type ServerProcess, startRedis } from "../support/processes";
import { REPO_ROOT } from "../support/repo";
import { createTestDatabase, type TestDatabase, testRedisUrl } from "../support/services";

describe("two replicas share one budget per client through Redis", () => {
  const dir = mkdtempSync(join(tmpdir(), "tapi-ratelimit-"));
  const name = `client-${randomBytes(4).toString("hex")}`; // its own bucket on a shared test Redis
  const key = randomBytes(16).toString("hex");
  let replicas: AppServer[] = [];
  let db: TestDatabase | undefined;

  beforeAll(async () => {
    const config = join(dir, "config.yaml");
    // One request a minute: within the test's few seconds no token comes back, so the count is exact.
    writeFileSync(
      config,
      readFileSync(join(REPO_ROOT, "config.yaml"), "utf8").replace(/^api:\n/m, "api:\n  rate_limit: 1\n"),
    );
    // Replicas share a PostgreSQL database as they would in production (and start faster than PGlite).
    db = await createTestDatabase("ratelimit");
    const migrate = runMain(["migrate"], { DATABASE_URL: db.url });
    expect(await migrate.exited, migrate.output()).toBe(0);
    const env = {
      CONFIG_FILE: config,
      DATABASE_URL: db.url,
      REDIS_URL: await testRedisUrl(),
      API_KEYS: `${name}:${key}`,
    };
    replicas = await Promise.all([startAppServer({ env }), startAppServer({ env })]);
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lets the client's one request through on either replica, and refuses the rest on both", async () => {
    const answers: Response[] = [];
    for (let i = 0; i < 4; i++)
      answers.push(await fetch(`${replicas[i % 2]!.url}/v1/feeds`, { headers: { "x-api-key": key } }));
    expect(answers.map((r) => r.status)).toEqual([200, 429, 429, 429]);
    const [first, ...refused] = answers;
    expect(first!.headers.get("ratelimit-policy")).toBe('"per-key";q=1;w=60');
    expect(first!.headers.get("ratelimit")).toMatch(/^"per-key";r=0;t=(59|60)$/);
    for (const r of refused) {
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(50);
      expect((await r.json()).error.code).toBe("RATE_LIMITED");
    }
    // The access log names the client on both replicas.
    for (const replica of replicas)
      await eventually(async () => replica.output().includes(`"client":"${name}"`), 5000, "client in access log");
  });
});

describe("while Redis is down", () => {
  let redis: ServerProcess;
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.destroy());

  it("limits in process, says so once, and shares the budget again when Redis is back", async () => {
    const modes: string[] = [];
    const limiter = createSharedRateLimiter({
      onModeChange: (mode) => modes.push(mode),
      url: redis.url,
      perMinute: 60, // bursts of 10
      logger,
      commandTimeoutMs: 500,
      retryAfterMs: 200,
    });
    const take = async (client: string) => (await limiter.take(client)) as RateDecision;
    try {
      // The first request waits for the first connection (up to a command's time).
      await eventually(async () => (await take("warm-up")) && limiter.stats().shared > 0, 10_000, "Redis");
      const sharedBefore = limiter.stats().shared;
      expect((await take("c")).remaining).toBe(9);
      expect(limiter.stats().shared).toBe(sharedBefore + 1);

      await redis.stop();
      const localBefore = limiter.stats().local;
      const during: RateDecision[] = [];
      for (let i = 0; i < 12; i++) during.push(await take("d"));
      // Limited all the same: a burst of 10, then refused, by this replica's own buckets.
      expect(during.map((d) => d.allowed)).toEqual([...Array(10).fill(true), false, false]);
      expect(limiter.stats()).toMatchObject({ mode: "local", local: localBefore + 12 });

      await redis.start();
      const sharedDuring = limiter.stats().shared;
      await eventually(async () => (await take("e")) && limiter.stats().shared > sharedDuring, 15_000, "Redis back");
      expect(limiter.stats().mode).toBe("shared");
      const changes = lines.filter((l) => l.msg.startsWith("rate limit:")).map((l) => l.msg);
      expect(changes).toEqual([
        "rate limit: Redis unavailable, each replica limits on its own until it is back",
        "rate limit: shared through Redis again",
      ]);
      // What metrics are told (ratelimit_backend_fallback): one change each way.
      expect(modes).toEqual(["local", "shared"]);
    } finally {
      await limiter.close();
    }
  });
});
