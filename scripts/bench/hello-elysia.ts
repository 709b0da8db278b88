// The baseline for bench:http: a bare Elysia app on the same Bun, answering like /health.
import { Elysia } from "elysia";

const port = Number(process.env.PORT ?? 0);
new Elysia()
  .get("/health", () => ({ status: "healthy", timestamp: new Date().toISOString(), version: "bench" }))
  .listen({ port, hostname: "127.0.0.1" });
