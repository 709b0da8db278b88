import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Config } from "../../src/config/schema";
import { createRequestIds } from "../../src/http/request-info";
import { createIsoClock } from "../../src/lib/iso-clock";
import { createAccessLog } from "../../src/logging/access-log";
import { createLogger, flushLogger } from "../../src/logging/logger";

describe("iso clock", () => {
  it("formats like Date#toISOString and only when the millisecond changes", () => {
    let now = Date.UTC(2019, 2, 31, 1, 59, 59, 999);
    let reads = 0;
    const clock = createIsoClock(() => {
      reads++;
      return now;
    });
    const first = clock();
    expect(first).toBe("2019-03-31T01:59:59.999Z");
    expect(clock()).toBe(first); // same string object while the millisecond lasts
    now += 1;
    expect(clock()).toBe("2019-03-31T02:00:00.000Z");
    expect(reads).toBe(3);
  });
});

describe("request ids", () => {
  it("are unique within a process and differ between processes", () => {
    const a = createRequestIds();
    const b = createRequestIds();
    const ids = Array.from({ length: 5000 }, () => a());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 3)) expect(id).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    expect(b().split("-")[0]).not.toBe(ids[0]!.split("-")[0]);
  });
});

describe("batched log lines", () => {
  it("reach LOG_FILE complete and in order once flushed, access lines and pino lines alike", () => {
    const dir = mkdtempSync(join(tmpdir(), "tapi-log-"));
    const file = join(dir, "api.log");
    try {
      const app = { name: "t", version: "1", log_level: "info", log_file: file } as Config["app"];
      const logger = createLogger({ app }, { stream: { write: () => {} } }); // stdout discarded here
      const access = createAccessLog(logger);
      const n = 3000; // more than one buffer's worth, so early flushes happen too
      for (let i = 0; i < n; i++) {
        if (i % 1000 === 0) logger.info({ i }, "marker");
        access({ requestId: `r${i}`, method: "GET", route: '/q"uote', status: 200, durationMs: i / 7 });
      }
      flushLogger(logger);
      const lines = readFileSync(file, "utf8")
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l));
      const requests = lines.filter((l) => l.msg === "request");
      expect(requests.map((l) => l.req_id)).toEqual(Array.from({ length: n }, (_, i) => `r${i}`));
      expect(requests[7]).toMatchObject({ level: "info", service: "t", route: '/q"uote', status: 200, duration_ms: 1 });
      expect(lines.filter((l) => l.msg === "marker").map((l) => l.i)).toEqual([0, 1000, 2000]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("access lines", () => {
  it("carry each request's own method, route, status, id and duration across many routes and statuses", () => {
    const written: string[] = [];
    const app = { name: "t", version: "1", log_level: "info" } as Config["app"];
    const logger = createLogger({ app }, { stream: { write: (text: string) => void written.push(text) } });
    const access = createAccessLog(logger);
    const methods = ["GET", "POST", "DELETE"];
    const statuses = [200, 404, 503, 200];
    // More distinct routes than the formatter keeps ready, some needing JSON escapes, statuses changing per route.
    const entries = Array.from({ length: 2000 }, (_, i) => ({
      requestId: i % 97 === 0 ? `id"${i}` : `id-${i}`,
      method: methods[i % 3]!,
      route: i % 3 === 0 ? `/v1/stops/${i}\\x` : i % 11 === 0 ? `/long/${"x".repeat(300)}/${i % 7}` : `/r/${i % 50}`,
      status: statuses[Math.floor(i / 50) % 4]!,
      durationMs: i / 3,
    }));
    for (const e of entries) access(e);
    flushLogger(logger);
    const lines = written
      .join("")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(entries.length);
    lines.forEach((line, i) => {
      const e = entries[i]!;
      expect(line).toEqual({
        level: "info",
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        service: "t",
        version: "1",
        req_id: e.requestId,
        method: e.method,
        route: e.route,
        status: e.status,
        duration_ms: Math.round(e.durationMs * 100) / 100,
        msg: "request",
      });
    });
    const times = lines.map((l) => Date.parse(l.time));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
  });
});
