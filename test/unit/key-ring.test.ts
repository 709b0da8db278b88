// The key ring on its own (no app): which key a request presents, and how a key file (API_KEYS_FILE) is
// followed — what an edit changes, what it logs, and what a broken or missing file leaves in force.
// test/unit/api-keys.test.ts covers the same through a whole app; this file is fast enough to run for
// every mutant of src/http/key-ring.ts.
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createKeyRing, type KeyRing, presentedKey } from "../../src/http/key-ring";
import { eventually } from "../support/app-server";

const ALPHA = "alpha-key-0123456789abcdef";
const ALPHA_ROTATED = "alpha-key-rotated-0123456789";
const BETA = "beta-key-0123456789abcdef0";
const GAMMA = "gamma-key-0123456789abcdef";
const FIXED = "fixed-key-0123456789abcdef";
// Longer than any test runs: only the ring's clock, which the test moves, makes it read the file again.
const RECHECK_MS = 60_000;

const dir = mkdtempSync(join(tmpdir(), "tapi-key-ring-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

interface LogLine {
  level: number;
  msg: string;
  file?: string;
  added?: string[];
  removed?: string[];
  problems?: string[];
  err?: { message?: string };
}

/** A ring following a fresh key file, with a clock the test moves and the log lines it wrote. */
function ringOnFile(text: string, start = 50_000) {
  const file = join(dir, `keys-${++files}`);
  writeFileSync(file, text);
  const lines: LogLine[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  let clock = start;
  const ring = createKeyRing({
    keys: [{ name: "fixed", key: FIXED }],
    file,
    logger,
    recheckMs: RECHECK_MS,
    now: () => clock,
  }) as KeyRing;
  return {
    file,
    ring,
    lines,
    /** Moves the clock one recheck interval on and asks the ring, which starts a read of the file. */
    nextCheck() {
      clock += RECHECK_MS;
      ring.nameOf(FIXED);
    },
    /** Checks again until `done` holds (each check after one more interval). */
    async until(done: () => boolean, what: string) {
      await eventually(
        async () => {
          if (done()) return true;
          this.nextCheck();
          return done();
        },
        5000,
        what,
      );
    },
    changes: () => lines.filter((l) => l.msg === "API keys changed"),
    errors: (msg: string) => lines.filter((l) => l.msg === msg),
  };
}

const BROKEN = "API key file has errors: keeping the keys read before";
const UNREADABLE = "API key file unreadable: keeping keys";

describe("a key ring following a key file", () => {
  it("serves the file's keys with the fixed ones from the start, without announcing them as a change", () => {
    const { ring, lines } = ringOnFile(`# clients\nalpha:${ALPHA}\nbeta:${BETA}\n`);
    expect([ring.nameOf(FIXED), ring.nameOf(ALPHA), ring.nameOf(BETA), ring.nameOf(GAMMA)]).toEqual([
      "fixed",
      "alpha",
      "beta",
      undefined,
    ]);
    expect(lines).toEqual([]);
  });

  it("reads the file again as soon as recheckMs has passed since the last read", async () => {
    const t = ringOnFile(`alpha:${ALPHA}\n`);
    writeFileSync(t.file, `alpha:${ALPHA}\nbeta:${BETA}\n`);
    t.nextCheck(); // exactly one interval after the start, and the clock stays there
    await eventually(async () => t.ring.nameOf(BETA) === "beta", 5000, "beta added");
  });

  it("names the keys an edit adds and removes, and announces no edit that adds or removes none", async () => {
    const t = ringOnFile(`alpha:${ALPHA}\nbeta:${BETA}\n`);
    writeFileSync(t.file, `alpha:${ALPHA}\ngamma:${GAMMA}\n`);
    await t.until(() => t.ring.nameOf(GAMMA) === "gamma", "gamma added");
    expect(t.ring.nameOf(BETA)).toBeUndefined();
    expect(t.changes()).toEqual([
      expect.objectContaining({ level: 30, file: t.file, added: ["gamma"], removed: ["beta"] }),
    ]);

    // A rotated key (same name, new key) and a comment: the new key works, the old one no longer.
    writeFileSync(t.file, `# rotated\nalpha:${ALPHA_ROTATED}\ngamma:${GAMMA}\n`);
    await t.until(() => t.ring.nameOf(ALPHA_ROTATED) === "alpha", "alpha rotated");
    expect(t.ring.nameOf(ALPHA)).toBeUndefined();
    for (const change of t.changes()) expect(change.added!.length + change.removed!.length).toBeGreaterThan(0);
    expect(t.changes()).toHaveLength(1);
  });

  it("keeps the keys it has when an edit is broken, says why once, and takes the next good edit", async () => {
    const t = ringOnFile(`alpha:${ALPHA}\n`);
    writeFileSync(t.file, `alpha:${ALPHA}\nbeta:${BETA}\ngamma\n`);
    await t.until(() => t.errors(BROKEN).length > 0, "the error");
    expect(t.errors(BROKEN)).toEqual([
      expect.objectContaining({ level: 50, file: t.file, problems: ["line 3: expected name:key"] }),
    ]);
    expect([t.ring.nameOf(ALPHA), t.ring.nameOf(BETA)]).toEqual(["alpha", undefined]);

    // Read again unchanged: nothing new to say. (Our own read of the file lets the ring's go first.)
    t.nextCheck();
    await readFile(t.file);
    writeFileSync(t.file, `alpha:${ALPHA}\nbeta:${BETA}\n`);
    await t.until(() => t.ring.nameOf(BETA) === "beta", "the fixed edit");
    expect(t.errors(BROKEN)).toHaveLength(1);
    expect(JSON.stringify(t.lines)).not.toContain(BETA);
  });

  it("refuses a file that reuses a fixed key's name, keeping the keys it has", async () => {
    const t = ringOnFile(`alpha:${ALPHA}\n`);
    writeFileSync(t.file, `alpha:${ALPHA}\nfixed:${GAMMA}\n`);
    await t.until(() => t.errors(BROKEN).length > 0, "the error");
    expect(t.errors(BROKEN)[0]!.problems).toEqual(["the name fixed is given twice"]);
    expect([t.ring.nameOf(FIXED), t.ring.nameOf(GAMMA)]).toEqual(["fixed", undefined]);
  });

  it("keeps its keys while the file cannot be read, and follows the file again once it is back", async () => {
    const t = ringOnFile(`alpha:${ALPHA}\n`);
    unlinkSync(t.file);
    await t.until(() => t.errors(UNREADABLE).length > 0, "the error");
    expect(t.errors(UNREADABLE)[0]).toMatchObject({ level: 50, file: t.file });
    expect(t.errors(UNREADABLE)[0]!.err?.message).toContain(t.file);
    expect(t.ring.nameOf(ALPHA)).toBe("alpha");

    writeFileSync(t.file, `beta:${BETA}\n`);
    await t.until(() => t.ring.nameOf(BETA) === "beta", "the file back");
    expect(t.ring.nameOf(ALPHA)).toBeUndefined();
    // Still followed after that: another edit is taken too.
    writeFileSync(t.file, `gamma:${GAMMA}\n`);
    await t.until(() => t.ring.nameOf(GAMMA) === "gamma", "another edit");
  });

  it("reads one file at a time however many requests come while a read is under way", async () => {
    const t = ringOnFile(`alpha:${ALPHA}\n`);
    unlinkSync(t.file);
    // Every interval has passed for each of these requests; only the first starts a read.
    for (let i = 0; i < 5; i++) t.nextCheck();
    await eventually(async () => t.errors(UNREADABLE).length > 0, 5000, "the error");
    await readFile(join(dir, "missing")).catch(() => {});
    writeFileSync(t.file, `beta:${BETA}\n`);
    await t.until(() => t.ring.nameOf(BETA) === "beta", "the file back");
    expect(t.errors(UNREADABLE)).toHaveLength(1);
  });
});

describe("a key ring without a key file", () => {
  it("exists only when there are keys, and then reads no file however much time passes", async () => {
    const lines: LogLine[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    let clock = 0;
    const now = () => clock;
    expect(createKeyRing({ keys: [], file: null, logger, now })).toBeUndefined();
    const ring = createKeyRing({ keys: [{ name: "fixed", key: FIXED }], file: null, logger, now }) as KeyRing;
    clock += 10 * RECHECK_MS;
    expect([ring.nameOf(FIXED), ring.nameOf(ALPHA), ring.nameOf(undefined), ring.nameOf(null)]).toEqual([
      "fixed",
      undefined,
      undefined,
      undefined,
    ]);
    await readFile(join(dir, "missing")).catch(() => {}); // lets any read the ring started go first
    expect(lines).toEqual([]);
  });
});

describe("the key a request presents", () => {
  const keyOf = (headers: Record<string, string>) => presentedKey(new Headers(headers));

  it("takes X-API-Key first, then an Authorization Bearer token in any case, and nothing else", () => {
    expect(keyOf({ "x-api-key": ALPHA, authorization: `Bearer ${BETA}` })).toBe(ALPHA);
    expect(keyOf({ authorization: `Bearer ${BETA}` })).toBe(BETA);
    expect(keyOf({ authorization: `bEaReR \t ${BETA}` })).toBe(BETA);
    expect(keyOf({ authorization: `Basic ${BETA}` })).toBeNull();
    expect(keyOf({ authorization: `Bearer${BETA}` })).toBeNull();
    expect(keyOf({})).toBeNull();
  });

  it("leaves out blanks around a Bearer token that HTTP does not strip (a pasted no-break space)", () => {
    expect(keyOf({ authorization: `Bearer ${BETA}\u00a0` })).toBe(BETA);
  });
});
