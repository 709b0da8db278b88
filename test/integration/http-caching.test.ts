// HTTP caching and compression of /v1 answers, on PostgreSQL with the edge feed: validators (ETag,
// If-None-Match → 304), Cache-Control and Vary per answer, gzip and brotli as Accept-Encoding asks,
// and the fast path for a URL asked again (served synchronously, never without a valid key).
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../src/config/schema";
import { importFeed } from "../../src/modules/gtfs/import/importer";
import { EDGE, mutatedFeed, SLOW } from "../gtfs/helpers";
import { eventually } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/services";
import { createTestApp, type TestApp } from "../support/test-app";

const KEY = "caching-test-key-0123456789";
const AUTH = { "x-api-key": KEY };
const BOARD = `/v1/stops/central/departures?at=${encodeURIComponent("2024-06-13T06:00:00-04:00")}&window=1440`;

interface Env {
  app: TestApp;
  db: TestDatabase;
  import(dir: string): Promise<void>;
}

/** An app with an API key on a fresh PostgreSQL database holding the edge feed. */
function suiteEnv(configure?: (config: Config) => void): Env {
  const env = {} as Env;
  beforeAll(async () => {
    env.db = await createTestDatabase("caching");
    env.app = await createTestApp({ DATABASE_URL: env.db.url, API_KEY: KEY }, { configure });
    env.import = async (dir) => {
      await importFeed({ location: dir, database: env.app.database, connectionString: env.db.url, keepVersions: 2 });
    };
    await env.import(EDGE);
  }, SLOW);
  afterAll(async () => {
    await env.app?.close();
    await env.db?.drop();
  }, SLOW);
  return env;
}

const get = (env: Env, path: string, headers: Record<string, string> = {}) =>
  env.app.fetch(path, { headers: { ...AUTH, ...headers } });

