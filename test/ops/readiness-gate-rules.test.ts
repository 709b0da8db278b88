// The readiness gate's rules, poll by poll: a streak that a bad poll resets, versions compared without a
// "v", answers that are not JSON, slow and refused requests, and what the failure says at the deadline.
// The service is an HTTP server answering /ready and /version as each case scripts it, because the
// real service (readiness-gate.test.ts) cannot be made to fail one given poll of a streak on cue.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type GateOptions, readinessGate } from "../../scripts/ops/lib/readiness-gate";

interface Answer {
  status?: number;
  body?: unknown;
  /** Answer after this long (a request timeout shorter than it gives up first). */
  delayMs?: number;
}
/** Answers for the nth request (from 1) to a path; the last answer repeats. */
type Script = Record<string, Answer[]>;

let server: Server;
let base = "";
let script: Script = {};
const seen: Record<string, number> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? "";
    seen[path] = (seen[path] ?? 0) + 1;
    const answers = script[path] ?? [{ status: 404, body: { error: "no route" } }];
    const a = answers[Math.min(seen[path]! - 1, answers.length - 1)]!;
    const send = () => {
      if (res.destroyed) return;
      res.statusCode = a.status ?? 200;
      res.end(typeof a.body === "string" ? a.body : JSON.stringify(a.body ?? {}));
    };
    if (a.delayMs) setTimeout(send, a.delayMs);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  script = {};
  for (const k of Object.keys(seen)) delete seen[k];
});

const READY = { status: 200, body: { status: "ready" } };
const version = (v: unknown) => ({ status: 200, body: { version: v, commit: "abc" } });

async function gate(options: Partial<GateOptions> = {}) {
  const log: string[] = [];
  const result = await readinessGate({
    url: base,
    consecutive: 3,
    intervalMs: 1,
    timeoutMs: 10_000,
    requestTimeoutMs: 5_000,
    log: (line) => log.push(line),
    ...options,
  });
  return { ...result, log };
}

