// The binary COPY writer never splits a tuple across chunks, trusting the caller's size bound: a bound
// that is too small loses bytes at a chunk edge and the server rejects the whole COPY. Checked here for
// the largest stop_times tuple at every alignment near the edge of a chunk.
import { describe, expect, it } from "vitest";
import { BinaryCopyWriter } from "../../src/modules/gtfs/import/copy-binary";
import { stopTimeTupleBytes } from "../../src/modules/gtfs/import/importer";

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
});
