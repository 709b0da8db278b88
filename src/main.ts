#!/usr/bin/env bun
import { dlopen, FFIType } from "bun:ffi";
// The CLI entrypoint (Bun). Bun-only APIs — Bun.serve, bun:ffi and signal handling — live here;
// everything it wires together is runtime-portable.
//
// On the embedded database a command runs in a worker thread while this (main) thread only relays
// signals. PGlite runs PostgreSQL as WASM on the thread that calls it, so a long or stuck call blocks
// that thread's event loop, where a JS signal handler never gets to run; and an installed handler
// replaces the default action that would have ended the process, so SIGTERM was simply ignored. The
// main thread stays free: it forwards SIGTERM/SIGINT to the command and ends the process itself if the
// command has not stopped by the deadline. It also takes the data directory's lock (one owner at a time).
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { createApp } from "./app";
import { COMMANDS, parseArgs, usage } from "./cli/args";
import { runMigrate } from "./cli/migrate-command";
import { ConfigError, databaseTarget } from "./config/load";
import type { Config } from "./config/schema";
import { lockDataDir, type TryLock } from "./db/data-dir-lock";
import { type OpenOptions, withTimeout } from "./db/database";
import { createFetchHandler } from "./http/fetch-handler";
import { Lifecycle } from "./lifecycle";
import { flushLogger } from "./logging/logger";
import { watchServedFeed } from "./modules/gtfs/feed-metrics";
import { runImport } from "./modules/gtfs/import/cli";
import { realtimeMetricsStats } from "./modules/realtime/metrics-stats";
import { createRealtimeService } from "./modules/realtime/service";
import { createMetricsHandler } from "./observability/metrics";
import { loadRuntimeConfig, openRuntime, type Runtime } from "./runtime";

type StopSignal = "SIGTERM" | "SIGINT";
const EXIT_CODE: Record<StopSignal, number> = { SIGTERM: 143, SIGINT: 130 };
/** How long a one-shot command may take to stop after a signal before the process is ended. */
const ONE_SHOT_GRACE_MS = 4000;
/** Beyond the drain deadline, how long closing connections may take before the process is ended. */
const CLOSE_GRACE_MS = 5000;
/** After the drain, how long closing the pools may take before exiting anyway. */
const CLOSE_AFTER_DRAIN_MS = 1000;

/** Stop signals as the command sees them: the process's own, or relayed by the main thread. */
type OnStop = (handler: (signal: StopSignal) => void) => void;

const processSignals: OnStop = (handler) => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => handler(signal));
};

const relayedSignals: OnStop = (handler) => {
  parentPort?.on("message", (message: { signal?: StopSignal }) => {
    if (message?.signal) handler(message.signal);
  });
  parentPort?.unref();
};

/** What the main thread hands a worker. */
interface WorkerInput {
  argv: string[];
  open: OpenOptions;
}

async function serve(config: Config, flags: Set<string>, onStop: OnStop, open: OpenOptions): Promise<void> {
  const runtime = await openRuntime(config, { open });
  const { logger } = runtime;
  // The embedded database belongs to this process, so it is always brought up to date.
  if (flags.has("--migrate") || config.database.migrate_on_start || runtime.database.kind === "embedded")
    await runMigrate(runtime);

  const lifecycle = new Lifecycle();
  // Realtime is polled in the background: a dead source degrades answers, it never delays serving.
  const realtime = createRealtimeService(runtime);
  void realtime.start().catch((err: Error) => logger.warn({ err: { message: err.message } }, "realtime: start failed"));
  const { metrics, tracing } = runtime;
  metrics.watch.lifecycle(lifecycle);
  watchServedFeed(metrics, runtime.database, config);
  if (realtime.enabled) metrics.watch.realtime(realtimeMetricsStats(realtime));
  const app = createApp({ ...runtime, lifecycle, realtime });
  const fetch = createFetchHandler(app, { config, logger, lifecycle, metrics, tracing });
  const server = Bun.serve({
    hostname: config.api.host,
    port: config.api.port,
    fetch,
    // Declared bodies over the limit get a JSON 413 from the handler; this stops undeclared (chunked) ones.
    maxRequestBodySize: config.api.body_limit * 2,
    idleTimeout: Math.min(255, Math.ceil(config.api.timeout) + 5),
    // Bun's development mode (its default outside NODE_ENV=production) serves error pages; we never want them.
    development: false,
  });
  logger.info({ host: config.api.host, port: server.port, version: config.app.version }, "listening");
  // A second listener for Prometheus: the Service, the load balancer and the Ingress only know the API port.
  // It runs beside the API, in the thread that serves it (the worker on the embedded database): the
  // registry and everything it reads live there, and a scrape that times out while a database call
  // blocks that thread is what the alerts should see. The main thread only relays signals.
  const metricsServer =
    config.metrics.port > 0
      ? Bun.serve({
          hostname: config.metrics.host,
          port: config.metrics.port,
          fetch: createMetricsHandler(metrics),
          development: false,
        })
      : undefined;
  if (metricsServer) logger.info({ host: config.metrics.host, port: metricsServer.port }, "metrics listening");
  if (tracing.enabled) logger.info("tracing: spans exported over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT)");

  const shutdown = async (signal: string) => {
    if (lifecycle.shuttingDown) return;
    lifecycle.shuttingDown = true; // /ready answers 503 from now on
    logger.info({ signal, in_flight: lifecycle.inFlight }, "shutting down: no new connections, draining");
    // Closing connections after the drain normally takes milliseconds; if it hangs, stop anyway.
    setTimeout(
      () => {
        logger.error("shutdown did not finish in time, exiting");
        flushLogger(logger);
        process.exit(1);
      },
      config.api.shutdown_timeout * 1000 + CLOSE_GRACE_MS,
    ).unref();
    const stopped = server.stop(false);
    const drained = await lifecycle.drained(config.api.shutdown_timeout * 1000);
    if (!drained) {
      logger.warn({ in_flight: lifecycle.inFlight }, "drain deadline passed, closing remaining connections");
      server.stop(true);
    }
    await stopped;
    // Scrapable until the last request drained: the shutdown itself shows in the metrics.
    await metricsServer?.stop(true);
    await realtime.stop();
    // A request cut by a deadline (its own api.timeout answered 504, or the drain deadline) may still hold
    // a database connection whose query runs on, up to the statement timeout, and closing the pool waits
    // for every connection: give it a moment, not forever.
    await withTimeout(runtime.close(), CLOSE_AFTER_DRAIN_MS, "closing connections").catch((err: Error) =>
      logger.warn({ err: { message: err.message } }, "exiting with connections still busy"),
    );
    logger.info("stopped");
    flushLogger(logger);
    process.exit(0);
  };
  onStop((signal) => void shutdown(signal));
}

