// A reference for bench:http: Bun.serve alone, answering like /health and doing only what the service's
// request id needs (read X-Request-Id, echo it or a generated one). It shows how much of the gap to bare
// Elysia is the cost of Bun's header objects themselves, which no code above them can remove.
const port = Number(process.env.PORT ?? 0);
let seq = 0;
Bun.serve({
  hostname: "127.0.0.1",
  port,
  development: false,
  fetch(request) {
    const id = request.headers.get("x-request-id") ?? `ref-${++seq}`;
    const response = Response.json({ status: "healthy", timestamp: new Date().toISOString(), version: "bench" });
    response.headers.set("x-request-id", id);
    return response;
  },
});
