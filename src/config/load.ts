// Builds the configuration: defaults ← config file ← environment, then validates it. Errors name the
// key and the problem in one line and never echo a secret.
import { readFileSync } from "node:fs";
import { Value } from "@sinclair/typebox/value";
import { parse as parseYaml } from "yaml";
import { DEFAULT_KEY_NAME, duplicates, type NamedKey, parseKeyList } from "./api-keys";
import { corsCredentialsProblems, corsOrigins } from "./cors-origins";
import { describeRule } from "./rules";
import { type Config, ConfigSchema } from "./schema";

export interface ConfigProblem {
  /** The environment variable or file key to fix. */
  key: string;
  /** What it must be (never the value: it may be a secret). */
  problem: string;
}

/** Every problem found at once, on one line: fixing them one start-up at a time wastes a deploy each. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(key: string | ConfigProblem[], problem = "") {
    const problems = typeof key === "string" ? [{ key, problem }] : key;
    super(`invalid configuration: ${problems.map((p) => `${p.key}: ${p.problem}`).join("; ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
  /** The first key named (most errors name one). */
  get key(): string {
    return this.problems[0]?.key ?? "";
  }
}

type Env = Record<string, string | undefined>;

export interface LoadConfigOptions {
  env?: Env;
  /** Explicit file path; otherwise CONFIG_FILE, otherwise ./config.yaml when present. */
  file?: string;
  /** Defaults for app.version when neither APP_VERSION nor the file sets one. */
  packageVersion?: string;
  /** The HTTP API will be served (the API key is required in production); false for one-shot jobs. */
  serving?: boolean;
}

const DEFAULTS = {
  app: {
    name: "transportation-api",
    version: null,
    debug: false,
    log_level: "info",
  },
  // shutdown_timeout: api.timeout + SHUTDOWN_MARGIN_SECONDS unless set (see loadConfig).
  api: {
    host: "0.0.0.0",
    port: 8000,
    timeout: 30,
    body_limit: 1_048_576,
    rate_limit: 0,
    compression: true,
    compression_min_bytes: 1024,
    // cors_origins: none, except "*" in development (see loadConfig).
    cors_credentials: false,
    cors_max_age: 600,
  },
  database: {
    host: null,
    port: 5432,
    name: "transportation_db",
    pool_size: 10,
    max_overflow: 20,
    max_connections: 100,
    transaction_pooling: false,
    statement_timeout: 10,
    connect_timeout: 2,
    data_dir: "./data",
    migrate_on_start: false,
  },
  redis: {
    host: null,
    port: 6379,
    db: 0,
    max_connections: 100,
    command_timeout: 0.5,
    memory_max_entries: 10_000,
    required: false,
  },
  gtfs: { keep_versions: 2, max_feed_age: 48 },
  realtime: { poll_interval: 30, timeout: 10, max_age: 300, backoff_max: 300 },
  // Its own port, so /metrics is never reachable through the Service, the load balancer or the Ingress.
  metrics: { host: "0.0.0.0", port: 9464, pushgateway: null, instance: null },
} as const;

/** Keys a config file may not set, with the environment variable that does. */
const ENV_ONLY: Partial<Record<keyof typeof DEFAULTS, Record<string, string>>> = {
  api: { api_key: "API_KEY", api_keys: "API_KEYS", api_secret: "API_SECRET" },
  database: { url: "DATABASE_URL", password: "DATABASE_URL" },
  redis: { url: "REDIS_URL", password: "REDIS_URL" },
  gtfs: { feed_url: "GTFS_FEED_URL", feed_headers: "GTFS_FEED_HEADERS" },
  realtime: {
    trip_updates_url: "GTFS_RT_TRIP_UPDATES_URL",
    alerts_url: "GTFS_RT_ALERTS_URL",
    vehicle_positions_url: "GTFS_RT_VEHICLE_POSITIONS_URL",
    headers: "GTFS_RT_HEADERS",
  },
  metrics: { pushgateway: "PUSHGATEWAY_URL" },
};

/**
 * The shutdown drain lasts the longest a request may run plus this: a request that started just before
 * SIGTERM still finishes, however long it may take under api.timeout.
 */
export const SHUTDOWN_MARGIN_SECONDS = 5;

