import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { databaseTarget, loadConfig, redisTarget } from "../../src/config/load";
import { configFiles, errorOf } from "../support/config-files";

const { dir, file, empty } = configFiles("tapi-config-");

describe("configuration", () => {
  it("defaults to 0.0.0.0:8000, 30 s timeout, embedded database and in-process cache", () => {
    const config = loadConfig({ env: {}, file: empty });
    expect(config.api).toMatchObject({ host: "0.0.0.0", port: 8000, timeout: 30 });
    expect(databaseTarget(config)).toEqual({ kind: "embedded", dir: "./data" });
    expect(redisTarget(config)).toBeUndefined();
    expect(config.app.log_level).toBe("info");
  });

  it("drains on shutdown for as long as a request may run, plus a margin, and refuses a shorter drain", () => {
    expect(loadConfig({ env: {}, file: empty }).api).toMatchObject({ timeout: 30, shutdown_timeout: 35 });
    const longer = loadConfig({ env: {}, file: file("timeout.yaml", "api:\n  timeout: 90\n") });
    expect(longer.api.shutdown_timeout).toBe(95);
    const set = loadConfig({ env: {}, file: file("drain.yaml", "api:\n  timeout: 30\n  shutdown_timeout: 40\n") });
    expect(set.api.shutdown_timeout).toBe(40);
    expect(set.unknown_keys).toEqual([]);
    const short = errorOf(() =>
      loadConfig({ env: {}, file: file("short.yaml", "api:\n  timeout: 30\n  shutdown_timeout: 20\n") }),
    );
    expect(short.message).toBe(
      "invalid configuration: api.shutdown_timeout: must be at least api.timeout (30 s), or requests running at shutdown are cut off",
    );
  });

  it("reads the repository's config.yaml (the operations design's sections)", () => {
    const config = loadConfig({ env: {}, file: "config.yaml" });
    expect(config.app.name).toBe("transportation-api");
    expect(config.database).toMatchObject({ name: "transportation_db", pool_size: 10, max_overflow: 20 });
    expect(config.redis).toMatchObject({ port: 6379, db: 0, max_connections: 100 });
  });

  it("lets the environment override the file", () => {
    const path = file("c.yaml", "api:\n  port: 9000\napp:\n  log_level: INFO\n");
    const config = loadConfig({
      file: path,
      env: {
        PORT: "8123",
        LOG_LEVEL: "WARNING",
        DATABASE_URL: "postgres://u:p@db:5432/x",
        REDIS_URL: "redis://cache:6379/2",
        API_KEY: "k".repeat(16),
        LOG_FILE: "/var/log/transportation/api.log",
        APP_VERSION: "1.4.0",
        GIT_COMMIT: "abc123",
      },
    });
    expect(config.api.port).toBe(8123);
    expect(config.app.log_level).toBe("warn");
    expect(config.app.log_file).toBe("/var/log/transportation/api.log");
    expect(databaseTarget(config)).toEqual({ kind: "postgres", url: "postgres://u:p@db:5432/x" });
    expect(redisTarget(config)).toBe("redis://cache:6379/2");
    expect(config.app).toMatchObject({ version: "1.4.0", commit: "abc123", build_time: "unknown" });
  });

  it("builds server URLs from database.host and redis.host when no URL is given", () => {
    const path = file("hosts.yaml", "database:\n  host: postgres\nredis:\n  host: redis\n  db: 3\n");
    const config = loadConfig({ env: {}, file: path });
    expect(databaseTarget(config)).toEqual({ kind: "postgres", url: "postgres://postgres:5432/transportation_db" });
    expect(redisTarget(config)).toBe("redis://redis:6379/3");
  });

  it("CONFIG_FILE selects the file", () => {
    const path = file("alt.yaml", "api:\n  timeout: 5\n");
    expect(loadConfig({ env: { CONFIG_FILE: path } }).api.timeout).toBe(5);
  });

  it("names the key and the problem for bad values", () => {
    expect(errorOf(() => loadConfig({ env: { PORT: "abc" }, file: empty })).message).toBe(
      "invalid configuration: PORT: must be a whole number",
    );
    expect(errorOf(() => loadConfig({ env: { PORT: "70000" }, file: empty })).message).toMatch(
      /^invalid configuration: PORT \(api\.port\): .*65535/,
    );
    const bad = file("bad.yaml", "database:\n  pool_size: -1\n");
    expect(errorOf(() => loadConfig({ env: {}, file: bad })).message).toMatch(
      /^invalid configuration: database\.pool_size: .*1/,
    );
    const notYaml = file("broken.yaml", "api: [1, 2\n");
    expect(errorOf(() => loadConfig({ env: {}, file: notYaml })).key).toBe("CONFIG_FILE");
  });

  it("serves metrics on their own port, 9464 unless METRICS_PORT or the file says otherwise (0: off)", () => {
    const empty = file("empty-metrics.yaml", "");
    expect(loadConfig({ env: {}, file: empty }).metrics).toEqual({
      host: "0.0.0.0",
      port: 9464,
      pushgateway: null,
      instance: null,
    });
    expect(loadConfig({ env: { METRICS_PORT: "0" }, file: empty }).metrics.port).toBe(0);
    const fromFile = file("metrics.yaml", "metrics:\n  port: 9100\ngtfs:\n  max_feed_age: 30\n");
    const config = loadConfig({ env: {}, file: fromFile });
    expect(config.metrics.port).toBe(9100);
    expect(config.gtfs.max_feed_age).toBe(30);
    expect(loadConfig({ env: { METRICS_PORT: "9200" }, file: fromFile }).metrics.port).toBe(9200);
    expect(errorOf(() => loadConfig({ env: { METRICS_PORT: "x" }, file: empty })).message).toContain("METRICS_PORT");
    // The import's Pushgateway: from the environment only (its URL may carry credentials), checked.
    const push = loadConfig({
      env: { PUSHGATEWAY_URL: "http://pushgateway:9091", PUSHGATEWAY_INSTANCE: "prod" },
      file: empty,
    });
    expect(push.metrics).toMatchObject({ pushgateway: "http://pushgateway:9091", instance: "prod" });
    expect(errorOf(() => loadConfig({ env: { PUSHGATEWAY_URL: "pushgateway:9091" }, file: empty })).message).toBe(
      "invalid configuration: PUSHGATEWAY_URL: must use http: or https:",
    );
    const inFile = file("push.yaml", "metrics:\n  pushgateway: http://x:9091\n");
    expect(errorOf(() => loadConfig({ env: {}, file: inFile })).message).toContain("is read from PUSHGATEWAY_URL only");
  });

  it("leaves out unknown keys and sections and lists them, so an older release starts on a newer file", () => {
    const newer = file(
      "newer.yaml",
      "database:\n  pool_sise: 5\n  pool_size: 7\napi:\n  timeout: 12\n  new_knob: true\nprofiling:\n  port: 9100\n",
    );
    const config = loadConfig({ env: {}, file: newer });
    expect(config.unknown_keys).toEqual(["profiling", "api.new_knob", "database.pool_sise"]);
    expect(config.database.pool_size).toBe(7);
    expect(config.api.timeout).toBe(12);
    expect(config.database).not.toHaveProperty("pool_sise");
    expect(config.api).not.toHaveProperty("new_knob");
    expect(loadConfig({ env: {}, file: empty }).unknown_keys).toEqual([]);
    // A secret or URL in the file is refused, naming the variable to use, never echoing the value.
    const secret = file("secret.yaml", "database:\n  url: postgres://u:hunter2@db/x\n");
    const refused = errorOf(() => loadConfig({ env: {}, file: secret }));
    expect(refused.message).toBe(
      "invalid configuration: database.url: is read from DATABASE_URL only, not from the file",
    );
    expect(refused.message).not.toContain("hunter2");
    const key = file("key.yaml", "api:\n  api_key: s3cret\n");
    expect(errorOf(() => loadConfig({ env: {}, file: key })).key).toBe("api.api_key");
    // A known key with a bad value is still refused.
    const bad = file("bad-known.yaml", "api:\n  timeout: -1\n  new_knob: true\n");
    expect(errorOf(() => loadConfig({ env: {}, file: bad })).message).toMatch(/^invalid configuration: api\.timeout: /);
  });

  it("reports every invalid key at once, each with its rule", () => {
    const bad = file(
      "many.yaml",
      "app:\n  log_level: loud\napi:\n  timeout: 0\n  api_key: in-the-file\ndatabase:\n  pool_size: -1\n  migrate_on_start: maybe\n",
    );
    const err = errorOf(() =>
      loadConfig({ env: { API_KEY: "k", PORT: "abc", REDIS_URL: "http://cache:6379", API_SECRET: "s" }, file: bad }),
    );
    expect(err.problems).toEqual([
      { key: "api.api_key", problem: "is read from API_KEY only, not from the file" },
      { key: "PORT", problem: "must be a whole number" },
      { key: "app.log_level", problem: "must be one of trace, debug, info, warn, error, fatal, silent" },
      { key: "api.timeout", problem: "must be a number above 0 and at most 3600 (seconds)" },
      { key: "API_KEY (api.api_key)", problem: "must be at least 8 characters" },
      { key: "API_SECRET (api.api_secret)", problem: "must be at least 8 characters" },
      { key: "database.pool_size", problem: "must be a whole number from 1 to 1000" },
      { key: "database.migrate_on_start", problem: "must be true or false" },
      { key: "REDIS_URL", problem: "must use redis: or rediss:" },
    ]);
    expect(err.message).toBe(`invalid configuration: ${err.problems.map((p) => `${p.key}: ${p.problem}`).join("; ")}`);
  });

  it("allows CORS from no origin by default in production and test, from any in development, and refuses bad origins", () => {
    const prod = { NODE_ENV: "production", API_KEY: "production-key" };
    expect(loadConfig({ env: prod, file: empty }).api.cors_origins).toEqual([]);
    expect(loadConfig({ env: { NODE_ENV: "test" }, file: empty }).api.cors_origins).toEqual([]);
    expect(loadConfig({ env: {}, file: empty }).api.cors_origins).toEqual(["*"]);
    const listed = loadConfig({
      env: { ...prod, CORS_ORIGINS: "https://maps.example.org, http://localhost:3000" },
      file: empty,
    });
    expect(listed.api.cors_origins).toEqual(["https://maps.example.org", "http://localhost:3000"]);
    const fromFile = file("cors.yaml", "api:\n  cors_origins: [https://maps.example.org]\n  cors_credentials: true\n");
    expect(loadConfig({ env: prod, file: fromFile }).api).toMatchObject({
      cors_origins: ["https://maps.example.org"],
      cors_credentials: true,
    });
    const bad = errorOf(() =>
      loadConfig({ env: { ...prod, CORS_ORIGINS: "https://maps.example.org/app,ftp://x" }, file: empty }),
    );
    expect(bad.problems).toEqual([
      { key: "CORS_ORIGINS", problem: '"https://maps.example.org/app" is not an origin like https://maps.example.org' },
      { key: "CORS_ORIGINS", problem: '"ftp://x" is not an origin like https://maps.example.org' },
    ]);
  });

  it('refuses CORS credentials together with the origin "*", naming both keys', () => {
    const both = file("cors-any.yaml", 'api:\n  cors_origins: ["*"]\n  cors_credentials: true\n');
    const err = errorOf(() => loadConfig({ env: {}, file: both }));
    expect(err.problems).toEqual([
      {
        key: "api.cors_credentials",
        problem:
          'cannot be true while api.cors_origins allows "*" (any site could act with its visitors\' credentials)',
      },
    ]);
    // The development default "*" with credentials asked for is refused the same way.
    const credentials = file("cors-cred.yaml", "api:\n  cors_credentials: true\n");
    expect(errorOf(() => loadConfig({ env: {}, file: credentials })).key).toBe("api.cors_credentials");
  });

  it("refuses an unreadable config file it was told to use", () => {
    const err = errorOf(() => loadConfig({ env: { CONFIG_FILE: join(dir, "missing.yaml") } }));
    expect(err.message).toMatch(/^invalid configuration: CONFIG_FILE: cannot read .*missing\.yaml \(ENOENT\)$/);
  });

  it("requires API_KEY in production and never prints secrets", () => {
    expect(errorOf(() => loadConfig({ env: { NODE_ENV: "production" }, file: empty })).message).toBe(
      "invalid configuration: API_KEY: is required when NODE_ENV=production (or API_KEYS, API_KEYS_FILE)",
    );
    const secret = "hunter2-very-secret-password";
    const badUrl = errorOf(() => loadConfig({ env: { DATABASE_URL: `mysql://u:${secret}@h/db` }, file: empty }));
    expect(badUrl.message).toBe("invalid configuration: DATABASE_URL: must use postgres: or postgresql:");
    expect(badUrl.message).not.toContain(secret);
    const shortKey = errorOf(() => loadConfig({ env: { API_KEY: "short" }, file: empty }));
    expect(shortKey.message).toBe("invalid configuration: API_KEY (api.api_key): must be at least 8 characters");
    expect(shortKey.message).not.toContain("short");
    expect(loadConfig({ env: { NODE_ENV: "production", API_KEY: "k".repeat(20) }, file: empty }).env).toBe(
      "production",
    );
    // One-shot jobs (migrate, import) serve nothing, so they do not need the key.
    expect(loadConfig({ env: { NODE_ENV: "production" }, file: empty, serving: false }).api.api_key).toBeNull();
  });
  it("reads feed sources from the environment only: realtime URLs and headers, the static feed URL", () => {
    const config = loadConfig({
      file: "config.yaml",
      env: {
        GTFS_RT_TRIP_UPDATES_URL: "https://rt.example.org/trip-updates?key=abc",
        GTFS_RT_ALERTS_URL: "https://rt.example.org/alerts",
        GTFS_RT_HEADERS: '{"x-api-key":"k-123"}',
        GTFS_FEED_URL: "https://example.org/gtfs.zip",
        GTFS_FEED_HEADERS: '{"authorization":"Bearer t"}',
      },
    });
    expect(config.realtime).toEqual({
      trip_updates_url: "https://rt.example.org/trip-updates?key=abc",
      alerts_url: "https://rt.example.org/alerts",
      vehicle_positions_url: null,
      headers: { "x-api-key": "k-123" },
      poll_interval: 30,
      timeout: 10,
      max_age: 300,
      backoff_max: 300,
    });
    expect(config.gtfs).toMatchObject({
      feed_url: "https://example.org/gtfs.zip",
      feed_headers: { authorization: "Bearer t" },
    });
    // Nothing configured: nothing polled, nothing refreshed.
    const none = loadConfig({ env: {}, file: empty });
    expect([none.realtime.trip_updates_url, none.realtime.headers, none.gtfs.feed_url]).toEqual([null, {}, null]);

    const inFile = file("rt-url.yaml", "realtime:\n  alerts_url: https://x.example/alerts?key=s3cret\n");
    const refused = errorOf(() => loadConfig({ env: {}, file: inFile }));
    expect(refused.message).toBe(
      "invalid configuration: realtime.alerts_url: is read from GTFS_RT_ALERTS_URL only, not from the file",
    );
    expect(refused.message).not.toContain("s3cret");
    const headers = errorOf(() => loadConfig({ env: { GTFS_RT_HEADERS: "x-api-key: s3cret" }, file: empty }));
    expect(headers.message).toMatch(/^invalid configuration: GTFS_RT_HEADERS: must be a JSON object/);
    expect(headers.message).not.toContain("s3cret");
    const notString = errorOf(() => loadConfig({ env: { GTFS_FEED_HEADERS: '{"x-key":1}' }, file: empty }));
    expect(notString.message).toBe("invalid configuration: GTFS_FEED_HEADERS: the value of x-key must be a string");
    const scheme = errorOf(() =>
      loadConfig({ env: { GTFS_RT_TRIP_UPDATES_URL: "ftp://h/tu?key=s3cret" }, file: empty }),
    );
    expect(scheme.message).toBe("invalid configuration: GTFS_RT_TRIP_UPDATES_URL: must use https: or http:");
    const interval = file("rt-interval.yaml", "realtime:\n  poll_interval: 0\n");
    expect(errorOf(() => loadConfig({ env: {}, file: interval })).key).toBe("realtime.poll_interval");
  });
});
