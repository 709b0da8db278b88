// GTFS benchmark: import throughput against `psql \copy` of the same stop_times.txt (the floor, measured
// in the same run on the same server), a GTFS-Realtime TripUpdates snapshot of 5,000 trips (decode,
// store, index), and departure-board latency over HTTP, uncached and cached, with realtime merged.
//
//   bun scripts/gtfs/bench.ts [--size large|small] [--source folder|zip] [--requests 2000] [--rounds 1]
//                             [--json out.json]
//
// Starts a throwaway PostgreSQL and Redis (test/support/processes.ts) and the real service
// (`bun src/main.ts serve`) unless DATABASE_URL / REDIS_URL are given. The feed comes from
// scripts/gtfs/generate.ts (deterministic) and is cached under data/; `--source zip` imports it zipped
// by Info-ZIP's `zip` at its default level, as publishers ship feeds (the zip reader is then on the
// import's path too).
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import GtfsRealtimeBindings from "gtfs-realtime-bindings";
import pg from "pg";
import pino from "pino";
import { loadConfig } from "../../src/config/load";
import { openDatabase } from "../../src/db/database";
import { migrateToLatest } from "../../src/db/migrate";
import { activeFeed, hotQuery } from "../../src/modules/gtfs/api/active-feed";
import { type ImportSummary, importFeed } from "../../src/modules/gtfs/import/importer";
import { decodeFeed } from "../../src/modules/realtime/feed-message";
import { redisCoordinator } from "../../src/modules/realtime/redis-coordinator";
import { snapshotSigningKey } from "../../src/modules/realtime/snapshot-integrity";
import { staticSchedule } from "../../src/modules/realtime/static-schedule";
import { buildTripUpdatesIndex } from "../../src/modules/realtime/trip-updates";
import { startAppServer } from "../../test/support/app-server";
import { postgresBinDir, type ServerProcess, startPostgres, startRedis } from "../../test/support/processes";
import { generateFeed, SIZES } from "./generate";

