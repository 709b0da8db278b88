// docker-compose.yml: validated and rendered by Debian's docker-compose (no engine needed for `config`),
// then checked against the operations design's stack and what this project adds to it.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT } from "../support/repo";
import { command } from "./support/docker";

const available = spawnSync("docker-compose", ["version"], { encoding: "utf8" }).status === 0;
if (!available)
  console.warn(
    "[e2e] SKIPPED compose checks: no docker-compose (apt-get install docker-compose, or npm run docker:engine)",
  );
const suite = available ? describe : describe.skip;

// An empty env file, so that a developer's own .env does not change what is checked.
const dir = mkdtempSync(join(tmpdir(), "tapi-e2e-compose-"));
const emptyEnv = join(dir, "empty.env");
writeFileSync(emptyEnv, "");

function compose(env: Record<string, string>, ...args: string[]) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(API_KEY|API_SECRET|POSTGRES_|REDIS_|LOG_LEVEL|APP_VERSION|GTFS_)/.test(k),
    ),
  );
  return command(
    "docker-compose",
    [
      "--project-directory",
      REPO_ROOT,
      "--env-file",
      emptyEnv,
      "-f",
      join(REPO_ROOT, "docker-compose.yml"),
      "config",
      ...args,
    ],
    { env: { ...clean, ...env }, cwd: REPO_ROOT, timeoutMs: 60_000 },
  );
}

/** What .env must set: Compose has no fallback for any of them. */
const SECRETS = {
  API_KEY: "compose-test-key-123",
  API_SECRET: "compose-test-secret-456",
  POSTGRES_PASSWORD: "pg-0123456789abcdef",
  REDIS_PASSWORD: "redis-fedcba9876543210",
};

