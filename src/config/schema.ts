// The configuration's shape, validated at start-up. Sections follow the operations design (config.yaml).
import { type Static, Type as T } from "@sinclair/typebox";

const LogLevel = T.Union(
  ["trace", "debug", "info", "warn", "error", "fatal", "silent"].map((l) => T.Literal(l)),
  { description: "trace|debug|info|warn|error|fatal|silent (INFO/WARNING style accepted)" },
);

const Port = T.Integer({ minimum: 1, maximum: 65535 });

export const ConfigSchema = T.Object({
  env: T.Union([T.Literal("development"), T.Literal("production"), T.Literal("test")]),
  /** Keys in the config file that this version does not know; left out, and logged at start-up. */
  unknown_keys: T.Optional(T.Array(T.String())),
  app: T.Object({
    name: T.String({ minLength: 1 }),
    version: T.String({ minLength: 1 }),
    commit: T.String({ minLength: 1 }),
    build_time: T.String({ minLength: 1 }),
    debug: T.Boolean(),
    log_level: LogLevel,
    log_file: T.Union([T.String({ minLength: 1 }), T.Null()]),
  }),
  api: T.Object({
    host: T.String({ minLength: 1 }),
    port: T.Integer({ minimum: 0, maximum: 65535, description: "0: any free port, named in the `listening` log line" }),
    timeout: T.Number({ exclusiveMinimum: 0, maximum: 3600, description: "seconds" }),
    body_limit: T.Integer({ minimum: 1024 }),
    shutdown_timeout: T.Number({ exclusiveMinimum: 0, maximum: 600, description: "seconds" }),
    rate_limit: T.Integer({ minimum: 0, description: "requests per minute per API key on /v1; 0 = off" }),
    api_key: T.Union([T.String({ minLength: 8 }), T.Null()]),
    /** Named keys from API_KEYS (API_KEY joins them as "default"); checked in api-keys.ts. */
    api_keys: T.Array(T.Object({ name: T.String({ minLength: 1 }), key: T.String({ minLength: 1 }) })),
    /** API_KEYS_FILE: more named keys, one `name:key` a line, re-read when the file changes. */
    api_keys_file: T.Union([T.String({ minLength: 1 }), T.Null()]),
    api_secret: T.Union([T.String({ minLength: 8 }), T.Null()]),
    /** gzip and brotli for answers of at least compression_min_bytes, as Accept-Encoding asks. */
    compression: T.Boolean(),
    compression_min_bytes: T.Integer({ minimum: 0, description: "bytes" }),
    /** Browser origins allowed to call the API (CORS): "*" or `scheme://host[:port]` each; none: no CORS. */
    cors_origins: T.Array(T.String({ minLength: 1 })),
    /** Access-Control-Allow-Credentials for the listed origins (never with "*"). */
    cors_credentials: T.Boolean(),
    cors_max_age: T.Integer({ minimum: 0, maximum: 86_400, description: "seconds" }),
  }),
  database: T.Object({
    url: T.Union([T.String({ minLength: 1 }), T.Null()]),
    host: T.Union([T.String({ minLength: 1 }), T.Null()]),
    port: Port,
    name: T.String({ minLength: 1 }),
    pool_size: T.Integer({ minimum: 1, maximum: 1000 }),
    max_overflow: T.Integer({ minimum: 0, maximum: 1000 }),
    /** The PostgreSQL server's max_connections: the budget every pool and job must fit in (scripts/k8s). */
    max_connections: T.Integer({ minimum: 1, maximum: 100_000 }),
    /** DATABASE_URL reaches PostgreSQL through a transaction-mode pooler (PgBouncer): no session state. */
    transaction_pooling: T.Boolean(),
    statement_timeout: T.Number({ exclusiveMinimum: 0, maximum: 3600, description: "seconds" }),
    connect_timeout: T.Number({ exclusiveMinimum: 0, maximum: 60, description: "seconds" }),
    data_dir: T.String({ minLength: 1 }),
    migrate_on_start: T.Boolean(),
  }),
  redis: T.Object({
    url: T.Union([T.String({ minLength: 1 }), T.Null()]),
    host: T.Union([T.String({ minLength: 1 }), T.Null()]),
    port: Port,
    db: T.Integer({ minimum: 0, maximum: 15 }),
    max_connections: T.Integer({ minimum: 1, maximum: 10000 }),
    command_timeout: T.Number({ exclusiveMinimum: 0, maximum: 60, description: "seconds" }),
    memory_max_entries: T.Integer({ minimum: 1 }),
    /** /ready fails while Redis is down (default: it reports the outage and stays ready, "degraded"). */
    required: T.Boolean(),
  }),
  gtfs: T.Object({
    keep_versions: T.Integer({ minimum: 1, maximum: 50 }),
    /** An older served feed raises the TransportationFeedStale alert. */
    max_feed_age: T.Number({ exclusiveMinimum: 0, description: "hours" }),
    /** Where `import refresh` downloads the static feed from (GTFS_FEED_URL); null = no scheduled refresh. */
    feed_url: T.Union([T.String({ minLength: 1 }), T.Null()]),
    /** Request headers for feed_url, e.g. an agency's API key (GTFS_FEED_HEADERS, a JSON object). */
    feed_headers: T.Record(T.String(), T.String()),
  }),
  realtime: T.Object({
    /** GTFS-Realtime sources (GTFS_RT_*_URL); null = not polled. */
    trip_updates_url: T.Union([T.String({ minLength: 1 }), T.Null()]),
    alerts_url: T.Union([T.String({ minLength: 1 }), T.Null()]),
    vehicle_positions_url: T.Union([T.String({ minLength: 1 }), T.Null()]),
    /** Request headers for every source, e.g. an API key (GTFS_RT_HEADERS, a JSON object). */
    headers: T.Record(T.String(), T.String()),
    /** Between polls of a source. */
    poll_interval: T.Number({ minimum: 0.05, maximum: 3600, description: "seconds" }),
    /** The longest a poll may take. */
    timeout: T.Number({ exclusiveMinimum: 0, maximum: 300, description: "seconds" }),
    /** An older snapshot is ignored. */
    max_age: T.Number({ exclusiveMinimum: 0, maximum: 86_400, description: "seconds" }),
    /** The longest wait after failures. */
    backoff_max: T.Number({ exclusiveMinimum: 0, maximum: 86_400, description: "seconds" }),
  }),
  metrics: T.Object({
    host: T.String({ minLength: 1 }),
    /** GET /metrics is served here; 0 = not served. */
    port: T.Integer({ minimum: 0, maximum: 65535 }),
    /** Pushgateway URL the import command reports its runs to (PUSHGATEWAY_URL); null = none. */
    pushgateway: T.Union([T.String({ minLength: 1 }), T.Null()]),
    /** `instance` label of the pushed group, e.g. the environment (PUSHGATEWAY_INSTANCE); null = none. */
    instance: T.Union([T.String({ minLength: 1 }), T.Null()]),
  }),
});

export type Config = Static<typeof ConfigSchema>;
