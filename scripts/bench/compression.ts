// What compressing an answer costs, per encoding and level, in this process (node:zlib, as the service
// does): bytes out and microseconds per compression, the median of repeated runs. The service
// compresses a cached answer once per encoding and serves those bytes to every later hit, so the time
// is paid on a cache miss, beside the database work of building the answer; the size on every answer.
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { median } from "./lib/side-by-side";

const LEVELS: { name: string; run: (b: Buffer) => Buffer }[] = [
  ...[1, 4, 6, 9].map((level) => ({ name: `gzip ${level}`, run: (b: Buffer) => gzipSync(b, { level }) })),
  ...[1, 4, 5, 6, 9, 11].map((quality) => ({
    name: `br ${quality}`,
    run: (b: Buffer) =>
      brotliCompressSync(b, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: quality,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          [constants.BROTLI_PARAM_SIZE_HINT]: b.length,
        },
      }),
  })),
];

/** Microseconds per call of `fn`, the median of batches run for about `ms` in all. */
function timePerCall(fn: () => void, ms = 300): number {
  fn(); // first call: allocation of the library's state, not measured
  const batches: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end || batches.length < 5) {
    const start = performance.now();
    let n = 0;
    do {
      fn();
      n++;
    } while (performance.now() - start < 10);
    batches.push(((performance.now() - start) * 1000) / n);
  }
  return median(batches);
}

export function compressionCosts(body: Buffer): void {
  const cols = (label: string, ...values: string[]) =>
    console.log(`${label.padEnd(12)} ${values.map((v) => v.padStart(12)).join(" ")}`);
  const small = body.subarray(0, 1024);
  console.log(`\ncompressing the board (${body.length} bytes) and its first 1024 bytes, once each, in this process`);
  cols("encoding", "board bytes", "board µs", "1 KB bytes", "1 KB µs");
  for (const level of LEVELS)
    cols(
      level.name,
      String(level.run(body).length),
      timePerCall(() => level.run(body)).toFixed(0),
      String(level.run(small).length),
      timePerCall(() => level.run(small)).toFixed(0),
    );
}
