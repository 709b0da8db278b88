import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { type AppServer, childEnv, startAppServer } from "../support/app-server";
import { BUN } from "../support/repo";
import { runProcess } from "../support/run";
import { createTestDatabase, stopPrivateServers } from "../support/services";

describe("test support", () => {
  afterAll(stopPrivateServers);
  it("creates an isolated database on a real PostgreSQL 15", async () => {
    const db = await createTestDatabase();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query("select current_setting('server_version_num')::int as v");
    await client.end();
    await db.drop();
    expect(rows[0].v).toBeGreaterThanOrEqual(150000);
  });
});

describe("the service launcher", () => {
  it("keeps the caller's API_KEY, LOG_FILE, CONFIG_FILE and any other variable out of the child", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tapi-leak-"));
    const leaked: Record<string, string> = {
      API_KEY: "leaked-key-0123456789", // would make /v1 answer 401 without it
      LOG_FILE: join(dir, "leaked.log"), // would be created
      CONFIG_FILE: join(dir, "leaked.yaml"), // holds a config the service refuses: it would not start
      TAPI_LEAK_PROBE: "leaked",
    };
    writeFileSync(leaked.CONFIG_FILE!, "api: 5\n");
    const saved = Object.fromEntries(Object.keys(leaked).map((k) => [k, process.env[k]]));
    Object.assign(process.env, leaked);
    let app: AppServer | undefined;
    try {
      const probe = await runProcess(BUN, ["-e", "console.log(JSON.stringify(process.env))"], { env: childEnv() });
      const seen = JSON.parse(probe.stdout) as Record<string, string>;
      expect(Object.keys(leaked).filter((k) => k in seen)).toEqual([]);
      expect(seen.PATH).toBe(process.env.PATH);

      app = await startAppServer({ args: ["--migrate"] });
      const res = await fetch(`${app.url}/v1/feeds`);
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 200,
        body: { data: [], next_cursor: null },
      });
      expect(existsSync(leaked.LOG_FILE!)).toBe(false);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await app?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
