// Generated HTTP tests: every /v1 operation of the service's own OpenAPI document, with hostile values
// in every parameter (empty, huge, NUL, undecodable escapes, numbers out of range, dates that do not
// exist, DST gaps, injection strings, repeated parameters), odd methods and odd headers, against the
// real server on PostgreSQL and Redis holding a feed. Properties: no 5xx; every error in the envelope;
// no answer reproducibly slower than 1 s; the server healthy afterwards. Seeded and bounded
// (HTTP_PROPERTY_SEED, HTTP_PROPERTY_RUNS), so a failure replays.
//
// Time is measured per request on the client. On a shared 2-core machine any single request can stall
// behind other work, so a slow answer is asked again once: only one slow both times counts. The
// slowest first answer and the 99th percentile are printed with the case count.

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppServer, runMain, startAppServer } from "../support/app-server";
import { REPO_ROOT } from "../support/repo";
import { createTestDatabase, type TestDatabase, testRedisUrl } from "../support/services";

const SEED = Number(process.env.HTTP_PROPERTY_SEED ?? 15);
const RUNS = Number(process.env.HTTP_PROPERTY_RUNS ?? 400);
const SLOW_MS = 1000;
const KEY = "property-test-key-0123456789abcdef";
const EDGE = `${REPO_ROOT}/test/fixtures/gtfs/edge`;

interface Parameter {
  name: string;
  in: "path" | "query";
  required?: boolean;
  schema: { type?: string; description?: string };
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
}

// Values as they appear in the URL: percent-escapes are deliberate, so these are not encoded again.
const HOSTILE = [
  "",
  "%00",
  "a%00b",
  "%25%00",
  "%C0%80", // overlong NUL
  "%ED%A0%80", // a lone surrogate, UTF-8 encoded
  "%FF",
  "%E0%A4%A",
  "%",
  "%zz",
  "%F0%9F%98%80",
  "a".repeat(5000),
  "%41".repeat(3000),
  "'%20or%201=1--",
  "%27%3B%20drop%20table%20gtfs_feed%3B--",
  "%5C",
  "%25",
  "_",
  "..",
  "%2e%2e%2f%2e%2e%2f",
  "%2F",
  "%20",
  "null",
  "%7B%7D",
  "%3Cscript%3E",
  "%24%7B7*7%7D",
];
const NUMBERS = ["0x10", "1e309", "-1e309", "NaN", "Infinity", "-0", "9007199254740993", "1.5", "-1", "1e-320"];
const DATES = ["2024-02-30", "2023-02-29", "2024-02-29", "0000-01-01", "9999-12-31", "2024-13-01", "2024-6-1"];
const INSTANTS = [
  "2024-03-10T02:30:00", // a local time New York skips
  "2024-11-03T01:30:00", // one it repeats
  "2024-03-10T02:30:00-05:00",
  "9999-12-31T23:59:59Z",
  "275760-09-13T00:00:00Z",
  "2024-06-13T24:00:00",
  "2024-06-13T06:00:00%2B14:00",
  "2024-06-13T06:00:00.123456789Z",
];
const IDS = ["central", "central-1", "gare", "far", "N", "F", "R1", "f1", "n1", "EDGE", "nope"];

const encoded = (s: string) => encodeURIComponent(s);

/** A value for one parameter: plausible for its schema most of the time, hostile otherwise. */
function valueFor(p: Parameter): fc.Arbitrary<string> {
  const numeric = p.schema.type === "number" || p.schema.type === "integer";
  const plausible: fc.Arbitrary<string>[] = numeric
    ? [fc.integer({ min: -5, max: 2000 }).map(String), fc.double({ min: -200, max: 200, noNaN: true }).map(String)]
    : p.name === "at"
      ? [
          fc
            .date({ min: new Date("2019-01-01"), max: new Date("2026-12-31"), noInvalidDate: true })
            .map((d) => encoded(d.toISOString())),
          fc.constantFrom(...INSTANTS),
        ]
      : p.name === "date"
        ? [fc.constantFrom(...DATES, "2024-06-13", "2024-03-10", "2024-11-03")]
        : [fc.constantFrom(...IDS), fc.string({ maxLength: 30 }).map(encoded)];
  return fc.oneof(
    { weight: 3, arbitrary: fc.oneof(...plausible) },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE) },
    { weight: 1, arbitrary: fc.constantFrom(...NUMBERS, ...DATES, ...INSTANTS) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }).map(encoded) },
  );
}

