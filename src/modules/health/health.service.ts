// Liveness, readiness and build information.
import type { Cache } from "../../cache/cache";
import type { Config } from "../../config/schema";
import type { Database } from "../../db/database";
import { pendingMigrations } from "../../db/migrate";
import { createIsoClock } from "../../lib/iso-clock";
import type { Lifecycle } from "../../lifecycle";
import type { Metrics } from "../../observability/metrics";

export type CheckResult = "ok" | "embedded" | "disabled" | string;

export interface Readiness {
  ready: boolean;
  /** "degraded": ready, but an optional dependency (Redis) is failing, so every request costs more. */
  status: "ready" | "degraded" | "not ready";
  checks: { database: CheckResult; redis: CheckResult; server?: string };
}

const CHECK_TIMEOUT_MS = 1000;

export function createHealthService(deps: {
  config: Config;
  database: Database;
  cache: Cache;
  lifecycle: Lifecycle;
  metrics?: Metrics;
}) {
  const { config, database, cache, lifecycle } = deps;
  const isoNow = createIsoClock();
  let schemaCurrent = false; // once current it stays current: migrations are never un-applied at run time

  async function checkDatabase(): Promise<CheckResult> {
    try {
      await database.ping(CHECK_TIMEOUT_MS);
      if (!schemaCurrent) {
        const pending = await pendingMigrations(database.db);
        if (pending.length > 0) return `error: ${pending.length} pending migration(s), run \`migrate\``;
        schemaCurrent = true;
      }
      return database.kind === "embedded" ? "embedded" : "ok";
    } catch (err) {
      return `error: ${(err as Error).message}`;
    }
  }

  async function checkRedis(): Promise<CheckResult> {
    if (cache.kind === "memory") return "disabled";
    try {
      await cache.ping(CHECK_TIMEOUT_MS);
      return "ok";
    } catch (err) {
      return `error: ${(err as Error).message}`;
    }
  }

  return {
    health: () => ({ status: "healthy" as const, timestamp: isoNow(), version: config.app.version }),
    version: () => ({ version: config.app.version, commit: config.app.commit, build_time: config.app.build_time }),
    // Redis only caches: without it every request is still answered, from the database. A Redis outage
    // therefore leaves the pod ready and is reported as "degraded" — otherwise one Redis blip would take
    // every pod out of the Service at once (and fail every deploy's gate). redis.required restores the
    // design's strict check (docs/operations.md, "Readiness and Redis").
    async readiness(): Promise<Readiness> {
      const [db, redis] = await Promise.all([checkDatabase(), checkRedis()]);
      const checks: Readiness["checks"] = { database: db, redis };
      if (lifecycle.shuttingDown) checks.server = "shutting down";
      const redisDown = redis.startsWith("error");
      const ready = !lifecycle.shuttingDown && !db.startsWith("error") && !(redisDown && config.redis.required);
      // Degraded counts as ready (app_ready 1); the failing Redis check shows as readiness_check_up 0.
      deps.metrics?.readiness(checks, ready);
      return { ready, status: !ready ? "not ready" : redisDown ? "degraded" : "ready", checks };
    },
  };
}
