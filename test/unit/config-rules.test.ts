// The config loader's rules one by one (test/unit/config.test.ts covers the everyday paths): each case
// is built so that one rule alone decides it, which is what the mutation run (npm run test:mutation)
// checks.
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ConfigError, loadConfig } from "../../src/config/load";
import { configFiles, errorOf } from "../support/config-files";

const { file, empty } = configFiles("tapi-config-rules-");

describe("api.port", () => {
  it("takes 0 for any free port (the `listening` log line names it) and refuses negatives", () => {
    expect(loadConfig({ env: { PORT: "0" }, file: empty }).api.port).toBe(0);
    expect(loadConfig({ env: {}, file: file("port0.yaml", "api:\n  port: 0\n") }).api.port).toBe(0);
    expect(errorOf(() => loadConfig({ env: {}, file: file("neg.yaml", "api:\n  port: -1\n") })).key).toBe("api.port");
  });
});

/** The message of loading `yaml` as the config file with `env`. */
function problem(yaml: string | undefined, env: Record<string, string> = {}): string {
  const path = yaml === undefined ? empty : file(`case-${Math.random().toString(36).slice(2)}.yaml`, yaml);
  return errorOf(() => loadConfig({ env, file: path })).message;
}
const load = (yaml: string, env: Record<string, string> = {}) =>
  loadConfig({ env, file: file(`ok-${Math.random().toString(36).slice(2)}.yaml`, yaml) });

describe("ConfigError", () => {
  it("names itself, the key and the problem", () => {
    const err = errorOf(() => loadConfig({ env: { PORT: "x" }, file: empty }));
    expect([err.name, err.key, err.message]).toEqual([
      "ConfigError",
      "PORT",
      "invalid configuration: PORT: must be a whole number",
    ]);
    expect(err).toBeInstanceOf(Error);
  });
});

describe("secrets and URLs come from the environment only", () => {
  it.each([
    ["api", "api_key", "API_KEY"],
    ["api", "api_secret", "API_SECRET"],
    ["database", "url", "DATABASE_URL"],
    ["database", "password", "DATABASE_URL"],
    ["redis", "url", "REDIS_URL"],
    ["redis", "password", "REDIS_URL"],
  ])("%s.%s in the file is refused, naming %s", (section, key, variable) => {
    expect(problem(`${section}:\n  ${key}: s3cret-value\n`)).toBe(
      `invalid configuration: ${section}.${key}: is read from ${variable} only, not from the file`,
    );
  });
});

describe("log levels", () => {
  it.each(["trace", "debug", "info", "warn", "error", "fatal", "silent"])("%s is accepted, in any case", (level) => {
    expect(loadConfig({ env: { LOG_LEVEL: level.toUpperCase() }, file: empty }).app.log_level).toBe(level);
    expect(load(`app:\n  log_level: ${level}\n`).app.log_level).toBe(level);
  });

  it("reads Python's names for them", () => {
    const level = (name: string) => loadConfig({ env: { LOG_LEVEL: name }, file: empty }).app.log_level;
    expect([level("WARNING"), level("CRITICAL"), level("NOTSET")]).toEqual(["warn", "fatal", "trace"]);
  });

  it("refuses others, naming the variable when it came from the environment", () => {
    expect(problem(undefined, { LOG_LEVEL: "verbose" })).toBe(
      "invalid configuration: LOG_LEVEL (app.log_level): must be one of trace, debug, info, warn, error, fatal, silent",
    );
    expect(problem("app:\n  log_level: verbose\n")).toBe(
      "invalid configuration: app.log_level: must be one of trace, debug, info, warn, error, fatal, silent",
    );
  });
});

