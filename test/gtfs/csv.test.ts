import { describe, expect, it } from "vitest";
import {
  CsvParser,
  type CsvRecord,
  CsvSyntaxError,
  collecting,
  MAX_RECORD_CHARS,
  readCsvInto,
} from "../../src/modules/gtfs/import/read/csv";

async function parseChunks(chunks: (string | Uint8Array)[]): Promise<CsvRecord[]> {
  async function* gen() {
    yield* chunks;
  }
  const out: CsvRecord[] = [];
  for await (const _ of readCsvInto(
    gen(),
    collecting(() => out),
  ));
  return out;
}

/** Splits text at every possible position pair to prove chunk boundaries never change the result. */
function everySplit(text: string): string[][] {
  const splits: string[][] = [];
  for (let i = 0; i <= text.length; i++) splits.push([text.slice(0, i), text.slice(i)]);
  return splits;
}

describe("CSV reader", () => {
  it("handles a BOM, CRLF, quoted commas, doubled quotes and embedded newlines", async () => {
    const bytes = new Uint8Array([
      0xef,
      0xbb,
      0xbf,
      ...new TextEncoder().encode('id,name\r\n1,"a, b"\r\n2,"say ""hi"""\r\n3,"two\r\nlines"\r\n4,plain'),
    ]);
    const recs = await parseChunks([bytes]);
    expect(recs.map((r) => r.fields)).toEqual([
      ["id", "name"],
      ["1", "a, b"],
      ["2", 'say "hi"'],
      ["3", "two\r\nlines"],
      ["4", "plain"],
    ]);
    expect(recs.map((r) => r.line)).toEqual([1, 2, 3, 4, 6]);
  });

  it("gives the same records whatever the chunk boundaries (including inside quotes and CRLF)", async () => {
    const text = 'a,b,c\r\n"x,1","y""",z\r\n\r\n"",,"p\nq"\nlast,"row",end\r\n';
    const expected = [
      ["a", "b", "c"],
      ["x,1", 'y"', "z"],
      ["", "", "p\nq"],
      ["last", "row", "end"],
    ];
    for (const parts of everySplit(text)) {
      const recs = await parseChunks(parts);
      expect(recs.map((r) => r.fields)).toEqual(expected);
      expect(recs.map((r) => r.line)).toEqual([1, 2, 4, 6]);
    }
  });

  it("splits multi-byte UTF-8 characters across chunks correctly", async () => {
    const bytes = new TextEncoder().encode("name\nZürich Straße\nSão Paulo\n");
    const recs = await parseChunks([bytes.subarray(0, 7), bytes.subarray(7, 8), bytes.subarray(8)]);
    expect(recs.map((r) => r.fields[0])).toEqual(["name", "Zürich Straße", "São Paulo"]);
  });

  it("refuses a quote that never closes, naming the line where it opened", async () => {
    const failure = async (chunks: string[]) => {
      try {
        await parseChunks(chunks);
      } catch (err) {
        if (err instanceof CsvSyntaxError) return { line: err.line, message: err.message };
        throw err;
      }
      throw new Error("parsed without an error");
    };
    // At the end of the file: the rest would otherwise become one field and the rows in it be lost.
    expect(await failure(['id,name\n1,ok\n2,"open\n3,lost\n4,lost\n'])).toEqual({
      line: 3,
      message: `quoted field not closed before the end of the file (a stray '"' in this record?)`,
    });
    // Early in a long file: refused once the open record passes the bound, not after reading it all.
    const row = "9,filler text for a long file\n";
    const rows = row.repeat(Math.ceil((2 * MAX_RECORD_CHARS) / row.length));
    const chunks = ['id,name\n1,"open\n', ...rows.match(/[\s\S]{1,65536}/g)!];
    const early = await failure(chunks);
    expect(early.line).toBe(2);
    expect(early.message).toMatch(/^quoted field not closed within \d+ characters/);
  });

  it("parses incrementally without losing a record that has no trailing newline", () => {
    const p = new CsvParser();
    const out: CsvRecord[] = [];
    p.push("a,b\n1,", out);
    expect(out.map((r) => r.fields)).toEqual([["a", "b"]]);
    p.push("2", out);
    p.end(out);
    expect(out.map((r) => r.fields)).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
  });
});
