import { Elysia, t } from "elysia";
import type { OperationExample } from "../../http/openapi/document";
import type { createHealthService } from "./health.service";

const Check = t.String({ description: '"ok", "embedded", "disabled", or "error: …"' });

export function healthRoutes(service: ReturnType<typeof createHealthService>) {
  return (
    new Elysia({ name: "health" })
      // The service's functions are the handlers themselves: Elysia reads a handler's source and treats
      // `() => f()` as possibly async, answering with a Promise (see the /v1 hook in src/app.ts).
      .get("/health", service.health, {
        detail: {
          tags: ["operations"],
          summary: "Liveness: the process is up (no dependency checks)",
          operationId: "getHealth",
        },
        response: t.Object({ status: t.Literal("healthy"), timestamp: t.String(), version: t.String() }),
      })
      .get(
        "/ready",
        async ({ set }) => {
          const { ready, status, checks } = await service.readiness();
          set.status = ready ? 200 : 503;
          set.headers["cache-control"] = "no-store";
          return { status, checks };
        },
        {
          detail: {
            tags: ["operations"],
            summary: "Readiness: database reachable and schema current; a Redis outage is reported as degraded",
            operationId: "getReady",
          },
          response: {
            200: t.Object({
              status: t.Union([t.Literal("ready"), t.Literal("degraded")]),
              checks: t.Record(t.String(), Check),
            }),
            503: t.Object({ status: t.Literal("not ready"), checks: t.Record(t.String(), Check) }),
          },
        },
      )
      .get("/version", service.version, {
        detail: { tags: ["operations"], summary: "Build information", operationId: "getVersion" },
        response: t.Object({ version: t.String(), commit: t.String(), build_time: t.String() }),
      })
  );
}

/** Answers as the operations give them, for the OpenAPI document. */
export const healthExamples: Record<string, OperationExample> = {
  getHealth: { answer: { status: "healthy", timestamp: "2026-01-02T03:04:05.678Z", version: "1.4.0" } },
  getReady: { answer: { status: "ready", checks: { database: "ok", redis: "ok" } } },
  getVersion: { answer: { version: "1.4.0", commit: "0123abcd", build_time: "2026-01-02T03:04:05Z" } },
};
