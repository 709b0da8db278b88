// Opens what the application depends on, in one place for every CLI command.

import packageJson from "../package.json" with { type: "json" };
import type { Cache } from "./cache/cache";
import { openCache } from "./cache/open-cache";
import { loadConfig } from "./config/load";
import type { Config } from "./config/schema";
import { type Database, type OpenOptions, openDatabase } from "./db/database";
import { createLogger, flushLogger, type Logger } from "./logging/logger";

export interface Runtime {
  config: Config;
  logger: Logger;
  database: Database;
  cache: Cache;
  close(): Promise<void>;
}

export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env, serving = true): Config {
  return loadConfig({ env, packageVersion: packageJson.version, serving });
}

export async function openRuntime(
  config: Config,
  logger: Logger = createLogger(config),
  options: OpenOptions = {},
): Promise<Runtime> {
  if (config.unknown_keys?.length)
    logger.warn(
      { keys: config.unknown_keys },
      "config: unknown keys ignored (a typo, or a key of a newer release after a rollback)",
    );
  const database = await openDatabase(config, logger, options);
  const cache = openCache(config, logger);
  return {
    config,
    logger,
    database,
    cache,
    async close() {
      await Promise.allSettled([database.close(), cache.close()]);
      flushLogger(logger);
    },
  };
}
