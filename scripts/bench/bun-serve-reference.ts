// References for bench:http: Bun.serve alone (no framework), answering like /health. REFERENCE picks
// how much of the service's per-request work it also does:
//   plain     nothing else;
//   echo      reads X-Request-Id and echoes it (or a generated one);
//   required  echo, plus one access line per request through the service's own logger and formatter.
// `required` minus `plain` is what that work costs on Bun. The header part is Bun's own (its header
// objects), which no code above it can remove; the access line is the service's own formatter and
// writer. Together they bound any app doing the work, however thin its framework.
import { createAccessLog } from "../../src/logging/access-log";
import { createLogger } from "../../src/logging/logger";

const MODES = ["plain", "echo", "required"] as const;
type Mode = (typeof MODES)[number];
const mode = (process.env.REFERENCE ?? "echo") as Mode;
if (!MODES.includes(mode)) {
  console.error(`REFERENCE must be one of ${MODES.join(", ")} (got ${mode})`);
  process.exit(2);
}

const body = () => ({ status: "healthy", timestamp: new Date().toISOString(), version: "bench" });
let seq = 0;
const echo = (request: Request, response: Response): string => {
  const id = request.headers.get("x-request-id") ?? `ref-${++seq}`;
  response.headers.set("x-request-id", id);
  return id;
};
const accessLog = createAccessLog(
  createLogger({
    app: {
      name: "transportation-api",
      version: "bench",
      commit: "unknown",
      build_time: "unknown",
      debug: false,
      log_level: "info",
      log_file: null,
    },
  }),
);

const handlers: Record<Mode, (request: Request) => Response> = {
  plain: () => Response.json(body()),
  echo: (request) => {
    const response = Response.json(body());
    echo(request, response);
    return response;
  },
  required: (request) => {
    const started = performance.now();
    const response = Response.json(body());
    const requestId = echo(request, response);
    accessLog({
      requestId,
      method: request.method,
      route: "/health",
      status: response.status,
      durationMs: performance.now() - started,
    });
    return response;
  },
};

Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  development: false,
  fetch: handlers[mode],
});