describe("readiness gate rules", () => {
  it("passes after the required polls in a row, a bad poll starting the streak again", async () => {
    script = {
      "/ready": [READY, { status: 503, body: { status: "not ready" } }, READY],
      "/version": [version("1.2.3")],
    };
    const r = await gate({ url: `${base}//`, expectedVersion: "1.2.3" });
    expect(r).toMatchObject({
      ok: true,
      reason: "/ready 200 and version 1.2.3 3 times in a row",
      observedVersion: "1.2.3",
      polls: 5,
    });
    expect(r.log).toEqual([
      `gate: ${base} must answer /ready 200 and version 1.2.3 3 times in a row within 10 s`,
      "gate: poll 1 ok (1/3, version 1.2.3)",
      'gate: poll 2 failed: /ready answered 503 {"status":"not ready"}',
      "gate: poll 3 ok (1/3, version 1.2.3)",
      "gate: poll 4 ok (2/3, version 1.2.3)",
      "gate: poll 5 ok (3/3, version 1.2.3)",
    ]);
  });

  it("compares versions without a leading v or blanks, and without an expected version takes any", async () => {
    script = { "/ready": [READY], "/version": [version(" v2.0.0 ")] };
    expect(await gate({ expectedVersion: "2.0.0", consecutive: 1 })).toMatchObject({
      ok: true,
      observedVersion: " v2.0.0 ",
    });
    script = { "/ready": [READY], "/version": [{ status: 200, body: { commit: "abc" } }] };
    const any = await gate({ consecutive: 2 });
    expect(any).toMatchObject({ ok: true, reason: "/ready 200 2 times in a row", observedVersion: undefined });
    expect(any.log[0]).toBe(`gate: ${base} must answer /ready 200 2 times in a row within 10 s`);
    expect(any.log[1]).toBe("gate: poll 1 ok (1/2, version ?)");
  });

  it("fails at the deadline on another version, saying which, and logs a repeated failure once", async () => {
    script = { "/ready": [READY], "/version": [version("1.0.0")] };
    const r = await gate({ expectedVersion: "1.0.1", timeoutMs: 200, intervalMs: 20 });
    expect(r).toMatchObject({
      ok: false,
      reason: "not ready within 0.2 s: expected version 1.0.1, /version reports 1.0.0",
      observedVersion: "1.0.0",
    });
    expect(r.polls).toBeGreaterThan(1);
    expect(r.log.slice(1)).toEqual(["gate: poll 1 failed: expected version 1.0.1, /version reports 1.0.0"]);
  });

  it("logs a failure again when it follows a good poll", async () => {
    script = {
      "/ready": [{ status: 503, body: "down" }, READY, { status: 503, body: "down" }, READY],
      "/version": [version("1.0.0")],
    };
    const r = await gate({ consecutive: 2 });
    expect(r.log.slice(1)).toEqual([
      "gate: poll 1 failed: /ready answered 503 down",
      "gate: poll 2 ok (1/2, version 1.0.0)",
      "gate: poll 3 failed: /ready answered 503 down",
      "gate: poll 4 ok (1/2, version 1.0.0)",
      "gate: poll 5 ok (2/2, version 1.0.0)",
    ]);
  });

  it("names a /version without a version, a failed /version, and shortens a long answer", async () => {
    script = { "/ready": [READY], "/version": [{ status: 200, body: { commit: "abc" } }] };
    expect((await gate({ expectedVersion: "1.0.0", timeoutMs: 0 })).reason).toBe(
      'not ready within 0 s: /version has no version: {"commit":"abc"}',
    );
    script = { "/ready": [READY], "/version": [{ status: 200, body: { version: 7 } }] };
    expect(await gate({ expectedVersion: "7", timeoutMs: 0 })).toMatchObject({
      reason: 'not ready within 0 s: /version has no version: {"version":7}',
      observedVersion: undefined,
    });
    script = { "/ready": [READY], "/version": [{ status: 500, body: version("1.0.0").body }] };
    expect(await gate({ timeoutMs: 0 })).toMatchObject({
      ok: false,
      reason: "not ready within 0 s: /version answered 500",
      observedVersion: "1.0.0",
    });
    script = { "/ready": [{ status: 503, body: "x".repeat(300) }] };
    expect((await gate({ timeoutMs: 0 })).reason).toBe(`not ready within 0 s: /ready answered 503 ${"x".repeat(200)}…`);
    script = { "/ready": [{ status: 503, body: "x".repeat(200) }] };
    expect((await gate({ timeoutMs: 0 })).reason).toBe(`not ready within 0 s: /ready answered 503 ${"x".repeat(200)}`);
  });

  it("counts a slow answer and a refused connection as bad polls, naming them", async () => {
    script = { "/ready": [{ ...READY, delayMs: 2_000 }] };
    expect((await gate({ requestTimeoutMs: 50, timeoutMs: 0 })).reason).toBe(
      "not ready within 0 s: /ready: no answer within 50 ms",
    );
    script = { "/ready": [READY], "/version": [{ ...version("1.0.0"), delayMs: 2_000 }] };
    expect((await gate({ requestTimeoutMs: 50, timeoutMs: 0 })).reason).toBe(
      "not ready within 0 s: /version: no answer within 50 ms",
    );
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await gate({ url: `http://127.0.0.1:${port}`, timeoutMs: 0 });
    expect(refused.reason).toMatch(/^not ready within 0 s: \/ready: (ECONNREFUSED|.*[Uu]nable to connect.*)$/);
  });

  it("at the deadline with a streak begun, says how far it got and what failed before", async () => {
    script = { "/ready": [{ status: 503, body: "starting" }, READY], "/version": [version("1.0.0")] };
    const r = await gate({ consecutive: 1_000_000, timeoutMs: 200, intervalMs: 5 });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(
      /^not ready within 0\.2 s: only (\d+) of 1000000 good polls in a row \(earlier: \/ready answered 503 starting\)$/,
    );
    expect(Number(/only (\d+)/.exec(r.reason)![1])).toBe(r.polls - 1);
    script = { "/ready": [READY], "/version": [version("1.0.0")] };
    expect((await gate({ consecutive: 1_000_000, timeoutMs: 0 })).reason).toBe(
      "not ready within 0 s: only 1 of 1000000 good polls in a row (earlier: no poll finished before the deadline)",
    );
  });

  it("removes only a leading v before comparing", async () => {
    script = { "/ready": [READY], "/version": [version("1.0.0-dev")] };
    expect((await gate({ expectedVersion: "v1.0.0-dev", consecutive: 1 })).ok).toBe(true);
  });

  it("keeps the last version seen when later polls see none", async () => {
    script = { "/ready": [READY, { status: 503, body: "gone" }], "/version": [version("1.0.0-dev")] };
    expect(await gate({ expectedVersion: "v1.0.0-dev", consecutive: 2, timeoutMs: 100, intervalMs: 10 })).toMatchObject(
      {
        ok: false,
        reason: "not ready within 0.1 s: /ready answered 503 gone",
        observedVersion: "1.0.0-dev",
      },
    );
  });

  it("waits one interval between polls and never sleeps past its deadline", async () => {
    script = { "/ready": [{ status: 503, body: "down" }] };
    // polls at about 0, 100 and 200 ms; the next would start after the 250 ms deadline
    expect((await gate({ intervalMs: 100, timeoutMs: 250 })).polls).toBeLessThanOrEqual(3);
    // an interval longer than the whole gate: one poll, then the verdict at once
    expect((await gate({ intervalMs: 600_000, timeoutMs: 1_000 })).polls).toBe(1);
  });
});