const LOG_LEVEL_ALIASES: Record<string, string> = { warning: "warn", critical: "fatal", notset: "trace" };

function readConfigFile(path: string, required: boolean): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!required && code === "ENOENT") return {};
    throw new ConfigError("CONFIG_FILE", `cannot read ${path} (${code ?? "error"})`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new ConfigError("CONFIG_FILE", `${path}${line ? ` line ${line}` : ""} is not valid YAML`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc))
    throw new ConfigError("CONFIG_FILE", `${path} must hold a mapping`);
  return doc as Record<string, unknown>;
}

function section(doc: Record<string, unknown>, name: string, problems: ConfigProblem[]): Record<string, unknown> {
  const value = doc[name];
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    problems.push({ key: name, problem: "must be a mapping" });
    return {};
  }
  return value as Record<string, unknown>;
}

/** Keeps only keys that are set: a null in the file means "use the default". */
function defined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined && v !== null));
}

function envNumber(env: Env, name: string, problems: ConfigProblem[]): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw.trim())) {
    problems.push({ key: name, problem: "must be a whole number" });
    return undefined;
  }
  return Number(raw);
}

/**
 * Request headers from a JSON object in the environment (`{"x-api-key": "…"}`): agencies hand out keys
 * as headers, and a key belongs with the other secrets, not in the file. Values are never echoed.
 */
function envHeaders(env: Env, name: string, problems: ConfigProblem[]): Record<string, string> {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return {};
  const shape = 'must be a JSON object of header names and values, e.g. {"x-api-key":"…"}';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push({ key: name, problem: shape });
    return {};
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    problems.push({ key: name, problem: shape });
    return {};
  }
  const headers: Record<string, string> = {};
  for (const [header, value] of Object.entries(parsed)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header))
      problems.push({ key: name, problem: `${JSON.stringify(header)} is not a header name` });
    else if (typeof value !== "string")
      problems.push({ key: name, problem: `the value of ${header} must be a string` });
    else headers[header] = value;
  }
  return headers;
}

