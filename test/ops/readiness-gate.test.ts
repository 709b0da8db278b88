// The readiness gate against real running instances of the service: healthy, its database stopped,
// and a version other than the one being deployed.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readinessGate } from "../../scripts/ops/lib/readiness-gate";
import { type AppServer, startAppServer } from "../support/app-server";
import { freePort, type ServerProcess, startPostgres } from "../support/processes";
import { BUN } from "../support/repo";
import { runProcess } from "../support/run";
import { createTestDatabase, stopPrivateServers, type TestDatabase, testRedisUrl } from "../support/services";
import { parseOutputFile } from "./harness";

const fast = { consecutive: 3, intervalMs: 100, requestTimeoutMs: 2000 };
const SLOW = 120_000;

describe("readiness gate against the running service", () => {
  let db: TestDatabase;
  let healthy: AppServer;
  let ownPostgres: ServerProcess;
  let fragile: AppServer; // on a Postgres this file stops and starts

  beforeAll(async () => {
    db = await createTestDatabase("gate");
    const redis = await testRedisUrl();
    ownPostgres = await startPostgres();
    [healthy, fragile] = await Promise.all([
      startAppServer({ args: ["--migrate"], env: { DATABASE_URL: db.url, REDIS_URL: redis, APP_VERSION: "2.3.4" } }),
      startAppServer({
        args: ["--migrate"],
        env: { DATABASE_URL: ownPostgres.url, REDIS_URL: redis, APP_VERSION: "2.3.4" },
      }),
    ]);
  }, SLOW);

  afterAll(async () => {
    await healthy?.stop();
    await fragile?.stop();
    await ownPostgres?.destroy();
    await db?.drop();
    await stopPrivateServers();
  }, SLOW);

  it(
    "passes for a healthy instance reporting the expected version",
    async () => {
      const result = await readinessGate({ url: healthy.url, expectedVersion: "2.3.4", timeoutMs: 30_000, ...fast });
      expect(result).toMatchObject({ ok: true, observedVersion: "2.3.4" });
      expect(result.polls).toBeGreaterThanOrEqual(3);
      // a v-prefixed tag names the same version
      expect(
        (await readinessGate({ url: healthy.url, expectedVersion: "v2.3.4", timeoutMs: 30_000, ...fast })).ok,
      ).toBe(true);
    },
    SLOW,
  );

  it(
    "fails for a ready instance that reports another version",
    async () => {
      const result = await readinessGate({ url: healthy.url, expectedVersion: "2.4.0", timeoutMs: 1500, ...fast });
      expect(result.ok).toBe(false);
      expect(result.reason).toContain("expected version 2.4.0, /version reports 2.3.4");
      expect(result.observedVersion).toBe("2.3.4");
    },
    SLOW,
  );

  it(
    "fails while Postgres is stopped and passes again once it is back",
    async () => {
      expect((await readinessGate({ url: fragile.url, expectedVersion: "2.3.4", timeoutMs: 30_000, ...fast })).ok).toBe(
        true,
      );
      await ownPostgres.stop();
      try {
        const down = await readinessGate({ url: fragile.url, expectedVersion: "2.3.4", timeoutMs: 3000, ...fast });
        expect(down.ok).toBe(false);
        expect(down.reason).toMatch(/\/ready answered 503 .*"database":"error/);
      } finally {
        await ownPostgres.start();
      }
      const back = await readinessGate({ url: fragile.url, expectedVersion: "2.3.4", timeoutMs: 60_000, ...fast });
      expect(back.ok, back.reason).toBe(true);
    },
    SLOW,
  );

  it(
    "fails when nothing answers at the URL",
    async () => {
      const port = await freePort();
      const result = await readinessGate({ url: `http://127.0.0.1:${port}`, timeoutMs: 800, ...fast });
      expect(result.ok).toBe(false);
      expect(result.reason).toMatch(/\/ready: (ECONNREFUSED|.*refused|Unable to connect)/i);
    },
    SLOW,
  );

  it(
    "is what `verify` runs: exit code, step outputs and annotation",
    async () => {
      const work = mkdtempSync(join(tmpdir(), "tapi-verify-"));
      const outputFile = join(work, "output");
      const run = async (expected: string, gateTimeout: string) => {
        writeFileSync(outputFile, "");
        const env = { ...process.env, GITHUB_ACTIONS: "true", GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: "" };
        const r = await runProcess(
          BUN,
          [
            "scripts/ops/verify.ts",
            "--url",
            healthy.url,
            "--expected-version",
            expected,
            "--interval",
            "0.1",
            "--gate-timeout",
            gateTimeout,
          ],
          { env },
        );
        return { ...r, outputs: parseOutputFile(readFileSync(outputFile, "utf8")) };
      };
      const good = await run("2.3.4", "60");
      expect(good.code, good.stdout + good.stderr).toBe(0);
      expect(good.outputs).toEqual({ ready: "true", version: "2.3.4" });
      const bad = await run("9.9.9", "3");
      expect(bad.code).toBe(1);
      expect(bad.outputs.ready).toBe("false");
      expect(bad.stdout).toContain(
        "::error title=Readiness gate failed::not ready within 3 s: expected version 9.9.9, /version reports 2.3.4",
      );
      rmSync(work, { recursive: true, force: true });
    },
    SLOW,
  );
});
