// Mutation tests of the importer: random byte, field and line mutations of the sample feed and of the
// edge feeds, and byte mutations of their zips, imported into PostgreSQL. Whatever the mutation, the
// import either succeeds (and serves the new version) or fails with feed problems that each name their
// file (and line and field where there is one) in one line, or with one line about the archive; it
// never throws anything else and never hangs; and after a failure the served feed is exactly as before.
//
// Seeded and bounded so that `npm test` runs them under both runners. A failure prints fast-check's
// seed and counterexample; GTFS_MUTATION_SEED and GTFS_MUTATION_RUNS (per kind) run other or more cases.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImportSummary } from "../../src/modules/gtfs/import/importer";
import { ERROR_CODES, FeedValidationError, formatIssue } from "../../src/modules/gtfs/import/issues";
import { FeedSourceError } from "../../src/modules/gtfs/import/read/source";
import { DATES_ONLY, EDGE, SAMPLE_DIR, SLOW, suiteGtfsEnv } from "./helpers";

const SEED = Number(process.env.GTFS_MUTATION_SEED ?? 20_240_615);
const RUNS = Number(process.env.GTFS_MUTATION_RUNS ?? 12);
/** Generous: a loaded 2-core machine imports these small feeds in well under a second. */
const HANG_MS = 60_000;

const BASES = [SAMPLE_DIR, EDGE, DATES_ONLY].map((dir) => ({
  dir,
  files: readdirSync(dir)
    .filter((n) => n.endsWith(".txt"))
    .sort()
    .map((name) => ({ name, bytes: readFileSync(join(dir, name)) })),
}));
type Base = (typeof BASES)[number];
type Files = Map<string, Buffer>;

/** Values that break parsers: empty, signs, huge, non-numbers, odd times and dates, CSV structure. */
const HOSTILE = [
  "",
  " ",
  "-1",
  "0",
  "+1",
  "1e308",
  "NaN",
  "99999999999999999999",
  "-0.0",
  "25:61:00",
  "24:00:00",
  "-01:00:00",
  "999:00:00",
  "20240230",
  "00000000",
  "2024-06-15",
  '"',
  '"unterminated',
  'a"b',
  "a,b",
  "a\nb",
  "\r",
  "\u0000",
  "\uFEFF",
  "é",
  "\uD800",
  "'; drop table stops; --",
  "x".repeat(5000),
];

const fieldValue = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.integer({ min: -100_000, max: 100_000 }).map(String),
  /** Another row's value of the same column (a duplicate id, or a reference to another row). */
  fc.nat().map((n) => ({ copyRow: n })),
);

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant("byte" as const),
    file: fc.nat(),
    at: fc.nat(),
    op: fc.constantFrom("replace", "insert", "delete"),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant("field" as const),
    file: fc.nat(),
    line: fc.nat(),
    field: fc.nat(),
    value: fieldValue,
    quoted: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("line" as const),
    file: fc.nat(),
    line: fc.nat(),
    other: fc.nat(),
    op: fc.constantFrom("delete", "duplicate", "swap", "truncate", "blank", "header-last"),
    cut: fc.nat(),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

const pick = <T>(items: readonly T[], n: number): T => items[n % items.length]!;

function mutate(base: Base, m: Mutation): { files: Files; what: string } {
  const files: Files = new Map(base.files.map((f) => [f.name, Buffer.from(f.bytes)]));
  const { name } = pick(base.files, m.file);
  const bytes = files.get(name)!;
  if (m.kind === "byte") {
    const at = bytes.length ? m.at % (bytes.length + (m.op === "insert" ? 1 : 0)) : 0;
    const before = bytes.subarray(0, at);
    const after = bytes.subarray(m.op === "insert" ? at : at + 1);
    const middle = m.op === "delete" ? [] : [m.byte];
    files.set(name, Buffer.concat([before, Buffer.from(middle), after]));
    return { files, what: `${name}: ${m.op} byte ${m.byte} at ${at}` };
  }
  const lines = bytes.toString("utf8").split("\n");
  const last = lines.length - (lines.at(-1) === "" ? 1 : 0); // a trailing newline leaves "" last
  if (m.kind === "field") {
    const row = m.line % Math.max(1, last);
    const fields = lines[row]!.replace(/\r$/, "").split(",");
    const col = m.field % fields.length;
    let value =
      typeof m.value === "string"
        ? m.value
        : (lines[1 + (m.value.copyRow % Math.max(1, last - 1))]?.split(",")[col]?.replace(/\r$/, "") ?? "");
    if (m.quoted) value = `"${value.replaceAll('"', '""')}"`;
    fields[col] = value;
    lines[row] = fields.join(",") + (lines[row]!.endsWith("\r") ? "\r" : "");
    files.set(name, Buffer.from(lines.join("\n")));
    return { files, what: `${name}:${row + 1} field ${col + 1} = ${JSON.stringify(value).slice(0, 40)}` };
  }
  const row = m.line % Math.max(1, last);
  const other = m.other % Math.max(1, last);
  switch (m.op) {
    case "delete":
      lines.splice(row, 1);
      break;
    case "duplicate":
      lines.splice(other, 0, lines[row]!);
      break;
    case "swap":
      [lines[row], lines[other]] = [lines[other]!, lines[row]!];
      break;
    case "truncate":
      lines[row] = lines[row]!.slice(0, m.cut % (lines[row]!.length + 1));
      break;
    case "blank":
      lines.splice(row, 0, "");
      break;
    case "header-last":
      lines.push(lines.shift()!);
      break;
  }
  files.set(name, Buffer.from(lines.join("\n")));
  return { files, what: `${name}: ${m.op} line ${row + 1} (other ${other + 1}, cut ${m.cut})` };
}

