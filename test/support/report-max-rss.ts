// Preloaded into a bun child process whose peak memory a test compares (`bun --preload <this> …`):
// prints the process's peak resident set size on exit, as Linux counts it for this process's own
// address space (VmHWM in /proc/self/status, in KiB). Not getrusage's ru_maxrss: that keeps the
// parent's peak across fork and exec, so a child of a large test runner would report the runner's.
// It also collects garbage every 20 ms, so that the peak measures what the process holds, not how far
// the collector let garbage pile up before it ran (which varies from run to run).
import { readFileSync } from "node:fs";

setInterval(() => Bun.gc(true), 20).unref();
process.on("exit", () => {
  const peak = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
  process.stderr.write(`max-rss-kib ${peak}\n`);
});
