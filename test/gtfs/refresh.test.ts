// `import --refresh` as the scheduled job runs it (`bun src/main.ts import --refresh`), against a real
// PostgreSQL and a local HTTP server standing in for the agency: a changed feed is imported and
// switched to; an unchanged one (304 to the conditional GET, or the same bytes) is a no-op that
// writes nothing; a failed download changes nothing and says why in one line.

import { readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { zipSync } from "fflate";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/services";
import { EDGE, SAMPLE_ZIP, SLOW } from "./helpers";

interface Served {
  bytes: Uint8Array;
  etag?: string;
}

describe("import --refresh", () => {
  let db: TestDatabase;
  let server: Server;
  let served: Served;
  const requests: IncomingMessage["headers"][] = [];
  let base = "";

  beforeAll(async () => {
    db = await createTestDatabase("refresh");
    server = createServer((req, res) => {
      requests.push(req.headers);
      if (req.headers["x-api-key"] !== "k-1") return void res.writeHead(401).end();
      if (served.etag && req.headers["if-none-match"] === served.etag) return void res.writeHead(304).end();
      res.writeHead(200, { "content-type": "application/zip", ...(served.etag ? { etag: served.etag } : {}) });
      res.end(Buffer.from(served.bytes));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect((await cli(["migrate"])).code).toBe(0);
  }, SLOW);
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await db?.drop();
  }, SLOW);

  const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCli(args, {
      DATABASE_URL: db.url,
      GTFS_FEED_URL: `${base}/feed.zip?key=s3cret`,
      GTFS_FEED_HEADERS: '{"x-api-key":"k-1"}',
      ...env,
    });

  const refresh = (env?: Record<string, string | undefined>) => cli(["import", "--refresh"], env);

  /** Everything a refresh could write: versions, their schemas, and the refresh state. */
  async function written() {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const feeds = await c.query("select id, status, activated_at from gtfs_feed order by id");
      const schemas = await c.query("select nspname from pg_namespace where nspname like 'gtfs_f%' order by 1");
      const state = await c.query("select value, updated_at from app_metadata where key = 'gtfs.refresh'");
      return { feeds: feeds.rows, schemas: schemas.rows, state: state.rows };
    } finally {
      await c.end();
    }
  }
  const active = async () => (await written()).feeds.find((f) => f.status === "active")?.id;

  it(
    "imports a new feed, then does nothing while it is unchanged: 304 to If-None-Match, or the same bytes",
    async () => {
      served = { bytes: readFileSync(SAMPLE_ZIP), etag: '"v1"' };
      const first = await refresh();
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^imported feed version (\d+) /m);
      const version = Number(/^imported feed version (\d+)/m.exec(first.stdout)![1]);
      expect(first.stdout).toMatch(
        new RegExp(`^refreshed: now serving feed version ${version} \\(\\d+ bytes, sha256 [0-9a-f]{12}\\)$`, "m"),
      );
      expect(await active()).toBe(version);
      const before = await written();

      const second = await refresh();
      expect([second.code, second.stdout]).toEqual([0, `unchanged: ${base}/feed.zip answered 304 Not Modified\n`]);
      expect(requests.at(-1)?.["if-none-match"]).toBe('"v1"');
      expect(await written()).toEqual(before);

      served = { bytes: readFileSync(SAMPLE_ZIP) }; // a server without validators
      const third = await refresh();
      expect(third.code).toBe(0);
      expect(third.stdout).toMatch(
        new RegExp(`^unchanged: ${base}/feed\\.zip sent the same \\d+ bytes as feed version ${version} `),
      );
      expect(await written()).toEqual(before);
    },
    SLOW,
  );

  it(
    "imports and switches to a changed feed",
    async () => {
      const previous = await active();
      const files = Object.fromEntries(readdirSync(EDGE).map((f) => [f, readFileSync(join(EDGE, f))]));
      served = { bytes: zipSync(files), etag: '"v2"' };
      const run = await refresh();
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^refreshed: now serving feed version \d+/m);
      const now = await active();
      expect(now).not.toBe(previous);
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      const { rows } = await c.query("select timezone from gtfs_feed where id = $1", [now]);
      await c.end();
      expect(rows[0].timezone).toBe("America/New_York");
    },
    SLOW,
  );

  it(
    "fails in one line and changes nothing when the download fails, never showing the URL's key",
    async () => {
      const before = await written();
      served = { bytes: new Uint8Array(0) };
      const refused = await refresh({ GTFS_FEED_HEADERS: undefined });
      expect([refused.code, refused.stderr]).toEqual([
        1,
        `error: download of ${base}/feed.zip failed: HTTP 401 Unauthorized\n`,
      ]);
      const unset = await refresh({ GTFS_FEED_URL: undefined });
      expect([unset.code, unset.stderr]).toEqual([1, "error: GTFS_FEED_URL is not set: nothing to refresh from\n"]);
      expect(await written()).toEqual(before);
      expect(`${refused.stdout}${refused.stderr}`).not.toContain("s3cret");
    },
    SLOW,
  );

  it(
    "refuses a database that is not migrated, before downloading anything, saying to run migrate",
    async () => {
      const fresh = await createTestDatabase("refresh-unmigrated");
      try {
        const from = requests.length;
        const run = await refresh({ DATABASE_URL: fresh.url });
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^error: the database is not migrated to this release \(.*run `npm run migrate`/);
        expect(run.stderr.trim().split("\n")).toHaveLength(1);
        expect(requests.length).toBe(from);
      } finally {
        await fresh.drop();
      }
    },
    SLOW,
  );
});
