// The binary COPY writer never splits a tuple across chunks, trusting the caller's size bound: a bound
// that is too small loses bytes at a chunk edge and the server rejects the whole COPY. Checked here for
// the largest stop_times tuple at every alignment near the edge of a chunk.
import { describe, expect, it } from "vitest";
import { BinaryCopyWriter } from "../../src/modules/gtfs/import/copy-binary";
import { stopTimeTupleBytes } from "../../src/modules/gtfs/import/files/stop-times-converter";

const CHUNK = 1 << 20;
const HEADER = 19;
const TRAILER = 2;

describe("binary COPY writer", () => {
  it.each([[null], ["Airport"], ["Zürich HB – Gleis 7 ✈"]])(
    "fits the largest stop_times tuple (headsign %j) at every position near a chunk edge",
    (headsign) => {
      const tupleBytes = 2 + 5 * 8 + 4 + (headsign === null ? 0 : Buffer.byteLength(headsign)) + 3 * 6 + 12;
      for (let shift = 0; shift < 128; shift++) {
        const w = new BinaryCopyWriter();
        // A filler tuple ending `shift` bytes after CHUNK - 100.
        const filler = CHUNK - 100 + shift - HEADER - 6;
        w.row(1, filler + 6);
        w.text("a".repeat(filler));
        w.row(10, stopTimeTupleBytes(headsign));
        w.int4(123456);
        w.int4(90_000);
        w.int4(90_060);
        w.int4(7);
        w.int4(42);
        if (headsign === null) w.null();
        else w.text(headsign);
        w.int2(3);
        w.int2(2);
        w.float8(12345.678);
        w.int2(1);
        const chunks = w.finish();
        const total = chunks.reduce((n, c) => n + c.length, 0);
        expect(total).toBe(HEADER + 6 + filler + tupleBytes + TRAILER);
        // The tuple is whole in one chunk: its field count (10) starts it.
        const last = chunks.at(-1)!;
        const start = last.length - TRAILER - tupleBytes;
        expect(start).toBeGreaterThanOrEqual(0);
        expect((last[start]! << 8) | last[start + 1]!).toBe(10);
      }
    },
  );

  it("writes int4[] fields as PostgreSQL's array_send does, negative and large values included", () => {
    const column = Int32Array.from([0, 1, -1, 255, 256, 65_535, 2_147_483_647, -2_147_483_648, 90_061, -300]);
    const rows = Int32Array.from([9, 0, 3, 7, 2, 6, 1, 8, 5, 4]);
    const w = new BinaryCopyWriter();
    w.row(2, 1024);
    w.int4Arrays(rows, [column, null]);
    const bytes = Buffer.concat(w.finish());
    // Reference encoding, word by word: length, ndim 1, no NULLs, OID 23, n, lower bound 1, (4, value)…
    const expected = Buffer.alloc(2 + 2 * (24 + rows.length * 8));
    expected.writeInt16BE(2, 0);
    let p = 2;
    for (const values of [Array.from(rows, (r) => column[r]!), Array.from(rows)]) {
      for (const word of [20 + values.length * 8, 1, 0, 23, values.length, 1]) p = expected.writeInt32BE(word, p);
      for (const v of values) p = expected.writeInt32BE(v, expected.writeInt32BE(4, p));
    }
    expect(bytes.subarray(HEADER, bytes.length - TRAILER)).toEqual(expected);
  });
});
