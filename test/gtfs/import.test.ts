// Import behaviour against real PostgreSQL: bad feeds name file/line/field and change nothing that is
// served, a killed import leaves the served version intact, versions are kept/pruned, and the CLI
// exits non-zero on a bad feed.

import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { generateFeed } from "../../scripts/gtfs/generate";
import { FeedValidationError, formatIssue } from "../../src/modules/gtfs/import/issues";
import { childEnv, eventually } from "../support/app-server";
import { BUN, MAIN, REPO_ROOT } from "../support/repo";
import { board, EDGE, type GtfsEnv, mutatedFeed, SAMPLE_DIR, SLOW, suiteGtfsEnv } from "./helpers";

async function importError(env: GtfsEnv, dir: string): Promise<string[]> {
  try {
    await env.import(dir);
  } catch (err) {
    if (err instanceof FeedValidationError) return err.issues.map(formatIssue);
    throw err;
  }
  throw new Error("import unexpectedly succeeded");
}

describe("GTFS import", () => {
  const env = suiteGtfsEnv([EDGE]);
  const servedAt = "2024-06-15T00:20:00-04:00";
  let servedBoard: unknown;
  let servedFeeds: unknown;

  beforeAll(async () => {
    servedBoard = await board(env, "central", servedAt);
    servedFeeds = (await env.get("/v1/feeds")).body;
  }, SLOW);

  async function expectServedUnchanged() {
    expect(await board(env, "central", servedAt)).toEqual(servedBoard);
    expect((await env.get("/v1/feeds")).body).toEqual(servedFeeds);
    const { rows } = await env.app.database.pool!.query(
      "select nspname from pg_namespace where nspname like 'gtfs_f%' order by 1",
    );
    const { rows: active } = await env.app.database.pool!.query(
      "select schema_name from gtfs_feed where status in ('active', 'retired') order by 1",
    );
    expect(rows.map((r) => r.nspname)).toEqual(active.map((r) => r.schema_name)); // nothing half-loaded left
  }

  const broken: [string, Record<string, string | null | ((t: string) => string)>, string][] = [
    ["a missing required file", { "stops.txt": null }, "stops.txt: required file is missing"],
    [
      "a missing required column",
      { "routes.txt": (t) => t.replace("route_type,", "kind,") },
      "routes.txt:1 [route_type]: missing required column",
    ],
    [
      "a malformed time",
      { "stop_times.txt": (t) => t.replace("t1,2,gare,08:09:00,08:10:00", "t1,2,gare,08:09:00,8:1O:00") },
      'stop_times.txt:3 [departure_time]: expected a time HH:MM:SS (got "8:1O:00")',
    ],
    [
      "a malformed date",
      { "calendar.txt": (t) => t.replace("20240101,20241231\nALL", "20240101,20241331\nALL") },
      'calendar.txt:2 [end_date]: expected a date YYYYMMDD (got "20241331")',
    ],
    [
      "a malformed number",
      { "stops.txt": (t) => t.replace("40.7600,-73.9800", "40.7600,west") },
      'stops.txt:5 [stop_lon]: expected a longitude in ±180 (got "west")',
    ],
    [
      "an unknown stop in stop_times",
      { "stop_times.txt": (t) => t.replace("t2,3,central-2", "t2,3,central-9") },
      'stop_times.txt:7 [stop_id]: unknown stop_id (not in stops.txt) (got "central-9")',
    ],
    [
      "an unknown trip in stop_times",
      { "stop_times.txt": (t) => `${t}ghost,1,gare,10:00:00,10:00:00,,\r\n` },
      'stop_times.txt:22 [trip_id]: unknown trip_id (not in trips.txt) (got "ghost")',
    ],
    [
      "an unknown service in trips",
      { "trips.txt": (t) => t.replace("t2,R1,WK", "t2,R1,SUNDAYS") },
      'trips.txt:3 [service_id]: unknown service_id (not in calendar.txt or calendar_dates.txt) (got "SUNDAYS")',
    ],
    [
      "an unknown route in trips",
      { "trips.txt": (t) => t.replace("n1,N,", "n1,Q,") },
      'trips.txt:5 [route_id]: unknown route_id (not in routes.txt) (got "Q")',
    ],
    [
      "a stray quote that swallows the lines up to the next quote",
      { "stops.txt": (t) => t.replace("central-1,Central Station Track 1", 'central-1,"Central Station Track 1') },
      `stops.txt:3: a quoted field opens on line 3 and closes on line 7 with more text after it (a stray '"' on line 3?)`,
    ],
    [
      "a stray quote closed by another one just before a comma",
      {
        "stops.txt": (t) =>
          t
            .replace("40.7501,-73.9901,0,central,", '40.7501,-73.9901,0,central,"oops')
            .replace("Gare de l'Est,", `Gare de l'Est",`),
      },
      "stops.txt:3: a quoted field runs from line 3 to line 5 and leaves 12 fields where the header has 7",
    ],
    [
      "a stray quote that never closes",
      { "stops.txt": (t) => `${t}extra,"Never closed,40.7,-73.9,0,,\r\nlast,Last,40.7,-73.9,0,,\r\n` },
      `stops.txt:10: quoted field not closed before the end of the file (a stray '"' in this record?)`,
    ],
    [
      "a NUL byte in a text field (PostgreSQL's text cannot hold one)",
      { "agency.txt": (t) => t.replace("Edge Case Transit", "Edge\0Case Transit") },
      'agency.txt:2 [agency_name]: contains a NUL character (byte 0), which text cannot hold (got "Edge\\u0000Case Transit")',
    ],
    [
      "a NUL byte in a stop_headsign, on the plain-line path of stop_times",
      {
        "stop_times.txt": (t) =>
          t
            .replace("timepoint,vendor_extra", "timepoint,stop_headsign")
            .replace("t1,2,gare,08:09:00,08:10:00,,", "t1,2,gare,08:09:00,08:10:00,,Downtown\0"),
      },
      'stop_times.txt:3 [stop_headsign]: contains a NUL character (byte 0), which text cannot hold (got "Downtown\\u0000")',
    ],
    [
      "a duplicate (trip_id, stop_sequence)",
      { "stop_times.txt": (t) => t.replace("t1,3,zurich", "t1,2,zurich") },
      'stop_times.txt:4 [stop_sequence]: duplicate (trip_id, stop_sequence): also on line 3 (got "t1, 2")',
    ],
    [
      "a duplicate (trip_id, stop_sequence) after a lower one in between",
      {
        "stop_times.txt": (t) =>
          t.replace(
            "t1,3,zurich,08:20:00,08:20:00,,",
            "t1,5,zurich,08:20:00,08:20:00,,\r\nt1,3,zurich,08:25:00,08:25:00,,\r\nt1,5,gare,08:30:00,08:30:00,,",
          ),
      },
      'stop_times.txt:6 [stop_sequence]: duplicate (trip_id, stop_sequence): also on line 4 (got "t1, 5")',
    ],
    [
      "a duplicate (trip_id, stop_sequence) in rows of the trip apart in the file",
      { "stop_times.txt": (t) => `${t}t1,2,zurich,09:00:00,09:00:00,,\r\n` },
      'stop_times.txt [stop_sequence]: duplicate (trip_id, stop_sequence), in rows of the trip that are apart in the file (got "t1, 2")',
    ],
  ];

  for (const [what, changes, message] of broken) {
    it(
      `rejects ${what} with file, line and field, and serves the old version`,
      async () => {
        const feed = mutatedFeed(EDGE, changes);
        try {
          const issues = await importError(env, feed.dir);
          expect(issues.some((i) => i.startsWith(message))).toBe(true);
        } finally {
          feed.remove();
        }
        await expectServedUnchanged();
      },
      SLOW,
    );
  }

  it(
    "keeps N versions (the active one included) and lists them",
    async () => {
      const first = (servedFeeds as { data: { id: number }[] }).data[0]!.id;
      const second = await env.import(SAMPLE_DIR, 3);
      const third = await env.import(EDGE, 3);
      let feeds = (await env.get("/v1/feeds")).body.data;
      expect(feeds.map((f: { id: number; status: string }) => [f.id, f.status])).toEqual([
        [third.feedId, "active"],
        [second.feedId, "retired"],
        [first, "retired"],
      ]);
      expect(feeds[1]).toMatchObject({
        publisher_name: "Some Transit Authority",
        feed_version: "third version",
        start_date: "2019-03-03",
        end_date: "2019-08-10",
        timezone: "Europe/Warsaw",
      });
      const fourth = await env.import(EDGE, 2);
      expect(fourth.pruned.sort()).toEqual([first, second.feedId].sort());
      feeds = (await env.get("/v1/feeds")).body.data;
      expect(feeds.map((f: { id: number }) => f.id)).toEqual([fourth.feedId, third.feedId]);
      servedFeeds = (await env.get("/v1/feeds")).body;
      servedBoard = await board(env, "central", servedAt);
    },
    SLOW,
  );

  it(
    "a killed import leaves the served version as it was; the next import cleans up",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "gtfs-kill-"));
      await generateFeed(dir, { routes: 40, trips: 40, stopsPerTrip: 30, stops: 400, seed: 7 });
      const client = new pg.Client({ connectionString: env.db!.url });
      const blocker = new pg.Client({ connectionString: env.db!.url });
      await Promise.all([client.connect(), blocker.connect()]);
      // The switch retires the active version's catalogue row: holding that row's lock stops the import
      // right before its switch commits, with everything loaded, however fast or slow the load is.
      await blocker.query("begin");
      await blocker.query("select id from gtfs_feed where status = 'active' for update");
      const blockerPid = (await blocker.query("select pg_backend_pid() as pid")).rows[0].pid as number;
      const child = spawn(BUN, [MAIN, "import", dir], {
        cwd: REPO_ROOT,
        env: childEnv({ DATABASE_URL: env.db!.url, LOG_LEVEL: "warn" }),
        stdio: "ignore",
      });
      const exited = new Promise((r) => child.once("exit", r));
      // Rejects if the import ends before the switch; handled, so the kill below is no unhandled rejection.
      const died = exited.then((code) => Promise.reject(new Error(`the import exited (${code}) before its switch`)));
      died.catch(() => {});
      try {
        await Promise.race([
          eventually(
            async () =>
              (
                await client.query(
                  "select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))",
                  [blockerPid],
                )
              ).rows[0].n > 0,
            60_000,
            "the import to wait for the catalogue row lock at its switch",
          ),
          died,
        ]);
        child.kill("SIGKILL");
        await exited;
        await blocker.query("rollback");
        // The killed import's server sessions end (and drop its import lock) once they see it gone.
        await eventually(
          async () =>
            (
              await client.query(
                "select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database where l.locktype = 'advisory' and d.datname = current_database()",
              )
            ).rows[0].n === 0,
          30_000,
          "the killed import's sessions to end",
        );
        const { rows } = await client.query("select status from gtfs_feed where status = 'loading'");
        expect(rows).toHaveLength(1);
        expect(await board(env, "central", servedAt)).toEqual(servedBoard);
        expect((await env.get("/v1/feeds")).body).toEqual(servedFeeds);

        await env.import(EDGE);
        const { rows: after } = await client.query(
          "select status, error from gtfs_feed where status not in ('active', 'retired') order by id desc limit 1",
        );
        expect(after[0]).toEqual({ status: "failed", error: "import interrupted" });
        const { rows: leftovers } = await client.query(
          "select count(*)::int as n from pg_namespace n where n.nspname like 'gtfs_f%' and not exists (select 1 from gtfs_feed f where f.schema_name = n.nspname and f.status in ('active', 'retired'))",
        );
        expect(leftovers[0].n).toBe(0);
      } finally {
        child.kill("SIGKILL");
        await blocker.end();
        await client.end();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    SLOW,
  );

  it(
    "the CLI prints file:line [field] and exits non-zero on a bad feed",
    async () => {
      const feed = mutatedFeed(EDGE, {
        "stop_times.txt": (t) => t.replace("n2,4,saopaulo,03:30:00", "n2,4,saopaulo,03:3:00"),
      });
      try {
        const child = spawn(BUN, [MAIN, "import", feed.dir], {
          cwd: REPO_ROOT,
          env: childEnv({ DATABASE_URL: env.db!.url, LOG_LEVEL: "warn" }),
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stderr = "";
        child.stderr.on("data", (c) => {
          stderr += c;
        });
        const code = await new Promise((r) => child.once("exit", r));
        expect(code).toBe(1);
        expect(stderr).toContain('stop_times.txt:17 [arrival_time]: expected a time HH:MM:SS (got "03:3:00")');
      } finally {
        feed.remove();
      }
    },
    SLOW,
  );

  it(
    "imports from an http URL (a zip streamed from a local server)",
    async () => {
      const files: Record<string, Uint8Array> = {};
      for (const name of readdirSync(EDGE)) files[name] = readFileSync(join(EDGE, name));
      const zip = zipSync(files);
      const server = createServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/zip", "content-length": String(zip.length) });
        res.end(zip);
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/edge.zip`;
        const summary = await env.import(url);
        expect(summary.source).toBe(url);
        expect(summary.files.find((f) => f.file === "stop_times.txt")?.rows).toBe(20);
        expect((await env.get("/v1/feeds")).body.data[0].id).toBe(summary.feedId);
        expect(await board(env, "central", servedAt)).toEqual(servedBoard);
      } finally {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    },
    SLOW,
  );
});

describe("GTFS import: after the switch", () => {
  const env = suiteGtfsEnv([EDGE]);

  it(
    "a failure to drop old versions once the new one is served keeps it served and reports it",
    async () => {
      const client = new pg.Client({ connectionString: env.db!.url });
      await client.connect();
      try {
        const [old] = (await env.get("/v1/feeds")).body.data as { id: number }[];
        const { rows } = await client.query("select schema_name from gtfs_feed where id = $1", [old!.id]);
        const oldSchema = rows[0].schema_name as string;
        // PostgreSQL itself refuses the prune's DROP SCHEMA of the old version: an event trigger raises.
        await client.query(`
          create function refuse_drop() returns event_trigger language plpgsql as $$
          begin
            if exists (select 1 from pg_event_trigger_dropped_objects()
                       where object_type = 'schema' and object_name = '${oldSchema}') then
              raise exception 'refusing to drop ${oldSchema}';
            end if;
          end $$`);
        await client.query("create event trigger refuse_drop on sql_drop execute function refuse_drop()");
        try {
          const summary = await env.import(EDGE, 1);
          expect(summary.pruned).toEqual([]);
          expect(summary.pruneError).toContain(`refusing to drop ${oldSchema}`);
          const feeds = (await env.get("/v1/feeds")).body.data as { id: number; status: string }[];
          expect(feeds.map((f) => [f.id, f.status])).toEqual([
            [summary.feedId, "active"],
            [old!.id, "retired"],
          ]);
          const { rows: schemas } = await client.query("select 1 from pg_namespace where nspname = $1", [
            summary.schema,
          ]);
          expect(schemas).toHaveLength(1);
          expect((await board(env, "central", "2024-06-15T00:20:00-04:00")).length).toBeGreaterThan(0);
        } finally {
          await client.query("drop event trigger refuse_drop");
          await client.query("drop function refuse_drop()");
        }
        // With the obstacle gone, the next import prunes what was left.
        const next = await env.import(EDGE, 1);
        expect(next.pruneError).toBeUndefined();
        expect(next.pruned.sort()).toContain(old!.id);
      } finally {
        await client.end();
      }
    },
    SLOW,
  );
});

describe("GTFS import: quoted fields over several lines", () => {
  const env = suiteGtfsEnv([]);

  it(
    "accepts one in a row that leaves trailing optional columns off",
    async () => {
      const feed = mutatedFeed(EDGE, {
        "stops.txt": (t) => `${t}short,"Two-line\r\nname",40.7010,-73.9510\r\n`,
      });
      try {
        await env.import(feed.dir);
        const stop = await env.get("/v1/stops/short");
        expect(stop.status).toBe(200);
        expect(stop.body.data).toMatchObject({ stop_id: "short", stop_name: "Two-line\r\nname" });
      } finally {
        feed.remove();
      }
    },
    SLOW,
  );
});
