// The import command reports its own run to a real Pushgateway (Debian's prometheus-pushgateway):
// what a successful run pushes, and that a failed run after it records the failure while keeping the
// last success's time and rows.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PUSH_JOB } from "../../src/modules/gtfs/import/run-telemetry";
import { childEnv } from "../support/app-server";
import { type Running, startPushgateway } from "../support/prometheus";
import { parseExposition, sampleValue } from "../support/prometheus-text";
import { BUN, MAIN, REPO_ROOT } from "../support/repo";
import { runProcess } from "../support/run";
import { createTestDatabase, type TestDatabase } from "../support/services";

const SAMPLE_ZIP = `${REPO_ROOT}/node_modules/sample-gtfs-feed/gtfs.zip`;

/** Runs `bun src/main.ts <args>` to its end, with only `env` beside the launcher's base. */
const run = (args: string[], env: Record<string, string>) => runProcess(BUN, [MAIN, ...args], { env: childEnv(env) });

describe("the import command pushes its run to a Pushgateway", () => {
  let gateway: Running;
  let db: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    gateway = await startPushgateway();
    db = await createTestDatabase("push");
    env = { DATABASE_URL: db.url, PUSHGATEWAY_URL: gateway.url, PUSHGATEWAY_INSTANCE: "staging", LOG_LEVEL: "warn" };
    const migrated = await run(["migrate"], env);
    expect(migrated.code, migrated.output).toBe(0);
  });
  afterAll(async () => {
    await gateway?.stop();
    await db?.drop();
  });

  const pushed = async () => parseExposition(await (await fetch(`${gateway.url}/metrics`)).text());
  const group = { job: PUSH_JOB, instance: "staging" };

  it("a successful run: outcome, time, duration, feed version and rows per file", async () => {
    const before = Date.now() / 1000;
    const r = await run(["import", SAMPLE_ZIP], env);
    expect(r.code, r.output).toBe(0);
    const s = await pushed();
    expect(sampleValue(s, "gtfs_import_last_run_success", group)).toBe(1);
    const success = sampleValue(s, "gtfs_import_last_success_timestamp_seconds", group)!;
    expect(success).toBeGreaterThanOrEqual(Math.floor(before));
    expect(sampleValue(s, "gtfs_import_last_run_duration_seconds", group)).toBeGreaterThan(0);
    expect(sampleValue(s, "gtfs_import_last_success_feed_version", group)).toBeGreaterThan(0);
    expect(sampleValue(s, "gtfs_import_last_success_rows", { ...group, file: "stops.txt" })).toBeGreaterThan(0);
  });

  it("a failed run: recorded as failed, the last success's time kept", async () => {
    const lastSuccess = sampleValue(await pushed(), "gtfs_import_last_success_timestamp_seconds", group);
    const r = await run(["import", `${REPO_ROOT}/no-such-feed.zip`], env);
    expect(r.code).not.toBe(0);
    const s = await pushed();
    expect(sampleValue(s, "gtfs_import_last_run_success", group)).toBe(0);
    expect(sampleValue(s, "gtfs_import_last_success_timestamp_seconds", group)).toBe(lastSuccess);
    expect(sampleValue(s, "gtfs_import_last_run_timestamp_seconds", group)).toBeGreaterThan(lastSuccess!);
  });

  it("a Pushgateway that does not answer costs a warning, not the import", async () => {
    const r = await run(["import", SAMPLE_ZIP], { ...env, PUSHGATEWAY_URL: "http://127.0.0.1:1" });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain("the import's metrics were not pushed to http://127.0.0.1:1");
  });
});