suite("docker-compose.yml", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("validates, and refuses to render without each secret: no fallback credentials", async () => {
    const ok = await compose(SECRETS, "--quiet");
    expect(ok.code, ok.stderr).toBe(0);
    for (const name of Object.keys(SECRETS)) {
      const { [name as keyof typeof SECRETS]: _, ...rest } = SECRETS;
      const missing = await compose(rest);
      expect(missing.code, name).not.toBe(0);
      expect(missing.stderr).toContain(`set ${name} in .env`);
    }
  }, 120_000);

  it("renders the design's stack: API, PostgreSQL 15, Redis 7, volumes, logs and one network", async () => {
    const rendered = await compose(SECRETS);
    expect(rendered.code, rendered.stderr).toBe(0);
    const doc = parse(rendered.stdout);
    const api = doc.services["transportation-api"];
    expect(api.image).toBe("transportation-api:latest");
    // Built by `npm run image:build` (Bun's version from package.json), never built or pulled by Compose.
    expect(api.build).toBeUndefined();
    expect(api.pull_policy).toBe("never");
    expect(api.ports).toEqual([expect.objectContaining({ published: 8000, target: 8000 })]);
    expect(api.environment).toMatchObject({
      DATABASE_URL: `postgresql://transportation:${SECRETS.POSTGRES_PASSWORD}@postgres:5432/transportation_db`,
      REDIS_URL: `redis://:${SECRETS.REDIS_PASSWORD}@redis:6379`,
      API_KEY: "compose-test-key-123",
      API_SECRET: SECRETS.API_SECRET,
      LOG_FILE: "/var/log/transportation/transportation-api.log",
    });
    expect(api.volumes).toContain(`${REPO_ROOT}/logs:/var/log/transportation:rw`);
    expect(Object.keys(api.networks)).toEqual(["transportation-network"]);
    expect(api.read_only).toBe(true);

    const postgres = doc.services.postgres;
    expect(postgres.image).toMatch(/^postgres:15[.\d]*@sha256:[0-9a-f]{64}$/); // what runs is what was tested
    expect(postgres.environment).toEqual({
      POSTGRES_USER: "transportation",
      POSTGRES_PASSWORD: SECRETS.POSTGRES_PASSWORD,
      POSTGRES_DB: "transportation_db",
    });
    expect(postgres.volumes).toContain("postgres_data:/var/lib/postgresql/data:rw");

    const redis = doc.services.redis;
    expect(redis.image).toMatch(/^redis:7[.\d]*-alpine@sha256:[0-9a-f]{64}$/);
    // Not published to the host's network; a password, passed in a file (not argv), for the API's URL.
    expect(redis.ports).toBeUndefined();
    expect(redis.environment).toEqual({ REDIS_PASSWORD: SECRETS.REDIS_PASSWORD });
    expect(redis.entrypoint.join(" ")).toMatch(/requirepass .*> \/tmp\/redis\.conf .*redis-server \/tmp\/redis\.conf$/);
    expect(redis.entrypoint.join(" ")).not.toContain("--requirepass");
    expect(redis.healthcheck.test.join(" ")).toContain("REDISCLI_AUTH=");
    expect(redis.volumes).toContain("redis_data:/data:rw");

    expect(Object.keys(doc.volumes).sort()).toEqual(["postgres_data", "redis_data"]);
    expect(Object.keys(doc.networks)).toEqual(["transportation-network"]);
  }, 120_000);

  it("starts the API only once PostgreSQL and Redis are healthy and `migrate` has succeeded", async () => {
    const doc = parse((await compose(SECRETS)).stdout);
    for (const name of ["transportation-api", "postgres", "redis"])
      expect(doc.services[name].healthcheck?.test?.length, `${name} healthcheck`).toBeGreaterThan(0);
    expect(doc.services["transportation-api"].healthcheck.test).toEqual([
      "CMD",
      "bun",
      "scripts/docker/healthcheck.ts",
      "/ready",
    ]);
    expect(doc.services["transportation-api"].depends_on).toMatchObject({
      postgres: { condition: "service_healthy" },
      redis: { condition: "service_healthy" },
      migrate: { condition: "service_completed_successfully" },
    });
    const migrate = doc.services.migrate;
    expect(migrate.image).toBe("transportation-api:latest");
    expect(migrate.command).toEqual(["migrate"]);
    expect(migrate.init).toBe(true);
    expect(migrate.depends_on).toMatchObject({ postgres: { condition: "service_healthy" } });
    expect(migrate.environment.DATABASE_URL).toBe(doc.services["transportation-api"].environment.DATABASE_URL);
  }, 120_000);

  it("runs the static feed refresh only in its profile, after migrate, with the feed sources", async () => {
    const doc = parse(
      (
        await compose({
          ...SECRETS,
          GTFS_FEED_URL: "https://agency.example/gtfs.zip",
          GTFS_RT_TRIP_UPDATES_URL: "https://agency.example/rt/trip-updates",
        })
      ).stdout,
    );
    const refresh = doc.services["feed-refresh"];
    expect(refresh.profiles).toEqual(["refresh"]);
    expect(refresh.command).toEqual(["import", "--refresh"]);
    expect(refresh.image).toBe("transportation-api:latest");
    expect(refresh.read_only).toBe(true);
    expect(refresh.depends_on).toMatchObject({ migrate: { condition: "service_completed_successfully" } });
    expect(refresh.environment).toMatchObject({
      GTFS_FEED_URL: "https://agency.example/gtfs.zip",
      DATABASE_URL: doc.services["transportation-api"].environment.DATABASE_URL,
    });
    expect(doc.services["transportation-api"].environment.GTFS_RT_TRIP_UPDATES_URL).toBe(
      "https://agency.example/rt/trip-updates",
    );
    expect(doc.services["transportation-api"].profiles).toBeUndefined();
  }, 120_000);

  it("takes credentials from the environment / .env", async () => {
    const doc = parse((await compose({ ...SECRETS, POSTGRES_USER: "alice", POSTGRES_PASSWORD: "s3cret" })).stdout);
    expect(doc.services.postgres.environment.POSTGRES_USER).toBe("alice");
    expect(doc.services["transportation-api"].environment.DATABASE_URL).toBe(
      "postgresql://alice:s3cret@postgres:5432/transportation_db",
    );
  }, 120_000);
});

describe(".env handling", () => {
  it("commits .env.example with every variable the compose file requires, and never .env", async () => {
    const example = readFileSync(join(REPO_ROOT, ".env.example"), "utf8");
    const keys = new Set([...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]));
    const composeFile = readFileSync(join(REPO_ROOT, "docker-compose.yml"), "utf8");
    const used = new Set([...composeFile.matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]));
    expect([...used].filter((k) => !keys.has(k))).toEqual([]);
    const ignored = await command("git", ["check-ignore", "--quiet", ".env"], { cwd: REPO_ROOT });
    expect(ignored.code).toBe(0);
  }, 60_000);
});