describe("the config file", () => {
  const inDir = (setup: (dir: string) => void, run: () => unknown) => {
    const d = mkdtempSync(join(tmpdir(), "tapi-config-cwd-"));
    setup(d);
    const before = process.cwd();
    process.chdir(d);
    try {
      return run();
    } finally {
      process.chdir(before);
    }
  };

  it("./config.yaml is optional: without it, the defaults", () => {
    const config = inDir(
      () => {},
      () => loadConfig({ env: {} }),
    ) as ReturnType<typeof loadConfig>;
    expect(config.api.port).toBe(8000);
  });

  it("./config.yaml that cannot be read is an error, not the defaults", () => {
    const err = inDir(
      (d) => mkdirSync(join(d, "config.yaml")),
      () => errorOf(() => loadConfig({ env: {} })),
    ) as ConfigError;
    expect(err.message).toBe("invalid configuration: CONFIG_FILE: cannot read config.yaml (EISDIR)");
  });

  it("names the line of a YAML error", () => {
    const path = file("bad-line.yaml", "api:\n  port: 1\n  port: 2\n");
    expect(errorOf(() => loadConfig({ env: {}, file: path })).message).toBe(
      `invalid configuration: CONFIG_FILE: ${path} line 3 is not valid YAML`,
    );
  });

  it("must hold a mapping, and each section too", () => {
    for (const text of ["- a\n- b\n", "just text\n", "42\n"]) {
      const path = file("not-a-map.yaml", text);
      expect(errorOf(() => loadConfig({ env: {}, file: path })).message).toBe(
        `invalid configuration: CONFIG_FILE: ${path} must hold a mapping`,
      );
    }
    expect(problem("api: 5\n")).toBe("invalid configuration: api: must be a mapping");
    expect(problem("database:\n  - 1\n")).toBe("invalid configuration: database: must be a mapping");
    expect(problem("redis: text\n")).toBe("invalid configuration: redis: must be a mapping");
  });

  it("an empty section or a null value means the defaults", () => {
    const config = load("api:\ndatabase:\n  pool_size: null\n  port: ~\n");
    expect([config.api.port, config.database.pool_size, config.database.port]).toEqual([8000, 10, 5432]);
  });

  it("app takes version and log_file; other sections do not", () => {
    const config = load("app:\n  version: 1.2.3\n  log_file: /var/log/api.log\napi:\n  version: 9\n  log_file: x\n");
    expect([config.app.version, config.app.log_file]).toEqual(["1.2.3", "/var/log/api.log"]);
    expect(config.unknown_keys).toEqual(["api.version", "api.log_file"]);
    expect(config.api).not.toHaveProperty("version");
  });
});

describe("the environment", () => {
  it("PORT: digits, surrounding blanks allowed, empty means unset", () => {
    const port = (PORT: string) => loadConfig({ env: { PORT }, file: empty }).api.port;
    expect([port("8080"), port(" 8081 "), port("")]).toEqual([8080, 8081, 8000]);
    for (const bad of ["80a", "a80", "8.5", "-1"])
      expect(problem(undefined, { PORT: bad }), bad).toBe("invalid configuration: PORT: must be a whole number");
  });

  it("HOST and DATA_DIR override the file when set", () => {
    const config = load("api:\n  host: 10.0.0.1\ndatabase:\n  data_dir: /from-file\n", {
      HOST: "127.0.0.2",
      DATA_DIR: "/from-env",
    });
    expect([config.api.host, config.database.data_dir]).toEqual(["127.0.0.2", "/from-env"]);
    const unset = load("api:\n  host: 10.0.0.1\ndatabase:\n  data_dir: /from-file\n", { HOST: "", DATA_DIR: "" });
    expect([unset.api.host, unset.database.data_dir]).toEqual(["10.0.0.1", "/from-file"]);
  });

  it('MIGRATE_ON_START: true only for "true"; unset keeps the file\'s value', () => {
    const migrate = (env: Record<string, string>) =>
      load("database:\n  migrate_on_start: true\n", env).database.migrate_on_start;
    expect([migrate({}), migrate({ MIGRATE_ON_START: "true" }), migrate({ MIGRATE_ON_START: "false" })]).toEqual([
      true,
      true,
      false,
    ]);
    expect(migrate({ MIGRATE_ON_START: "1" })).toBe(false);
    expect(loadConfig({ env: { MIGRATE_ON_START: "true" }, file: empty }).database.migrate_on_start).toBe(true);
  });

  it("NODE_ENV: production and test as given, anything else is development", () => {
    const env = (NODE_ENV: string) => loadConfig({ env: { NODE_ENV, API_KEY: "k".repeat(16) }, file: empty }).env;
    expect([env("production"), env("test"), env("staging"), env("")]).toEqual([
      "production",
      "test",
      "development",
      "development",
    ]);
  });

  it("URLs: the right scheme, and a URL at all, for the database and Redis", () => {
    expect(problem(undefined, { DATABASE_URL: "not a url" })).toBe(
      "invalid configuration: DATABASE_URL: must be a URL (postgres: or postgresql:)",
    );
    expect(problem(undefined, { REDIS_URL: "not a url" })).toBe(
      "invalid configuration: REDIS_URL: must be a URL (redis: or rediss:)",
    );
    expect(problem(undefined, { REDIS_URL: "http://cache:6379" })).toBe(
      "invalid configuration: REDIS_URL: must use redis: or rediss:",
    );
    const config = loadConfig({
      env: { DATABASE_URL: "postgresql://db/x", REDIS_URL: "rediss://cache:6380" },
      file: empty,
    });
    expect([config.database.url, config.redis.url]).toEqual(["postgresql://db/x", "rediss://cache:6380"]);
  });

  it("a short API_SECRET is refused without echoing it, naming the variable", () => {
    const message = problem(undefined, { API_SECRET: "shhh123" });
    expect(message).toBe("invalid configuration: API_SECRET (api.api_secret): must be at least 8 characters");
    expect(message).not.toContain("shhh123");
    expect(load("", { API_SECRET: "s".repeat(8) }).api.api_secret).toBe("s".repeat(8));
  });
});

