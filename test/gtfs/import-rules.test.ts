// What docs/api.md promises about imports, each on a feed built so that the rule alone decides:
// the four warnings (the import goes on, and says so), the 50-problem cap of a rejected feed, and the
// 1 MiB bound on a quoted field that never closes.
import { afterAll, describe, expect, it } from "vitest";
import { FeedValidationError, formatIssue } from "../../src/modules/gtfs/import/issues";
import { MAX_RECORD_CHARS } from "../../src/modules/gtfs/import/read/csv";
import { runCli } from "../support/app-server";
import { EDGE, mutatedFeed, SLOW, suiteGtfsEnv } from "./helpers";

const STATION = "stop_times references a station (location_type 1); its departures are listed on the station";
const BEFORE = "departure_time is before arrival_time";
const SHAPE = "unknown shape_id (not in shapes.txt)";
const ZONES = "agencies have different time zones; times use the first one (America/New_York)";

describe("import warnings", () => {
  const env = suiteGtfsEnv([]);
  // EDGE already has n1 call at the station `central` (stop_times.txt:11); the rest is added here.
  const feed = mutatedFeed(EDGE, {
    "agency.txt": (t) => `${t.trimEnd()}\nOTHER,Other Transit,https://other.example.org/,Europe/Paris,fr\n`,
    "trips.txt": (t) =>
      t
        .trimEnd()
        .split("\n")
        .map(
          (line, i) =>
            `${line.trimEnd()},${i === 0 ? "shape_id" : line.startsWith("t1,") ? "s1" : line.startsWith("t2,") ? "nope" : ""}`,
        )
        .join("\n"),
    "stop_times.txt": (t) => t.replace("t1,2,gare,08:09:00,08:10:00", "t1,2,gare,08:11:00,08:10:00"),
  });
  afterAll(() => feed.remove());

  it(
    "imports the feed and reports each warning with file, line, field and value",
    async () => {
      const summary = await env.import(feed.dir);
      const byMessage = Object.fromEntries(summary.warnings.map((w) => [w.message, w]));
      expect(byMessage).toEqual({
        [ZONES]: {
          code: "agency_timezones_differ",
          message: ZONES,
          count: 1,
          examples: [
            {
              code: "agency_timezones_differ",
              file: "agency.txt",
              line: 3,
              field: "agency_timezone",
              value: "Europe/Paris",
              message: ZONES,
            },
          ],
        },
        [SHAPE]: {
          code: "unknown_shape_id",
          message: SHAPE,
          count: 1,
          examples: [
            { code: "unknown_shape_id", file: "trips.txt", line: 3, field: "shape_id", value: "nope", message: SHAPE },
          ],
        },
        [BEFORE]: {
          code: "departure_before_arrival",
          message: BEFORE,
          count: 1,
          examples: [
            {
              code: "departure_before_arrival",
              file: "stop_times.txt",
              line: 3,
              field: "departure_time",
              message: BEFORE,
            },
          ],
        },
        [STATION]: {
          code: "stop_time_at_station",
          message: STATION,
          count: 1,
          examples: [
            {
              code: "stop_time_at_station",
              file: "stop_times.txt",
              line: 11,
              field: "stop_id",
              value: "central",
              message: STATION,
            },
          ],
        },
      });
      // Served: the import went on.
      expect((await env.get("/v1/feeds")).body.data[0]).toMatchObject({ id: summary.feedId, status: "active" });
    },
    SLOW,
  );

  it(
    "the CLI prints them after its summary and exits 0",
    async () => {
      const run = await runCli(["import", feed.dir], { DATABASE_URL: env.db!.url, LOG_LEVEL: "warn" });
      expect(run.code, run.stderr).toBe(0);
      const printed = run.stdout.slice(run.stdout.indexOf("\nwarning") + 1);
      const expected = [
        ["agency_timezones_differ", ZONES, "agency.txt:3 [agency_timezone]", ' (got "Europe/Paris")'],
        ["unknown_shape_id", SHAPE, "trips.txt:3 [shape_id]", ' (got "nope")'],
        ["departure_before_arrival", BEFORE, "stop_times.txt:3 [departure_time]", ""],
        ["stop_time_at_station", STATION, "stop_times.txt:11 [stop_id]", ' (got "central")'],
      ];
      for (const [code, message, where, got] of expected)
        expect(printed).toContain(`warning ${code} (1×): ${message}\n  e.g. ${where}: ${message}${got}\n`);
    },
    SLOW,
  );
});