/**
 * Cases these tests once failed on, checked first on every run: [base feed, mutation] as fast-check
 * printed them (its seed in the comment).
 */
const FOUND: [number, Mutation][] = [
  // Seed 1: a NUL byte in agency_name reached COPY ("invalid byte sequence for encoding UTF8: 0x00").
  [808957669, { kind: "field", file: 568772545, line: 65490857, field: 30, value: "\u0000", quoted: false }],
  // Seed 2: the same, inserted as a byte into dates-only's agency.txt.
  [2013748175, { kind: "byte", file: 0, at: 1783839465, op: "insert", byte: 0 }],
  // Seed 3: the same, quoted, in calendar_dates.txt's service_id.
  [62419378, { kind: "field", file: 2037533269, line: 1540185786, field: 1564588794, value: "\u0000", quoted: true }],
];

/** One line, naming a feed file, its line and field where the problem has them. */
const ISSUE_LINE = /^[a-z_]+\.txt(:\d+)?( \[[a-z_, ]+\])?: [^\n]+$/;

describe("GTFS import: mutated feeds", () => {
  const env = suiteGtfsEnv([EDGE]);
  let dir: string;
  const tally = { tried: 0, imported: 0, refused: 0 };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "gtfs-mutations-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    process.stdout.write(
      `importer mutations (seed ${SEED}): ${tally.tried} cases tried, ${tally.imported} imported, ${tally.refused} refused\n`,
    );
  });

  /** What is served: the catalogue (GET /v1/feeds), and the active version's rows, read in the database. */
  async function served() {
    const feeds = await env.get("/v1/feeds");
    const pool = env.app.database.pool!;
    const { rows: schemas } = await pool.query<{ nspname: string }>(
      "select nspname from pg_namespace where nspname like 'gtfs_f%' order by 1",
    );
    const { rows: active } = await pool.query<{ schema_name: string }>(
      "select schema_name from gtfs_feed where status = 'active'",
    );
    const schema = active[0]?.schema_name;
    const tables: Record<string, string> = {};
    if (schema) {
      const { rows } = await pool.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = $1 order by 1",
        [schema],
      );
      for (const { table_name } of rows) {
        const { rows: digest } = await pool.query<{ n: string; md5: string | null }>(
          `select count(*) as n, md5(string_agg(t::text, '|' order by t::text)) as md5 from "${schema}"."${table_name}" t`,
        );
        tables[table_name] = `${digest[0]!.n} ${digest[0]!.md5}`;
      }
    }
    return { feeds: { status: feeds.status, body: feeds.body }, schemas: schemas.map((s) => s.nspname), tables };
  }

  /** Imports `location`; the outcome must be one of the two allowed ones, within HANG_MS. */
  async function importChecked(location: string, what: string): Promise<void> {
    tally.tried++;
    const before = await served();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`import hung for ${HANG_MS} ms: ${what}`)), HANG_MS);
    });
    let summary: ImportSummary | undefined;
    let failure: unknown;
    try {
      summary = await Promise.race([env.import(location), hung]);
    } catch (err) {
      failure = err;
    } finally {
      clearTimeout(timer);
    }
    if (summary) {
      tally.imported++;
      const feeds = (await env.get("/v1/feeds")).body.data as { id: number; status: string }[];
      expect(feeds[0], what).toMatchObject({ id: summary.feedId, status: "active" });
      return;
    }
    tally.refused++;
    if (failure instanceof FeedValidationError) {
      expect(failure.issues.length, what).toBeGreaterThan(0);
      for (const issue of failure.issues) {
        expect(Object.keys(ERROR_CODES), what).toContain(issue.code);
        expect(formatIssue(issue), what).toMatch(ISSUE_LINE);
      }
    } else if (failure instanceof FeedSourceError) {
      expect(failure.message, what).not.toContain("\n");
    } else {
      // Anything else (a TypeError, a database error, a hang) is a bug in the importer.
      throw new Error(`${what}: unexpected ${failure instanceof Error ? failure.stack : String(failure)}`);
    }
    expect(await served(), what).toEqual(before);
  }

  const caseDir = (n: number) => {
    const path = join(dir, `case-${n}`);
    rmSync(path, { recursive: true, force: true });
    return path;
  };

  it(
    "byte, field and line mutations of the feeds' files: imported, or refused naming file, line and field",
    async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.nat(), mutation, async (b, m) => {
          const base = pick(BASES, b);
          const { files, what } = mutate(base, m);
          const path = caseDir(n++);
          mkdirSync(path);
          for (const [name, bytes] of files) writeFileSync(join(path, name), bytes);
          await importChecked(path, `${base.dir} → ${what}`);
        }),
        { seed: SEED, numRuns: RUNS * 3, endOnFailure: true, examples: FOUND },
      );
    },
    SLOW * 5,
  );

  it(
    "byte mutations of the feeds' zips: imported, or refused in one line naming the archive",
    async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.nat(),
          fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), {
            minLength: 1,
            maxLength: 3,
          }),
          async (b, flips) => {
            const base = pick(BASES, b);
            const zip = Buffer.from(zipSync(Object.fromEntries(base.files.map((f) => [f.name, f.bytes]))));
            for (const f of flips) zip[f.at % zip.length] = f.byte;
            const path = `${caseDir(n++)}.zip`;
            writeFileSync(path, zip);
            const what = `${base.dir} zipped, bytes ${flips.map((f) => `${f.at % zip.length}=${f.byte}`).join(", ")}`;
            await importChecked(path, what);
          },
        ),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
    },
    SLOW * 5,
  );
});
