import { Elysia, t } from "elysia";
import type { createHealthService } from "./health.service";

const Check = t.String({ description: '"ok", "embedded", "disabled", or "error: …"' });

export function healthRoutes(service: ReturnType<typeof createHealthService>) {
  return (
    new Elysia({ name: "health" })
      // The service's functions are the handlers themselves: Elysia reads a handler's source and treats
      // `() => f()` as possibly async, answering with a Promise (see the /v1 hook in src/app.ts).
      .get("/health", service.health, {
        detail: { tags: ["operations"], summary: "Liveness: the process is up (no dependency checks)" },
        response: t.Object({ status: t.Literal("healthy"), timestamp: t.String(), version: t.String() }),
      })
      .get(
        "/ready",
        async ({ set }) => {
          const { ready, checks } = await service.readiness();
          set.status = ready ? 200 : 503;
          set.headers["cache-control"] = "no-store";
          return { status: ready ? ("ready" as const) : ("not ready" as const), checks };
        },
        {
          detail: { tags: ["operations"], summary: "Readiness: database and cache reachable, schema current" },
          response: {
            200: t.Object({ status: t.Literal("ready"), checks: t.Record(t.String(), Check) }),
            503: t.Object({ status: t.Literal("not ready"), checks: t.Record(t.String(), Check) }),
          },
        },
      )
      .get("/version", service.version, {
        detail: { tags: ["operations"], summary: "Build information" },
        response: t.Object({ version: t.String(), commit: t.String(), build_time: t.String() }),
      })
  );
}