describe("a rejected feed", () => {
  const env = suiteGtfsEnv([EDGE]);

  it(
    "lists its first 50 problems, each with file, line and field, and says there are more",
    async () => {
      const ghosts = Array.from({ length: 60 }, (_, i) => `t1,${100 + i},ghost-${i},12:00:00,12:00:00,,`).join("\n");
      const broken = mutatedFeed(EDGE, { "stop_times.txt": (t) => `${t.trimEnd()}\n${ghosts}\n` });
      try {
        const run = await runCli(["import", broken.dir], { DATABASE_URL: env.db!.url, LOG_LEVEL: "warn" });
        expect(run.code).toBe(1);
        // stderr has the per-file progress lines first, then the error.
        const lines = run.stderr.slice(run.stderr.indexOf("error: ")).trimEnd().split("\n");
        expect(lines[0]).toBe("error: invalid GTFS feed (50+ problems):");
        expect(lines.slice(1, 51)).toEqual(
          Array.from(
            { length: 50 },
            (_, i) => `  stop_times.txt:${22 + i} [stop_id]: unknown stop_id (not in stops.txt) (got "ghost-${i}")`,
          ),
        );
        expect(lines.slice(51)).toEqual(["  … and more"]);
      } finally {
        broken.remove();
      }
    },
    SLOW,
  );

  it(
    "with exactly 50 problems lists them all and does not say there are more",
    async () => {
      const ghosts = Array.from({ length: 50 }, (_, i) => `t1,${100 + i},ghost-${i},12:00:00,12:00:00,,`).join("\n");
      const broken = mutatedFeed(EDGE, { "stop_times.txt": (t) => `${t.trimEnd()}\n${ghosts}\n` });
      try {
        const err = await env.import(broken.dir).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(FeedValidationError);
        const { issues, truncated, message } = err as FeedValidationError;
        expect([issues.length, truncated]).toEqual([50, false]);
        expect(message.split("\n")[0]).toBe("invalid GTFS feed (50 problems):");
        expect(message).not.toContain("and more");
      } finally {
        broken.remove();
      }
    },
    SLOW,
  );
});

describe("a quote that never closes", () => {
  const env = suiteGtfsEnv([]);
  const ONE_MIB = 1024 * 1024;

  it("is bounded at 1 MiB, as documented", () => {
    expect(MAX_RECORD_CHARS).toBe(ONE_MIB);
  });

  it(
    "is refused once the open field passes 1 MiB, at the line where it opens, long before the end of the file",
    async () => {
      const row = "filler-0000,Filler stop with a longish name,40.7,-73.9,0,,\n";
      const rows = row.repeat(Math.ceil((1.25 * ONE_MIB) / row.length));
      const broken = mutatedFeed(EDGE, {
        "stops.txt": (t) => t.replace("far,Far Away,", 'far,"Far Away,') + rows + 'closing,"quote",40.7,-73.9,0,,\n',
      });
      try {
        const err = await env.import(broken.dir).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(FeedValidationError);
        expect((err as FeedValidationError).issues.map(formatIssue)).toEqual([
          `stops.txt:9: quoted field not closed within ${ONE_MIB} characters (a stray '"' in this record?)`,
        ]);
      } finally {
        broken.remove();
      }
    },
    SLOW,
  );

  it(
    "a legitimate quoted field just under 1 MiB is read whole",
    async () => {
      // Over many lines (the bound is for a field that swallows lines), ~0.9 MiB: a bound of half a MiB
      // would refuse it (the reader checks the bound between its 256 KiB chunks).
      const note = `${"x".repeat(99)}\n`.repeat(Math.floor((ONE_MIB - 100_000) / 100));
      const feed = mutatedFeed(EDGE, {
        "stops.txt": (t) =>
          t.replace("far,Far Away,41.5000,-74.5000,0,,", `far,Far Away,41.5000,-74.5000,0,,"${note}"`),
      });
      try {
        await env.import(feed.dir);
        expect((await env.get("/v1/stops/far")).body.data).toMatchObject({ stop_id: "far", stop_name: "Far Away" });
        expect((await env.get("/v1/stops/saopaulo")).status).toBe(200); // the rows around it are all there
      } finally {
        feed.remove();
      }
    },
    SLOW,
  );
});
