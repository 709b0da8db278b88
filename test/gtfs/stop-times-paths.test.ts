// stop_times lines are read in place when every field is in canonical form, and through the
// quote-aware record parser otherwise. The stored data must not depend on which path a line took.
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { CsvParser, type CsvRecord } from "../../src/modules/gtfs/import/read/csv";
import { EDGE, mutatedFeed, SAMPLE_DIR, SLOW, suiteGtfsEnv } from "./helpers";

/** Rewrites stop_times.txt record by record (header untouched), parsed with the real CSV parser. */
function rewrite(
  text: string,
  change: (fields: string[], header: string[], row: number) => string[],
  quoteAll = false,
): string {
  const records: CsvRecord[] = [];
  const parser = new CsvParser();
  parser.push(text, records);
  parser.end(records);
  const header = records[0]!.fields;
  const quote = (f: string) => (quoteAll || /[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f);
  const rows = records.slice(1).map((r, i) =>
    change([...r.fields], header, i)
      .map(quote)
      .join(","),
  );
  return `${[header.join(","), ...rows].join("\n")}\n`;
}

/** Every field quoted: each line takes the record path. */
const allQuoted = (text: string) => rewrite(text, (f) => f, true);

/** The same values in forms the GTFS reference allows but the in-place reader does not take. */
function unusualForms(text: string): string {
  return rewrite(text, (f, header, row) => {
    const at = (name: string) => header.indexOf(name);
    if (row % 3 === 1)
      for (const name of ["arrival_time", "departure_time"]) {
        const i = at(name);
        if (i >= 0 && /^0\d:/.test(f[i]!)) f[i] = f[i]!.slice(1); // 08:00:00 → 8:00:00
      }
    if (row % 3 === 2) f[at("stop_sequence")] = ` ${f[at("stop_sequence")]} `;
    return f;
  });
}

describe("stop_times: read in place or through the record parser", () => {
  const env = suiteGtfsEnv();

  const stored = async (schema: string) => {
    const db = env.app.database.db;
    const q = async (text: string) => (await sql.raw<Record<string, unknown>>(text).execute(db)).rows;
    return {
      stopTimes: await q(`select * from "${schema}".stop_times order by trip_idx, stop_sequence`),
      boards: await q(`select * from "${schema}".stop_departures order by stop_idx, hour`),
    };
  };

  it.each([
    ["sample-gtfs-feed", SAMPLE_DIR],
    ["edge-case feed", EDGE],
  ])(
    "%s: the same rows and warnings whether lines are plain, quoted, or in unusual forms",
    async (_name, dir) => {
      const plain = await env.import(dir, 10);
      const expected = await stored(plain.schema);
      expect(expected.stopTimes.length).toBeGreaterThan(5);
      for (const transform of [allQuoted, unusualForms]) {
        const feed = mutatedFeed(dir, { "stop_times.txt": transform });
        try {
          const summary = await env.import(feed.dir, 10);
          expect(await stored(summary.schema)).toEqual(expected);
          expect(summary.warnings).toEqual(plain.warnings);
        } finally {
          feed.remove();
        }
      }
    },
    SLOW,
  );

  it(
    "a line the in-place reader cannot take is still reported with its line and field",
    async () => {
      const feed = mutatedFeed(SAMPLE_DIR, {
        "stop_times.txt": (text) =>
          rewrite(text, (f, header, row) => (row === 2 ? f.with(header.indexOf("departure_time"), "15:61:00") : f)),
      });
      try {
        await expect(env.import(feed.dir, 10)).rejects.toThrow(
          'stop_times.txt:4 [departure_time]: expected a time HH:MM:SS (got "15:61:00")',
        );
      } finally {
        feed.remove();
      }
    },
    SLOW,
  );

  it(
    "stop_times is written frozen: every page is all-visible once loaded",
    async () => {
      const summary = await env.import(SAMPLE_DIR, 10);
      const { rows } = await sql<{ relpages: number; relallvisible: number }>`
        select c.relpages, c.relallvisible from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = ${summary.schema} and c.relname = 'stop_times'`.execute(env.app.database.db);
      expect(rows[0]!.relpages).toBeGreaterThan(0);
      expect(rows[0]!.relallvisible).toBe(rows[0]!.relpages);
    },
    SLOW,
  );
});
