// Preloaded into a bun child process whose peak memory a test compares (`bun --preload <this> …`):
// prints the process's peak resident set size as the kernel counts it (getrusage's ru_maxrss, in KiB)
// on exit. It also collects garbage every 20 ms, so that the peak measures what the process holds, not
// how far the collector let garbage pile up before it ran (which varies from run to run).
setInterval(() => Bun.gc(true), 20).unref();
process.on("exit", () => process.stderr.write(`max-rss-kib ${process.resourceUsage().maxRSS}\n`));
