#!/usr/bin/env bun
// The CLI entrypoint (Bun). Bun-only APIs — Bun.serve and signal handling — live here; everything it
// wires together is runtime-portable.
import { createApp } from "./app";
import { parseArgs, usage } from "./cli/args";
import { runMigrate } from "./cli/migrate-command";
import { ConfigError } from "./config/load";
import type { Config } from "./config/schema";
import { createFetchHandler } from "./http/fetch-handler";
import { Lifecycle } from "./lifecycle";
import { flushLogger } from "./logging/logger";
import { runImport } from "./modules/gtfs/import/cli";
import { loadRuntimeConfig, openRuntime, type Runtime } from "./runtime";

async function serve(config: Config, flags: Set<string>): Promise<void> {
  const runtime = await openRuntime(config);
  const { logger } = runtime;
  // The embedded database belongs to this process, so it is always brought up to date.
  if (flags.has("--migrate") || config.database.migrate_on_start || runtime.database.kind === "embedded")
    await runMigrate(runtime);

  const lifecycle = new Lifecycle();
  const app = createApp({ ...runtime, lifecycle });
  const fetch = createFetchHandler(app, { config, logger, lifecycle });
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

  const shutdown = async (signal: string) => {
    if (lifecycle.shuttingDown) return;
    lifecycle.shuttingDown = true; // /ready answers 503 from now on
    logger.info({ signal, in_flight: lifecycle.inFlight }, "shutting down: no new connections, draining");
    const stopped = server.stop(false);
    const drained = await lifecycle.drained(config.api.shutdown_timeout * 1000);
    if (!drained) {
      logger.warn({ in_flight: lifecycle.inFlight }, "drain deadline passed, closing remaining connections");
      server.stop(true);
    }
    await stopped;
    await runtime.close();
    logger.info("stopped");
    flushLogger(logger);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

async function runOnce(config: Config, job: (runtime: Runtime) => Promise<void>): Promise<void> {
  const runtime = await openRuntime(config);
  // One-shot jobs (a Kubernetes Job, `docker stop`) must stop on SIGTERM rather than wait to be killed.
  // Exiting drops the database connection, so an open migration or import transaction rolls back.
  for (const signal of ["SIGTERM", "SIGINT"] as const)
    process.once(signal, () => {
      runtime.logger.warn({ signal }, "interrupted: the open transaction rolls back, nothing is changed");
      flushLogger(runtime.logger);
      process.exit(signal === "SIGTERM" ? 143 : 130);
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
  switch (args.command) {
    case "serve":
      await serve(config, args.flags);
      return undefined; // keeps running
    case "migrate":
      await runOnce(config, runMigrate);
      return 0;
    case "import":
      await runOnce(config, async (runtime) => {
        // The embedded database may be brand new: give it the schema first (servers use `migrate`).
        if (runtime.database.kind === "embedded") await runMigrate(runtime);
        await runImport(runtime, args.rest, args.flags);
      });
      return 0;
    default:
      process.stderr.write(`unknown command: ${args.command}\n\n${usage()}`);
      return 2;
  }
}

main(Bun.argv.slice(2)).then(
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