describe("bounds of every setting", () => {
  // One step outside a bound, the value just inside it that is accepted, the key, and the rule the
  // message names (worded from the schema by src/config/rules.ts). api.timeout and shutdown_timeout
  // rows set the other one so that the good value passes shutdown_timeout >= timeout; that cross rule
  // may join a bad value's problems (a shutdown_timeout of 0 is below any timeout) and is tested below.
  const NONEMPTY = "must not be empty";
  const outside: [string, string, string, string][] = [
    ["app:\n  name: ''\n", "app:\n  name: x\n", "app.name", NONEMPTY],
    ["app:\n  version: ''\n", "app:\n  version: x\n", "app.version", NONEMPTY],
    ["app:\n  log_file: ''\n", "app:\n  log_file: x\n", "app.log_file", NONEMPTY],
    ["api:\n  host: ''\n", "api:\n  host: h\n", "api.host", NONEMPTY],
    ["api:\n  port: 65536\n", "api:\n  port: 65535\n", "api.port", "must be a whole number from 0 to 65535"],
    [
      "api:\n  timeout: 0\n  shutdown_timeout: 1\n",
      "api:\n  timeout: 0.001\n  shutdown_timeout: 1\n",
      "api.timeout",
      "must be a number above 0 and at most 3600 (seconds)",
    ],
    [
      "api:\n  timeout: 3601\n  shutdown_timeout: 600\n",
      "api:\n  timeout: 600\n  shutdown_timeout: 600\n",
      "api.timeout",
      "must be a number above 0 and at most 3600 (seconds)",
    ],
    [
      "api:\n  body_limit: 1023\n",
      "api:\n  body_limit: 1024\n",
      "api.body_limit",
      "must be a whole number of 1024 or more",
    ],
    [
      "api:\n  timeout: 0.25\n  shutdown_timeout: 0\n",
      "api:\n  timeout: 0.25\n  shutdown_timeout: 0.5\n",
      "api.shutdown_timeout",
      "must be a number above 0 and at most 600 (seconds)",
    ],
    [
      "api:\n  shutdown_timeout: 601\n",
      "api:\n  shutdown_timeout: 600\n",
      "api.shutdown_timeout",
      "must be a number above 0 and at most 600 (seconds)",
    ],
    ["api:\n  rate_limit: -1\n", "api:\n  rate_limit: 0\n", "api.rate_limit", "must be a whole number of 0 or more"],
    ["database:\n  host: ''\n", "database:\n  host: db\n", "database.host", NONEMPTY],
    ["database:\n  port: 0\n", "database:\n  port: 1\n", "database.port", "must be a whole number from 1 to 65535"],
    [
      "database:\n  port: 65536\n",
      "database:\n  port: 65535\n",
      "database.port",
      "must be a whole number from 1 to 65535",
    ],
    ["database:\n  name: ''\n", "database:\n  name: n\n", "database.name", NONEMPTY],
    [
      "database:\n  pool_size: 1001\n",
      "database:\n  pool_size: 1000\n",
      "database.pool_size",
      "must be a whole number from 1 to 1000",
    ],
    [
      "database:\n  max_overflow: -1\n",
      "database:\n  max_overflow: 0\n",
      "database.max_overflow",
      "must be a whole number from 0 to 1000",
    ],
    [
      "database:\n  max_overflow: 1001\n",
      "database:\n  max_overflow: 1000\n",
      "database.max_overflow",
      "must be a whole number from 0 to 1000",
    ],
    [
      "database:\n  statement_timeout: 0\n",
      "database:\n  statement_timeout: 0.1\n",
      "database.statement_timeout",
      "must be a number above 0 and at most 3600 (seconds)",
    ],
    [
      "database:\n  statement_timeout: 3601\n",
      "database:\n  statement_timeout: 3600\n",
      "database.statement_timeout",
      "must be a number above 0 and at most 3600 (seconds)",
    ],
    [
      "database:\n  connect_timeout: 0\n",
      "database:\n  connect_timeout: 0.1\n",
      "database.connect_timeout",
      "must be a number above 0 and at most 60 (seconds)",
    ],
    [
      "database:\n  connect_timeout: 61\n",
      "database:\n  connect_timeout: 60\n",
      "database.connect_timeout",
      "must be a number above 0 and at most 60 (seconds)",
    ],
    ["database:\n  data_dir: ''\n", "database:\n  data_dir: d\n", "database.data_dir", NONEMPTY],
    ["redis:\n  host: ''\n", "redis:\n  host: r\n", "redis.host", NONEMPTY],
    ["redis:\n  port: 0\n", "redis:\n  port: 1\n", "redis.port", "must be a whole number from 1 to 65535"],
    ["redis:\n  db: 16\n", "redis:\n  db: 15\n", "redis.db", "must be a whole number from 0 to 15"],
    ["redis:\n  db: -1\n", "redis:\n  db: 0\n", "redis.db", "must be a whole number from 0 to 15"],
    [
      "redis:\n  max_connections: 0\n",
      "redis:\n  max_connections: 1\n",
      "redis.max_connections",
      "must be a whole number from 1 to 10000",
    ],
    [
      "redis:\n  max_connections: 10001\n",
      "redis:\n  max_connections: 10000\n",
      "redis.max_connections",
      "must be a whole number from 1 to 10000",
    ],
    [
      "redis:\n  command_timeout: 0\n",
      "redis:\n  command_timeout: 0.1\n",
      "redis.command_timeout",
      "must be a number above 0 and at most 60 (seconds)",
    ],
    [
      "redis:\n  command_timeout: 61\n",
      "redis:\n  command_timeout: 60\n",
      "redis.command_timeout",
      "must be a number above 0 and at most 60 (seconds)",
    ],
    [
      "redis:\n  memory_max_entries: 0\n",
      "redis:\n  memory_max_entries: 1\n",
      "redis.memory_max_entries",
      "must be a whole number of 1 or more",
    ],
    [
      "gtfs:\n  keep_versions: 0\n",
      "gtfs:\n  keep_versions: 1\n",
      "gtfs.keep_versions",
      "must be a whole number from 1 to 50",
    ],
    [
      "gtfs:\n  keep_versions: 51\n",
      "gtfs:\n  keep_versions: 50\n",
      "gtfs.keep_versions",
      "must be a whole number from 1 to 50",
    ],
  ];
  it.each(outside)("%j is refused; %j is accepted (%s: %s)", (bad, good, key, rule) => {
    const path = file(`case-${Math.random().toString(36).slice(2)}.yaml`, bad);
    const err = errorOf(() => loadConfig({ env: {}, file: path }));
    const bounds = err.problems.filter((p) => !p.problem.startsWith("must be at least api.timeout"));
    expect(bounds).toEqual([{ key, problem: rule }]);
    expect(() => load(good)).not.toThrow();
  });

  it("reports only the bound broken, worded from the schema", () => {
    expect(problem("database:\n  pool_size: 0\n")).toBe(
      "invalid configuration: database.pool_size: must be a whole number from 1 to 1000",
    );
  });

  it("shutdown_timeout defaults to api.timeout plus a margin, and may not be set below it", () => {
    expect(load("api:\n  timeout: 12\n").api.shutdown_timeout).toBeGreaterThan(12);
    expect(problem("api:\n  timeout: 12\n  shutdown_timeout: 11\n")).toBe(
      "invalid configuration: api.shutdown_timeout: must be at least api.timeout (12 s), or requests running at shutdown are cut off",
    );
    expect(load("api:\n  timeout: 12\n  shutdown_timeout: 12\n").api.shutdown_timeout).toBe(12);
  });
});