function checkUrl(key: string, value: unknown, protocols: string[]): ConfigProblem | undefined {
  if (typeof value !== "string") return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { key, problem: `must be a URL (${protocols.join(" or ")})` };
  }
  if (!protocols.includes(url.protocol)) return { key, problem: `must use ${protocols.join(" or ")}` };
  return undefined;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const explicit = options.file ?? env.CONFIG_FILE;
  const doc = readConfigFile(explicit ?? "config.yaml", explicit !== undefined);
  // Unknown sections and keys are left out and reported, not refused. A rollback runs the previous
  // release against the current ConfigMap, which may carry keys added since: refusing them would
  // stop the very pods the rollback brings back. (Typos show up in the start-up warning.)
  const unknownKeys = Object.keys(doc).filter((key) => !(key in DEFAULTS));
  const problems: ConfigProblem[] = [];
  const known = (name: keyof typeof DEFAULTS) => {
    const values = section(doc, name, problems);
    // Secrets and URLs come from the environment only. One written in the file is not a key of a newer
    // release but a mistake that would otherwise run on the defaults (an embedded database, no auth).
    for (const [key, variable] of Object.entries(ENV_ONLY[name] ?? {}))
      if (key in values)
        problems.push({ key: `${name}.${key}`, problem: `is read from ${variable} only, not from the file` });
    const keys = Object.keys(DEFAULTS[name]);
    if (name === "app") keys.push("version", "log_file");
    if (name === "api") keys.push("shutdown_timeout", "api_keys_file", "cors_origins");
    for (const key of Object.keys(values)) if (!keys.includes(key)) unknownKeys.push(`${name}.${key}`);
    return Object.fromEntries(Object.entries(values).filter(([key]) => keys.includes(key)));
  };
  const file = {
    app: known("app"),
    api: known("api"),
    database: known("database"),
    redis: known("redis"),
    gtfs: known("gtfs"),
    realtime: known("realtime"),
    metrics: known("metrics"),
  };

  const nodeEnv = env.NODE_ENV === "production" || env.NODE_ENV === "test" ? env.NODE_ENV : "development";
  const rawLevel = String(env.LOG_LEVEL ?? file.app.log_level ?? DEFAULTS.app.log_level).toLowerCase();
  const merged = {
    env: nodeEnv,
    unknown_keys: unknownKeys,
    app: {
      ...DEFAULTS.app,
      ...defined(file.app),
      version: env.APP_VERSION || (file.app.version ?? options.packageVersion ?? "unknown"),
      commit: env.GIT_COMMIT || "unknown",
      build_time: env.BUILD_TIME || "unknown",
      log_level: LOG_LEVEL_ALIASES[rawLevel] ?? rawLevel,
      log_file: env.LOG_FILE || (file.app.log_file ?? null),
    },
    api: {
      ...DEFAULTS.api,
      ...defined(file.api),
      ...defined({ port: envNumber(env, "PORT", problems), host: env.HOST || undefined }),
      api_key: env.API_KEY || null,
      api_keys: [] as NamedKey[],
      api_keys_file: env.API_KEYS_FILE || ((file.api.api_keys_file as string | undefined) ?? null),
      api_secret: env.API_SECRET || null,
      cors_origins: corsOrigins(env.CORS_ORIGINS, file.api.cors_origins, nodeEnv, problems),
    },
    database: {
      ...DEFAULTS.database,
      ...defined(file.database),
      url: env.DATABASE_URL || null,
      ...defined({ data_dir: env.DATA_DIR || undefined }),
    },
    redis: { ...DEFAULTS.redis, ...defined(file.redis), url: env.REDIS_URL || null },
    gtfs: {
      ...DEFAULTS.gtfs,
      ...defined(file.gtfs),
      feed_url: env.GTFS_FEED_URL || null,
      feed_headers: envHeaders(env, "GTFS_FEED_HEADERS", problems),
    },
    realtime: {
      ...DEFAULTS.realtime,
      ...defined(file.realtime),
      trip_updates_url: env.GTFS_RT_TRIP_UPDATES_URL || null,
      alerts_url: env.GTFS_RT_ALERTS_URL || null,
      vehicle_positions_url: env.GTFS_RT_VEHICLE_POSITIONS_URL || null,
      headers: envHeaders(env, "GTFS_RT_HEADERS", problems),
    },
    metrics: {
      ...DEFAULTS.metrics,
      ...defined(file.metrics),
      ...defined({
        port: envNumber(env, "METRICS_PORT", problems),
        pushgateway: env.PUSHGATEWAY_URL || undefined,
        instance: env.PUSHGATEWAY_INSTANCE || undefined,
      }),
    },
  };
  merged.api.api_keys = namedKeys(env, merged.api.api_keys_file, problems);
  if (env.DATABASE_TRANSACTION_POOLING !== undefined)
    (merged.database as { transaction_pooling: boolean }).transaction_pooling =
      env.DATABASE_TRANSACTION_POOLING === "true";
  if (env.MIGRATE_ON_START !== undefined)
    (merged.database as { migrate_on_start: boolean }).migrate_on_start = env.MIGRATE_ON_START === "true";

  const api = merged.api as { timeout: unknown; shutdown_timeout?: unknown };
  api.shutdown_timeout ??= typeof api.timeout === "number" ? api.timeout + SHUTDOWN_MARGIN_SECONDS : undefined;

  // One problem per key (TypeBox may report a value twice, e.g. its type and then its bounds).
  const seen = new Set<string>();
  for (const error of Value.Errors(ConfigSchema, merged)) {
    const key = error.path.replace(/^\//, "").replaceAll("/", ".") || "(root)";
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ key: envNameFor(key, env) ?? key, problem: describeRule(error.schema, error.value) });
  }
  const { timeout, shutdown_timeout } = api;
  if (typeof timeout === "number" && typeof shutdown_timeout === "number" && shutdown_timeout < timeout)
    problems.push({
      key: "api.shutdown_timeout",
      problem: `must be at least api.timeout (${timeout} s), or requests running at shutdown are cut off`,
    });
  for (const problem of [
    checkUrl("DATABASE_URL", merged.database.url, ["postgres:", "postgresql:"]),
    checkUrl("REDIS_URL", merged.redis.url, ["redis:", "rediss:"]),
    checkUrl("GTFS_FEED_URL", merged.gtfs.feed_url, ["https:", "http:"]),
    checkUrl("GTFS_RT_TRIP_UPDATES_URL", merged.realtime.trip_updates_url, ["https:", "http:"]),
    checkUrl("GTFS_RT_ALERTS_URL", merged.realtime.alerts_url, ["https:", "http:"]),
    checkUrl("GTFS_RT_VEHICLE_POSITIONS_URL", merged.realtime.vehicle_positions_url, ["https:", "http:"]),
    checkUrl("PUSHGATEWAY_URL", merged.metrics.pushgateway, ["http:", "https:"]),
  ])
    if (problem) problems.push(problem);
  problems.push(...corsCredentialsProblems(merged.api.cors_credentials, merged.api.cors_origins));
  const noKeys = !merged.api.api_key && merged.api.api_keys.length === 0 && !merged.api.api_keys_file;
  if (merged.env === "production" && noKeys && options.serving !== false)
    problems.push({ key: "API_KEY", problem: "is required when NODE_ENV=production (or API_KEYS, API_KEYS_FILE)" });
  if (problems.length > 0) throw new ConfigError(problems);
  return merged as Config;
}