interface Case {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

function requestFor(op: Operation): fc.Arbitrary<Case> {
  const params = op.parameters.map((p) =>
    fc.record({
      present: p.required ? fc.constant(true) : fc.boolean(),
      value: valueFor(p),
      repeated: fc.option(valueFor(p), { freq: 6 }), // sometimes the parameter comes twice
    }),
  );
  return fc
    .record({
      values: fc.tuple(...params),
      method: fc.oneof(
        { weight: 12, arbitrary: fc.constant("GET") },
        { weight: 1, arbitrary: fc.constantFrom("HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND") },
      ),
      key: fc.oneof(
        { weight: 10, arbitrary: fc.constant<string | undefined>(KEY) },
        {
          weight: 1,
          arbitrary: fc.constantFrom<string | undefined>(undefined, "", "wrong", "x".repeat(8000), `${KEY} `),
        },
      ),
      bearer: fc.boolean(),
      extra: fc.dictionary(
        fc.constantFrom(
          "accept",
          "accept-encoding",
          "content-type",
          "x-request-id",
          "range",
          "if-none-match",
          "x-forwarded-for",
        ),
        fc.constantFrom(
          "*/*",
          "application/xml",
          "gzip, br",
          "bytes=0-1",
          '"etag"',
          "../../etc/passwd",
          "a b c",
          "x".repeat(2000),
          "text/plain; charset=utf-7",
        ),
      ),
      body: fc.option(fc.constantFrom("{}", "{", "a".repeat(100), "\u0000"), { nil: undefined }),
    })
    .map(({ values, method, key, bearer, extra, body }) => {
      let path = op.path;
      const query: string[] = [];
      op.parameters.forEach((p, i) => {
        const v = values[i]!;
        if (p.in === "path") path = path.replace(`{${p.name}}`, v.value || "x");
        else if (v.present) {
          query.push(`${p.name}=${v.value}`);
          if (v.repeated !== null) query.push(`${p.name}=${v.repeated}`);
        }
      });
      const headers: Record<string, string> = { ...extra };
      if (key !== undefined) headers[bearer ? "authorization" : "x-api-key"] = bearer ? `Bearer ${key}` : key;
      const withBody = method !== "GET" && method !== "HEAD" ? body : undefined;
      return { method, url: `${path}${query.length ? `?${query.join("&")}` : ""}`, headers, body: withBody };
    });
}

describe("generated requests against every /v1 operation", () => {
  let db: TestDatabase;
  let server: AppServer;
  const operations: Operation[] = [];

  beforeAll(async () => {
    db = await createTestDatabase("props");
    for (const args of [["migrate"], ["import", EDGE]]) {
      const run = runMain(args, { DATABASE_URL: db.url, LOG_LEVEL: "warn" });
      expect(await run.exited, run.output()).toBe(0);
    }
    server = await startAppServer({
      env: { DATABASE_URL: db.url, REDIS_URL: await testRedisUrl(), API_KEYS: `props:${KEY}`, LOG_LEVEL: "warn" },
    });
    const doc = await (await fetch(`${server.url}/swagger/json`)).json();
    for (const [path, item] of Object.entries<Record<string, { parameters?: Parameter[] }>>(doc.paths))
      if (path.startsWith("/v1/"))
        for (const [method, op] of Object.entries(item))
          operations.push({ method: method.toUpperCase(), path, parameters: op.parameters ?? [] });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it("never answers 5xx, always in the error envelope, never reproducibly slower than 1 s; healthy afterwards", async () => {
    expect(operations.map((o) => `${o.method} ${o.path}`).sort()).toEqual(
      expect.arrayContaining(["GET /v1/stops/{stopId}/departures", "GET /v1/trips/{tripId}", "GET /v1/stops/nearby"]),
    );
    const send = async (c: Case) => {
      const started = performance.now();
      const res = await fetch(`${server.url}${c.url}`, { method: c.method, headers: c.headers, body: c.body });
      const text = await res.text();
      return { res, text, ms: performance.now() - started };
    };
    const times: number[] = [];
    const statuses = new Map<number, number>();
    const property = fc.asyncProperty(fc.constantFrom(...operations).chain(requestFor), async (c) => {
      let { res, text, ms } = await send(c);
      times.push(ms);
      if (ms > SLOW_MS) ({ res, text, ms } = await send(c)); // asked again: noise or the request?
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const where = `${c.method} ${c.url.slice(0, 200)} -> ${res.status} ${text.slice(0, 200)}`;
      expect(res.status, where).toBeLessThan(500);
      expect(ms, `${where} took ${Math.round(ms)} ms twice`).toBeLessThan(SLOW_MS);
      // Headers past Bun's 16 KB limit are refused by its HTTP parser, before the service sees them.
      if (res.status === 431) return;
      if (res.status >= 400 && c.method !== "HEAD") {
        expect(res.headers.get("content-type"), where).toContain("application/json");
        const body = JSON.parse(text);
        expect(body, where).toEqual({
          error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
        });
      } else if (c.method === "GET") JSON.parse(text);
    });
    const details = await fc.check(property, { seed: SEED, numRuns: RUNS });
    times.sort((a, b) => a - b);
    console.log(
      `http properties: ${details.numRuns} cases (seed ${SEED}) over ${operations.length} operations; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; first-try p99 ${Math.round(times[Math.floor(times.length * 0.99)] ?? 0)} ms, slowest ${Math.round(times.at(-1) ?? 0)} ms`,
    );
    if (details.failed) {
      // The failing request as the assertion worded it (values cut at 200 characters), then how to replay.
      const cause =
        details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      throw new Error(
        `${cause.slice(0, 2000)}\nreplay: HTTP_PROPERTY_SEED=${details.seed} (path ${details.counterexamplePath}), after ${details.numRuns} cases`,
      );
    }

    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const ready = await fetch(`${server.url}/ready`);
    expect(await ready.json()).toMatchObject({ status: "ready" });
    const stop = await fetch(`${server.url}/v1/stops/central`, { headers: { "x-api-key": KEY } });
    expect(stop.status).toBe(200);
  }, 600_000);
});