async function runOnce(
  config: Config,
  job: (runtime: Runtime) => Promise<void>,
  onStop: OnStop,
  open: OpenOptions,
): Promise<void> {
  const runtime = await openRuntime(config, { open });
  // One-shot jobs (a Kubernetes Job, `docker stop`) must stop on SIGTERM rather than wait to be killed.
  // Exiting drops the database connection, so an open migration or import transaction rolls back.
  onStop((signal) => {
    runtime.logger.warn({ signal }, "interrupted: the open transaction rolls back, nothing is changed");
    flushLogger(runtime.logger);
    process.exit(EXIT_CODE[signal]);
  });
  try {
    await job(runtime);
  } finally {
    await runtime.close();
  }
}

async function main(argv: string[]): Promise<number | undefined> {
  const args = parseArgs(argv);
  if (args.flags.has("--help") || args.command === "help") {
    process.stdout.write(usage());
    return 0;
  }
  const config = loadRuntimeConfig(process.env, args.command === "serve");
  if (!COMMANDS.some((c) => c.name === args.command)) {
    process.stderr.write(`unknown command: ${args.command}\n\n${usage()}`);
    return 2;
  }
  const target = databaseTarget(config);
  if (isMainThread && target.kind === "embedded") return runInWorker(argv, args.command, config, target.dir);
  const onStop = isMainThread ? processSignals : relayedSignals;
  const open = isMainThread ? {} : (workerData as WorkerInput).open;
  switch (args.command) {
    case "serve":
      await serve(config, args.flags, onStop, open);
      return undefined; // keeps running
    case "migrate":
      await runOnce(config, runMigrate, onStop, open);
      return 0;
    default:
      await runOnce(
        config,
        async (runtime) => {
          // The embedded database may be brand new: give it the schema first (servers use `migrate`).
          if (runtime.database.kind === "embedded") await runMigrate(runtime);
          await runImport(runtime, args.rest, args.flags);
        },
        onStop,
        open,
      );
      return 0;
  }
}

/**
 * Runs the command on the embedded database: takes the directory's lock (refusing at once, naming the
 * owner, when another process holds it), then runs the command in a worker and relays stop signals.
 * Resolves with the command's exit code.
 */
function runInWorker(argv: string[], command: string, config: Config, dir: string): Promise<number> {
  const lock = dir === ":memory:" ? undefined : lockDataDir(dir, { command, tryLock: osFileLock() });
  const input: WorkerInput = { argv, open: { checkEmbedded: lock?.needsCheck === true } };
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: input });
  return new Promise((resolve) => {
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const relay = (signal: StopSignal) => {
      // A second signal (a second Ctrl-C) does not wait for the first one's deadline.
      if (deadline) process.exit(EXIT_CODE[signal]);
      worker.postMessage({ signal });
      const grace = command === "serve" ? config.api.shutdown_timeout * 1000 + CLOSE_GRACE_MS : ONE_SHOT_GRACE_MS;
      deadline = setTimeout(() => {
        process.stderr.write(
          `error: still running ${grace / 1000} s after ${signal} (a blocked database call): stopping now\n`,
        );
        process.exit(EXIT_CODE[signal]);
      }, grace);
    };
    processSignals(relay);
    worker.on("error", (err) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      resolve(1);
    });
    worker.on("exit", (code) => {
      clearTimeout(deadline);
      resolve(code);
    });
  });
}

/** flock(2) through libc: an exclusive lock the kernel drops when the process ends in any way. */
function osFileLock(): TryLock | undefined {
  const LOCK_EX = 2;
  const LOCK_NB = 4; // same values on Linux and macOS
  const names = process.platform === "darwin" ? ["libc.dylib"] : ["libc.so.6", "libc.musl-x86_64.so.1", "libc.so"];
  for (const name of names) {
    try {
      const { symbols } = dlopen(name, { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
      return (fd) => symbols.flock(fd, LOCK_EX | LOCK_NB) === 0;
    } catch {
      // not this platform's name; try the next
    }
  }
  return undefined;
}

main(isMainThread ? Bun.argv.slice(2) : (workerData as WorkerInput).argv).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err: unknown) => {
    // One line, no stack: configuration and migration errors are meant for people.
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: ${message}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);
