// Open-loop load for bench:http's latency figures: sends GET <url> at a fixed rate whether or not
// earlier answers came back (a closed loop like wrk's waits for them, so a stall shows up as fewer
// requests instead of as latency — "coordinated omission"), and prints the latency percentiles as JSON.
// Usage: bun scripts/bench/open-loop.ts <url> <requests per second> <seconds>
export {};

const [url, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
if (!url || !(rate > 0) || !(seconds > 0)) {
  console.error("usage: bun scripts/bench/open-loop.ts <url> <requests per second> <seconds>");
  process.exit(2);
}

const TICK_MS = 1;
const latencies: number[] = [];
let failed = 0;
const pending = new Set<Promise<void>>();
const started = performance.now();
let sent = 0;
while (performance.now() - started < seconds * 1000) {
  // Each request is due at its own time; latency counts from then, so a late send counts too.
  const due = Math.floor(((performance.now() - started) * rate) / 1000);
  while (sent < due) {
    const dueAt = started + (sent * 1000) / rate;
    sent++;
    const p = fetch(url)
      .then((r) => r.arrayBuffer())
      .then(
        () => void latencies.push(performance.now() - dueAt),
        () => void failed++,
      )
      .finally(() => pending.delete(p));
    pending.add(p);
  }
  await new Promise((r) => setTimeout(r, TICK_MS));
}
await Promise.all(pending);
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
console.log(JSON.stringify({ sent, answered: latencies.length, failed, p50: at(0.5), p99: at(0.99), max: at(1) }));