describe("validators and caching headers", () => {
  const env = suiteEnv();

  it(
    "answers with a weak ETag and 304 to If-None-Match (the tag, a list holding it, *), with the same validators",
    async () => {
      const first = await get(env, BOARD);
      expect(first.status).toBe(200);
      const etag = first.headers.get("etag")!;
      expect(etag).toMatch(/^W\/"[\w-]{20,}"$/);
      const body = await first.text();
      for (const ifNoneMatch of [etag, `"other", ${etag}`, etag.slice(2), "*"]) {
        const again = await get(env, BOARD, { "if-none-match": ifNoneMatch });
        expect(again.status, ifNoneMatch).toBe(304);
        expect(await again.text()).toBe("");
        expect(again.headers.get("etag")).toBe(etag);
        expect(again.headers.get("cache-control")).toBe(first.headers.get("cache-control"));
        expect(again.headers.get("vary")).toBe(first.headers.get("vary"));
      }
      const other = await get(env, BOARD, { "if-none-match": 'W/"something-else"' });
      expect(other.status).toBe(200);
      expect(await other.text()).toBe(body);
      // Another request, another answer: another tag.
      const stop = await get(env, "/v1/stops/central");
      expect(stop.headers.get("etag")).not.toBe(etag);
      expect((await get(env, "/v1/stops/central", { "if-none-match": etag })).status).toBe(200);
    },
    SLOW,
  );

  it(
    "a new feed version changes the tag of an answer that changed, and the old tag gets the full answer",
    async () => {
      const path = "/v1/trips/n1?date=2024-06-14";
      const before = await get(env, path);
      const etag = before.headers.get("etag")!;
      const changed = mutatedFeed(EDGE, {
        "trips.txt": (t) => t.replace("n1,N,NIGHT,Night Owl", "n1,N,NIGHT,Owl Express"),
      });
      try {
        await env.import(changed.dir);
      } finally {
        changed.remove();
      }
      await eventually(
        async () => (await (await get(env, path)).json()).data.trip_headsign === "Owl Express",
        30_000,
        "the server to serve the new feed version",
      );
      const after = await get(env, path, { "if-none-match": etag });
      expect(after.status).toBe(200);
      expect(after.headers.get("etag")).not.toBe(etag);
      expect((await get(env, path, { "if-none-match": after.headers.get("etag")! })).status).toBe(304);
    },
    SLOW,
  );

  it(
    "Cache-Control fits the answer: lookups five minutes, boards half a minute, errors and /ready never",
    async () => {
      expect((await get(env, "/v1/stops/central")).headers.get("cache-control")).toBe("public, max-age=300");
      expect((await get(env, "/v1/routes")).headers.get("cache-control")).toBe("public, max-age=300");
      expect((await get(env, "/v1/feeds")).headers.get("cache-control")).toBe("public, max-age=60");
      expect((await get(env, BOARD)).headers.get("cache-control")).toBe("public, max-age=30");
      for (const [path, headers, status] of [
        ["/v1/stops/nope", AUTH, 404],
        ["/v1/stops/central", {}, 401],
        ["/v1/stops/nearby?lat=99&lon=0", AUTH, 400],
      ] as const) {
        const res = await env.app.fetch(path, { headers });
        expect(res.status, path).toBe(status);
        expect(res.headers.get("cache-control"), path).toBe("no-store");
        expect(res.headers.get("etag"), path).toBeNull();
      }
      expect((await env.app.fetch("/ready")).headers.get("cache-control")).toBe("no-store");
    },
    SLOW,
  );

  it(
    "/v1/alerts has a validator and may be kept no longer than a realtime poll interval",
    async () => {
      const alerts = await get(env, "/v1/alerts");
      expect(alerts.status).toBe(200);
      const interval = env.app.config.realtime.poll_interval;
      expect(alerts.headers.get("cache-control")).toBe(`public, max-age=${Math.min(60, interval)}`);
      const etag = alerts.headers.get("etag")!;
      expect(etag).toMatch(/^W\/"/);
      expect((await get(env, "/v1/alerts", { "if-none-match": etag })).status).toBe(304);
    },
    SLOW,
  );

  it(
    "Vary names what the answer depends on: the encoding asked for and the key presented",
    async () => {
      const board = await get(env, BOARD);
      expect(board.headers.get("vary")).toBe("Accept-Encoding, X-API-Key, Authorization");
      // Too small to compress: the answer does not depend on Accept-Encoding.
      const agencies = await get(env, "/v1/agencies");
      expect((await agencies.clone().arrayBuffer()).byteLength).toBeLessThan(1024);
      expect(agencies.headers.get("vary")).toBe("X-API-Key, Authorization");
    },
    SLOW,
  );
});

describe("compression", () => {
  const env = suiteEnv();

  it(
    "negotiates brotli and gzip from Accept-Encoding, identity otherwise; each decompresses to the same JSON",
    async () => {
      const plain = await get(env, BOARD);
      expect(plain.headers.get("content-encoding")).toBeNull();
      const json = Buffer.from(await plain.arrayBuffer());
      expect(json.length).toBeGreaterThan(1024);
      const cases: [string, string | null][] = [
        ["gzip, deflate, br", "br"],
        ["br", "br"],
        ["gzip", "gzip"],
        ["br;q=0, gzip", "gzip"],
        ["gzip;q=0.5, br;q=0.4", "gzip"],
        ["*", "br"],
        ["deflate", null],
        ["identity", null],
        ["br;q=0, gzip;q=0", null],
        ["", null],
      ];
      for (const [accept, coding] of cases) {
        const res = await get(env, BOARD, { "accept-encoding": accept });
        expect(res.headers.get("content-encoding"), accept).toBe(coding);
        expect(res.headers.get("etag"), accept).toBe(plain.headers.get("etag"));
        const bytes = Buffer.from(await res.arrayBuffer());
        const decoded = coding === "br" ? brotliDecompressSync(bytes) : coding === "gzip" ? gunzipSync(bytes) : bytes;
        expect(decoded.equals(json), accept).toBe(true);
        if (coding) expect(bytes.length, accept).toBeLessThan(json.length / 4);
      }
    },
    SLOW,
  );

  it(
    "sends an answer under compression_min_bytes as it is",
    async () => {
      const res = await get(env, "/v1/agencies", { "accept-encoding": "br, gzip" });
      expect(res.headers.get("content-encoding")).toBeNull();
      expect((await res.json()).data.length).toBeGreaterThan(0);
    },
    SLOW,
  );
});

describe("compression turned off", () => {
  const env = suiteEnv((config) => {
    config.api.compression = false;
  });

  it(
    "answers identity whatever Accept-Encoding says, and does not vary on it",
    async () => {
      const res = await get(env, BOARD, { "accept-encoding": "br, gzip" });
      expect(res.headers.get("content-encoding")).toBeNull();
      expect(res.headers.get("vary")).toBe("X-API-Key, Authorization");
      expect((await res.json()).data.departures.length).toBeGreaterThan(0);
    },
    SLOW,
  );
});

describe("the fast path for a URL asked again", () => {
  const env = suiteEnv();
  const request = (path: string, headers: Record<string, string> = AUTH) =>
    new Request(`http://localhost${path}`, { headers });

  it(
    "answers it synchronously from the prepared answer, and still only with a valid key",
    async () => {
      // The server learns the active version from the import's NOTIFY, a moment after the commit;
      // until then it cannot vouch for an answer without a query. Wait for that, on another URL.
      await eventually(
        async () => {
          await env.app.handle(request("/v1/stops/central"));
          return env.app.handle(request("/v1/stops/central")) instanceof Response;
        },
        30_000,
        "the server to know the active feed version",
      );
      const first = await env.app.handle(request(BOARD));
      expect(first.status).toBe(200);
      const body = await first.text();
      const again = env.app.handle(request(BOARD));
      expect(again).toBeInstanceOf(Response);
      expect(await (again as Response).text()).toBe(body);
      expect((again as Response).headers.get("x-cache")).toBe("hit");
      const wrong: Record<string, string>[] = [
        {},
        { "x-api-key": "wrong-key-0123456789" },
        { authorization: "Bearer wrong" },
      ];
      for (const headers of wrong) {
        const refused = await env.app.handle(request(BOARD, headers));
        expect(refused.status).toBe(401);
        expect((await refused.json()).error.code).toBe("UNAUTHORIZED");
      }
      const bearer = env.app.handle(request(BOARD, { authorization: `Bearer ${KEY}` }));
      expect(bearer).toBeInstanceOf(Response);
      expect((bearer as Response).status).toBe(200);
      // The access log names the route template, as for any other answer.
      const line = env.app
        .logLines()
        .filter((l) => l.msg === "request")
        .at(-1);
      expect(line).toMatchObject({ route: "/v1/stops/:stopId/departures", status: 200, client: "default" });
    },
    SLOW,
  );

  it(
    "does not serve a board of now beyond the second it was computed for",
    async () => {
      const path = "/v1/stops/central/departures?window=5";
      const first = await (await env.app.fetch(path, { headers: AUTH })).json();
      await eventually(
        async () => (await (await env.app.fetch(path, { headers: AUTH })).json()).data.at !== first.data.at,
        10_000,
        "a board of a later second",
      );
    },
    SLOW,
  );
});