const argv = process.argv.slice(2);
const arg = (flag: string, fallback: string) => {
  const i = argv.indexOf(flag);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const size = arg("--size", "large");
const requests = Math.min(4800, Number(arg("--requests", size === "large" ? "2000" : "300")));
const jsonOut = arg("--json", "");
const rounds = Math.max(1, Number(arg("--rounds", "1")));
const source = arg("--source", "folder");
if (source !== "folder" && source !== "zip") throw new Error(`unknown --source ${source} (folder, zip)`);
const options = SIZES[size];
if (!options) throw new Error(`unknown --size ${size}`);

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const log = (msg: string) => process.stderr.write(`${msg}\n`);

// 1. Feed (generated once per size; the generator is deterministic).
const feedDir = resolve(`data/gtfs-synthetic-${size}`);
const marker = join(feedDir, ".complete");
if (!existsSync(marker) || readFileSync(marker, "utf8") !== JSON.stringify(options)) {
  log(`generating ${size} feed in ${feedDir} …`);
  await generateFeed(feedDir, options);
  writeFileSync(marker, JSON.stringify(options));
}
const stopTimesFile = join(feedDir, "stop_times.txt");
let location = feedDir;
if (source === "zip") {
  location = `${feedDir}.zip`;
  if (!existsSync(location) || statSync(location).mtimeMs < statSync(marker).mtimeMs) {
    log(`zipping it into ${location} …`);
    rmSync(location, { force: true });
    const files = readdirSync(feedDir).filter((n) => n.endsWith(".txt"));
    execFileSync("zip", ["-q", "-X", location, ...files], { cwd: feedDir });
  }
}

// 2. Servers.
const started: ServerProcess[] = [];
let databaseUrl = process.env.DATABASE_URL;
let redisUrl = process.env.REDIS_URL;
if (!databaseUrl) {
  log("starting a throwaway PostgreSQL …");
  const server = await startPostgres();
  started.push(server);
  databaseUrl = server.url;
}
if (!redisUrl) {
  log("starting a throwaway Redis …");
  const server = await startRedis();
  started.push(server);
  redisUrl = server.url;
}

interface Results {
  feed: { size: string; source: string; stop_times: number; rows: number };
  copy_floor: { rows: number; seconds: number; rows_per_s: number };
  import_stop_times: { rows: number; seconds: number; rows_per_s: number; ratio: number };
  import_total: { rows: number; seconds: number; rows_per_s: number; ratio: number };
  phases: Record<string, number>;
  realtime: {
    trips: number;
    stop_time_updates: number;
    bytes: number;
    decode_ms: number;
    store_ms: number;
    index_first_ms: number;
    index_ms: number;
    poll_interval_s: number;
  };
  departures_uncached_ms: { p50: number; p99: number; n: number };
  departures_cached_ms: { p50: number; p99: number; n: number; with_realtime: number };
  departures_cached_during_snapshots_ms: { p50: number; p99: number; n: number };
  departures_cached_without_realtime_ms: { p50: number; p99: number; n: number };
}

/** Trips in the realtime snapshot, and how often the bench's realtime source changes. */
const RT_TRIPS = 5000;
const RT_POLL_SECONDS = 5;
/** Signs shared realtime snapshots and cached answers, as API_SECRET does in production. */
const BENCH_SECRET = "bench-secret-0123456789";

try {
  // 3–4. Floor and import, alternated for `--rounds` rounds (each round's ratios compare runs made
  // back to back; the median round is reported): psql \copy of the same CSV into an unindexed table
  // of the file's columns, and the importer in-process (the same function the CLI runs).
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const header = readFileSync(stopTimesFile, "utf8").slice(0, 500).split("\n")[0]!.trim().split(",");
  const psql = [join(postgresBinDir(), "psql"), "/usr/bin/psql"].find((p) => existsSync(p)) ?? "psql";
  const config = loadConfig({ env: { DATABASE_URL: databaseUrl, NODE_ENV: "test" }, file: "config.yaml" });
  const database = await openDatabase(config, pino({ level: "warn" }));
  await migrateToLatest(database.db);
  const floor = async (label: string) => {
    await admin.query("drop table if exists bench_copy_floor");
    await admin.query(`create table bench_copy_floor (${header.map((h) => `"${h}" text`).join(", ")})`);
    log(`${label}: psql \\copy stop_times.txt (floor) …`);
    const t = performance.now();
    execFileSync(
      psql,
      [databaseUrl, "-v", "ON_ERROR_STOP=1", "-qc", `\\copy bench_copy_floor from '${stopTimesFile}' csv header`],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    const seconds = (performance.now() - t) / 1000;
    const rows = Number((await admin.query("select count(*) as n from bench_copy_floor")).rows[0].n);
    await admin.query("drop table bench_copy_floor");
    return { seconds, rows };
  };
  // Each import is bracketed by floor runs (F I F I … F) and compared with their mean: on a shared
  // machine the floor itself drifts, and a drift during one round then falls on both sides of it.
  const floors = [await floor("before round 1")];
  const runs: { floorSeconds: number; floorRows: number; importSeconds: number; summary: ImportSummary }[] = [];
  for (let round = 1; round <= rounds; round++) {
    log(`round ${round}/${rounds}: importing …`);
    const t = performance.now();
    // Nothing is pruned inside the timed import (a real re-import drops the oldest version there too).
    const summary = await importFeed({
      location,
      database,
      connectionString: databaseUrl,
      keepVersions: rounds + 1,
    });
    const importSeconds = (performance.now() - t) / 1000;
    floors.push(await floor(`after round ${round}`));
    const [before, after] = floors.slice(-2) as [{ seconds: number; rows: number }, { seconds: number; rows: number }];
    runs.push({ floorSeconds: (before.seconds + after.seconds) / 2, floorRows: after.rows, importSeconds, summary });
  }

  // 4b. Realtime: a TripUpdates snapshot of RT_TRIPS weekday trips of this feed, every stop updated.
  const rtTrips = pickRealtimeTrips(feedDir, RT_TRIPS);
  log(`realtime: a TripUpdates snapshot of ${fmt(rtTrips.length)} trips …`);
  const rtSample = realtimeFeed(rtTrips, Math.floor(Date.now() / 1000));
  const decodeRuns: number[] = [];
  let decoded = await decodeFeed(rtSample.bytes);
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    decoded = await decodeFeed(rtSample.bytes);
    decodeRuns.push(performance.now() - t);
  }
  const store = redisCoordinator(
    // Signed as the service signs it (API_SECRET below): the HMAC is part of storing.
    {
      url: redisUrl,
      id: "bench",
      commandTimeoutMs: 5000,
      prefix: "bench:rt:",
      signingKey: snapshotSigningKey(BENCH_SECRET),
    },
    pino({ level: "silent" }),
  );
  const storeRuns: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await store.publish("trip_updates", { version: `bench-${i}`, fetchedAt: Date.now(), bytes: rtSample.bytes });
    storeRuns.push(performance.now() - t);
  }
  await store.close();
  const hot = hotQuery(database);
  const schedule = staticSchedule(hot, await activeFeed(hot));
  let t0 = performance.now();
  const firstIndex = await buildTripUpdatesIndex(decoded, schedule, Math.floor(Date.now() / 1000));
  const indexFirstMs = performance.now() - t0;
  const indexRuns: number[] = [];
  for (let i = 0; i < 5; i++) {
    t0 = performance.now();
    await buildTripUpdatesIndex(decoded, schedule, Math.floor(Date.now() / 1000));
    indexRuns.push(performance.now() - t0);
  }
  if (firstIndex.counts.matched !== rtTrips.length)
    throw new Error(`realtime: ${firstIndex.counts.matched} of ${rtTrips.length} trips matched the timetable`);
  const realtimeResults: Results["realtime"] = {
    trips: rtTrips.length,
    stop_time_updates: rtSample.stopTimeUpdates,
    bytes: rtSample.bytes.length,
    decode_ms: percentile(decodeRuns, 50),
    store_ms: percentile(storeRuns, 50),
    index_first_ms: indexFirstMs,
    index_ms: percentile(indexRuns, 50),
    poll_interval_s: RT_POLL_SECONDS,
  };
  await database.close();
  await admin.end();
  // The round whose whole-feed ratio is the median stands for the run (its phases are printed with it).
  const ratioOf = (r: (typeof runs)[number]) => r.summary.totalRows / r.importSeconds / (r.floorRows / r.floorSeconds);
  const { floorSeconds, floorRows, importSeconds, summary } = [...runs].sort((a, b) => ratioOf(a) - ratioOf(b))[
    Math.floor((runs.length - 1) / 2)
  ]!;
  const st = summary.files.find((f) => f.file === "stop_times.txt")!;
  for (const [i, r] of runs.entries())
    log(
      `round ${i + 1}: floor ${r.floorSeconds.toFixed(2)} s (mean of the runs around it), import ${r.importSeconds.toFixed(2)} s, whole-feed ratio ${ratioOf(r).toFixed(2)}`,
    );
  if (runs.length > 1) log("the median round is reported");

  // 5. HTTP latency against the real service, polling a local TripUpdates source that publishes a new
  // snapshot (fresh timestamp) every RT_POLL_SECONDS: merged answers are rebuilt at that pace.
  const rtSource = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/x-protobuf" });
    res.end(realtimeFeed(rtTrips, Math.floor(Date.now() / 1000)).bytes);
  });
  await new Promise<void>((done) => rtSource.listen(0, "127.0.0.1", done));
  const rtConfigDir = mkdtempSync(join(tmpdir(), "bench-rt-"));
  writeFileSync(join(rtConfigDir, "config.yaml"), `realtime:\n  poll_interval: ${RT_POLL_SECONDS}\n`);
  log("starting the service …");
  const apiKey = "bench-key-0123456789";
  const serverEnv: Record<string, string | undefined> = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    API_KEY: apiKey,
    API_SECRET: BENCH_SECRET,
    LOG_LEVEL: "warn",
    NODE_ENV: "production",
    CONFIG_FILE: join(rtConfigDir, "config.yaml"),
    GTFS_RT_TRIP_UPDATES_URL: `http://127.0.0.1:${(rtSource.address() as AddressInfo).port}/trip-updates`,
  };
  const server = await startAppServer({ env: serverEnv });
  try {
    const stopIds = pickStops(feedDir, 400);
    const headers = { "x-api-key": apiKey };
    const getFrom = (base: string) => async (path: string) => {
      const t0 = performance.now();
      const res = await fetch(`${base}${path}`, { headers });
      const body = await res.text();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
      return { ms, cache: res.headers.get("x-cache"), body };
    };
    const get = getFrom(server.url);
    // Weekday boards between 06:00 and 22:00 local; every (stop, at) distinct → all misses.
    // Every i < 4800 gives a distinct (stop, minute, second), so no request repeats another.
    const boardPath = (i: number, date = "2024-06-12") => {
      const stop = stopIds[i % stopIds.length]!;
      const minutes = 360 + ((i * 7919) % 960);
      const at = `${date}T${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}`;
      return `/v1/stops/${encodeURIComponent(stop)}/departures?at=${at}&window=60&limit=50`;
    };
    for (let i = 0; i < 50; i++) await get(boardPath(i, "2024-06-13")); // warm-up: connections, JIT, plans
    // The first snapshot is polled at start-up; boards merge it once it is indexed.
    for (let tries = 0; ; tries++) {
      const board = JSON.parse((await get(boardPath(0, "2024-06-13"))).body) as RealtimeBoard;
      if (board.data.realtime_sources.trip_updates.status === "current") break;
      if (tries > 600) throw new Error("the service did not load the realtime snapshot within 60 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    log(`departures uncached × ${requests} …`);
    const uncached: number[] = [];
    let departures = 0;
    for (let i = 0; i < requests; i++) {
      const r = await get(boardPath(i));
      if (r.cache !== "miss") throw new Error(`expected a cache miss for ${boardPath(i)}`);
      departures += (JSON.parse(r.body) as { data: { departures: unknown[] } }).data.departures.length;
      uncached.push(r.ms);
    }
    log(`  ${fmt(departures / requests, 1)} departures per board on average`);
    log(`departures cached × ${requests} …`);
    const cached: number[] = [];
    let withRealtime = 0;
    for (let i = 0; i < requests; i++) {
      const r = await get(boardPath(i % 200));
      if (r.cache !== "hit") throw new Error(`expected a cache hit for ${boardPath(i % 200)}`);
      cached.push(r.ms);
      if ((JSON.parse(r.body) as RealtimeBoard).data.departures.some((d) => d.realtime !== null)) withRealtime++;
    }

    // The same cached boards for three snapshot periods: each new snapshot is decoded and indexed in
    // the serving process, and the boards asked meanwhile wait for it; this is the tail that shows it.
    log(`departures cached for ${3 * RT_POLL_SECONDS} s while snapshots arrive …`);
    const during: number[] = [];
    const until = performance.now() + 3 * RT_POLL_SECONDS * 1000;
    for (let i = 0; performance.now() < until; i++) during.push((await get(boardPath(i % 200))).ms);

    // The same cached boards from a server of the same build without a realtime source, for comparison
    // on the same machine at the same time (a shared machine's load moves every figure).
    log(`departures cached × ${requests} without a realtime source (the same boards) …`);
    const plain = await startAppServer({
      env: { ...serverEnv, GTFS_RT_TRIP_UPDATES_URL: undefined, CONFIG_FILE: undefined },
    });
    const baseline: number[] = [];
    try {
      const getPlain = getFrom(plain.url);
      for (let i = 0; i < 200; i++) await getPlain(boardPath(i)); // warm-up, and its in-process LRU
      for (let i = 0; i < requests; i++) {
        const r = await getPlain(boardPath(i % 200));
        if (r.cache !== "hit") throw new Error(`expected a cache hit for ${boardPath(i % 200)}`);
        baseline.push(r.ms);
      }
    } finally {
      await plain.stop();
    }

    const results: Results = {
      feed: { size, source, stop_times: st.rows, rows: summary.totalRows },
      copy_floor: { rows: floorRows, seconds: floorSeconds, rows_per_s: floorRows / floorSeconds },
      import_stop_times: {
        rows: st.rows,
        seconds: st.seconds,
        rows_per_s: st.rows / st.seconds,
        ratio: st.rows / st.seconds / (floorRows / floorSeconds),
      },
      import_total: {
        rows: summary.totalRows,
        seconds: importSeconds,
        rows_per_s: summary.totalRows / importSeconds,
        ratio: summary.totalRows / importSeconds / (floorRows / floorSeconds),
      },
      phases: Object.fromEntries(summary.phases.map((p) => [p.name, p.seconds])),
      departures_uncached_ms: { p50: percentile(uncached, 50), p99: percentile(uncached, 99), n: uncached.length },
      realtime: realtimeResults,
      departures_cached_ms: {
        p50: percentile(cached, 50),
        p99: percentile(cached, 99),
        n: cached.length,
        with_realtime: withRealtime,
      },
      departures_cached_during_snapshots_ms: {
        p50: percentile(during, 50),
        p99: percentile(during, 99),
        n: during.length,
      },
      departures_cached_without_realtime_ms: {
        p50: percentile(baseline, 50),
        p99: percentile(baseline, 99),
        n: baseline.length,
      },
    };
    printTable(results);
    if (jsonOut) {
      mkdirSync(resolve(jsonOut, ".."), { recursive: true });
      writeFileSync(jsonOut, JSON.stringify(results, null, 2));
    }
  } finally {
    await server.stop();
    rtSource.close();
    rmSync(rtConfigDir, { recursive: true, force: true });
  }
} finally {
  for (const s of started) await s.destroy();
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Deterministic sample of boarding stops and stations from stops.txt. */
function pickStops(dir: string, n: number): string[] {
  const lines = readFileSync(join(dir, "stops.txt"), "utf8").trim().split("\n").slice(1);
  const ids = lines.map((l) => l.split(",")[0]!);
  const step = Math.max(1, Math.floor(ids.length / n));
  return ids.filter((_, i) => i % step === 0).slice(0, n);
}

interface RealtimeBoard {
  data: { realtime_sources: { trip_updates: { status: string } }; departures: { realtime: unknown }[] };
}

/** Weekday, timetabled trips spread over every route (frequency-based ones are left out). */
function pickRealtimeTrips(dir: string, n: number): { tripId: string; stops: number }[] {
  const frequencyTrips = new Set(
    readFileSync(join(dir, "frequencies.txt"), "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(",")[0]!),
  );
  const stopsPerTrip = new Map<string, number>();
  const text = readFileSync(join(dir, "stop_times.txt"), "utf8");
  let at = text.indexOf("\n") + 1;
  while (at < text.length) {
    const end = text.indexOf("\n", at);
    const comma = text.indexOf(",", at);
    const trip = text.slice(at, comma);
    stopsPerTrip.set(trip, (stopsPerTrip.get(trip) ?? 0) + 1);
    at = end < 0 ? text.length : end + 1;
  }
  const weekday = [...stopsPerTrip.keys()].filter((t) => t.includes("-WD-") && !frequencyTrips.has(t));
  const step = Math.max(1, Math.floor(weekday.length / n));
  return weekday
    .filter((_, i) => i % step === 0)
    .slice(0, n)
    .map((tripId) => ({ tripId, stops: stopsPerTrip.get(tripId)! }));
}

/** A TripUpdates feed for 2024-06-12 with an update for every stop of every trip, as agencies send. */
function realtimeFeed(trips: { tripId: string; stops: number }[], timestamp: number) {
  const { transit_realtime: rt } = GtfsRealtimeBindings;
  let stopTimeUpdates = 0;
  const entity = trips.map(({ tripId, stops }, i) => {
    const delay = ((i * 37) % 420) - 60;
    const stopTimeUpdate = [];
    for (let seq = 1; seq <= stops; seq++) {
      stopTimeUpdate.push({ stopSequence: seq, arrival: { delay }, departure: { delay } });
      stopTimeUpdates++;
    }
    return { id: tripId, tripUpdate: { trip: { tripId, startDate: "20240612" }, timestamp, stopTimeUpdate } };
  });
  const message = rt.FeedMessage.fromObject({
    header: { gtfsRealtimeVersion: "2.0", incrementality: "FULL_DATASET", timestamp },
    entity,
  });
  return { bytes: rt.FeedMessage.encode(message).finish(), stopTimeUpdates };
}

function printTable(r: Results): void {
  const row = (label: string, rows: number, secs: number, rate: number, ratio: string) =>
    `${label.padEnd(34)} ${fmt(rows).padStart(11)} ${fmt(secs, 2).padStart(9)} ${fmt(rate).padStart(11)} ${ratio.padStart(8)}`;
  const lines = [
    "",
    `GTFS benchmark — synthetic feed "${r.feed.size}" (from a ${r.feed.source === "zip" ? ".zip" : "folder"}): ${fmt(r.feed.stop_times)} stop_times, ${fmt(r.feed.rows)} rows in all`,
    "",
    `${"".padEnd(34)} ${"rows".padStart(11)} ${"seconds".padStart(9)} ${"rows/s".padStart(11)} ${"× floor".padStart(8)}`,
    row("psql \\copy stop_times.txt (floor)", r.copy_floor.rows, r.copy_floor.seconds, r.copy_floor.rows_per_s, "1.00"),
    row(
      "import: stop_times.txt",
      r.import_stop_times.rows,
      r.import_stop_times.seconds,
      r.import_stop_times.rows_per_s,
      r.import_stop_times.ratio.toFixed(2),
    ),
    row(
      "import: whole feed, end-to-end",
      r.import_total.rows,
      r.import_total.seconds,
      r.import_total.rows_per_s,
      r.import_total.ratio.toFixed(2),
    ),
    `  (end-to-end includes ${Object.entries(r.phases)
      .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
      .join(", ")}; target ≥ 0.60× floor)`,
    "",
    `${"departure board over HTTP".padEnd(34)} ${"p50 ms".padStart(11)} ${"p99 ms".padStart(9)} ${"requests".padStart(11)} ${"target".padStart(8)}`,
    `${"uncached (PostgreSQL)".padEnd(34)} ${r.departures_uncached_ms.p50.toFixed(2).padStart(11)} ${r.departures_uncached_ms.p99.toFixed(2).padStart(9)} ${fmt(r.departures_uncached_ms.n).padStart(11)} ${"≤ 15".padStart(8)}`,
    `${"cached, realtime merged".padEnd(34)} ${r.departures_cached_ms.p50.toFixed(2).padStart(11)} ${r.departures_cached_ms.p99.toFixed(2).padStart(9)} ${fmt(r.departures_cached_ms.n).padStart(11)} ${"≤ 3".padStart(8)}`,
    `${`cached, over ${r.realtime.poll_interval_s * 3} s of new snapshots`.padEnd(34)} ${r.departures_cached_during_snapshots_ms.p50.toFixed(2).padStart(11)} ${r.departures_cached_during_snapshots_ms.p99.toFixed(2).padStart(9)} ${fmt(r.departures_cached_during_snapshots_ms.n).padStart(11)} ${"≤ 3".padStart(8)}`,
    `${"cached, no realtime source".padEnd(34)} ${r.departures_cached_without_realtime_ms.p50.toFixed(2).padStart(11)} ${r.departures_cached_without_realtime_ms.p99.toFixed(2).padStart(9)} ${fmt(r.departures_cached_without_realtime_ms.n).padStart(11)} ${"≤ 3".padStart(8)}`,
    `  (in-process LRU + Redis; ${fmt(r.departures_cached_ms.with_realtime)} of ${fmt(r.departures_cached_ms.n)} boards carried realtime; a new snapshot every ${r.realtime.poll_interval_s} s)`,
    "",
    `GTFS-Realtime TripUpdates: ${fmt(r.realtime.trips)} trips, ${fmt(r.realtime.stop_time_updates)} stop time updates, ${fmt(r.realtime.bytes / 1024)} KiB`,
    `${"  decode (protobuf)".padEnd(34)} ${r.realtime.decode_ms.toFixed(1).padStart(11)} ms`,
    `${"  store in Redis (the poller)".padEnd(34)} ${r.realtime.store_ms.toFixed(1).padStart(11)} ms`,
    `${"  index, first snapshot".padEnd(34)} ${r.realtime.index_first_ms.toFixed(1).padStart(11)} ms  (reads the trips' stop times once)`,
    `${"  index, later snapshots".padEnd(34)} ${r.realtime.index_ms.toFixed(1).padStart(11)} ms  (per replica; poll interval 30 s)`,
    "",
  ];
  process.stdout.write(lines.join("\n"));
}