/**
 * API_KEYS, and API_KEY as the key named "default"; a key file is read here too, so a bad one stops the
 * start instead of locking every client out later. Its keys are not returned: the key ring reads the
 * file itself, and follows it.
 */
function namedKeys(env: Env, keyFile: string | null, problems: ConfigProblem[]): NamedKey[] {
  const { keys, problems: listProblems } = parseKeyList(env.API_KEYS ?? "", ",");
  for (const problem of listProblems) problems.push({ key: "API_KEYS", problem });
  if (env.API_KEY) {
    if (keys.some((k) => k.name === DEFAULT_KEY_NAME))
      problems.push({ key: "API_KEYS", problem: `the name ${DEFAULT_KEY_NAME} is API_KEY's: choose another` });
    else keys.unshift({ name: DEFAULT_KEY_NAME, key: env.API_KEY });
  }
  let fromFile: NamedKey[] = [];
  if (keyFile) {
    try {
      const parsed = parseKeyList(readFileSync(keyFile, "utf8"), "\n");
      for (const problem of parsed.problems) problems.push({ key: `API_KEYS_FILE (${keyFile})`, problem });
      fromFile = parsed.keys;
    } catch (err) {
      problems.push({
        key: "API_KEYS_FILE",
        problem: `cannot read ${keyFile} (${(err as NodeJS.ErrnoException).code})`,
      });
    }
  }
  for (const problem of duplicates([...keys, ...fromFile])) problems.push({ key: "API_KEYS", problem });
  return keys;
}

const ENV_NAMES: Record<string, string> = {
  "api.port": "PORT",
  "metrics.port": "METRICS_PORT",
  "metrics.pushgateway": "PUSHGATEWAY_URL",
  "metrics.instance": "PUSHGATEWAY_INSTANCE",
  "api.api_key": "API_KEY",
  "api.api_secret": "API_SECRET",
  "database.url": "DATABASE_URL",
  "redis.url": "REDIS_URL",
  "app.log_level": "LOG_LEVEL",
  "app.log_file": "LOG_FILE",
  "gtfs.feed_url": "GTFS_FEED_URL",
  "realtime.trip_updates_url": "GTFS_RT_TRIP_UPDATES_URL",
  "realtime.alerts_url": "GTFS_RT_ALERTS_URL",
  "realtime.vehicle_positions_url": "GTFS_RT_VEHICLE_POSITIONS_URL",
};

/** The variable to blame when the bad value came from the environment. */
function envNameFor(key: string, env: Env): string | undefined {
  const name = ENV_NAMES[key];
  return name && env[name] !== undefined ? `${name} (${key})` : undefined;
}

/** Which database the configuration selects: a server URL or the embedded one. */
export function databaseTarget(config: Config): { kind: "postgres"; url: string } | { kind: "embedded"; dir: string } {
  const db = config.database;
  if (db.url) return { kind: "postgres", url: db.url };
  if (db.host) return { kind: "postgres", url: `postgres://${db.host}:${db.port}/${encodeURIComponent(db.name)}` };
  return { kind: "embedded", dir: db.data_dir };
}

export function redisTarget(config: Config): string | undefined {
  const r = config.redis;
  if (r.url) return r.url;
  if (r.host) return `redis://${r.host}:${r.port}/${r.db}`;
  return undefined;
}
