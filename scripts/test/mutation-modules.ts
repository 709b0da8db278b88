// The modules that carry the product's promises, for mutation testing (npm run test:mutation): what is
// mutated, and the narrowest set of test files that must catch it. stryker.config.mjs reads this table.
//
// Equivalent mutants (ones no test can kill because the program behaves the same) are listed with the
// reason, matched by file, mutator and the replacement's text, so the report can tell them from gaps.

export interface Equivalent {
  file: string;
  mutator: string;
  /** The mutated code as Stryker prints it (the replacement). */
  replacement: string;
  /** The original code it replaces (a substring is enough to tell it apart). */
  original: string;
  /** Text on the mutant's source line, when the original alone does not tell it apart. */
  line?: string;
  reason: string;
}

export interface MutationModule {
  name: string;
  /** Globs of the code under mutation (Stryker's `mutate`). */
  mutate: string[];
  /** Test files that exercise it (Stryker's `testFiles`). */
  tests: string[];
  /**
   * "vitest": per-test coverage, only the tests that reach a mutant run it (in-process code).
   * "command": every listed test file runs for every mutant, with the mutant id in the environment, so
   * child processes the tests start (the CLI, bun scripts under the fake kubectl) run the mutant too.
   */
  runner: "vitest" | "command";
  /** The target: each module at or above it. */
  threshold: number;
  equivalent: Equivalent[];
}

export const MUTATION_MODULES: MutationModule[] = [
  {
    name: "release",
    mutate: ["scripts/release/branches.js"],
    tests: [
      "test/release/branches.test.ts",
      "test/release/reserved-names.test.ts",
      "test/release/branch-rules.test.ts",
    ],
    runner: "vitest",
    threshold: 80,
    equivalent: [
      {
        file: "scripts/release/branches.js",
        mutator: "Regex",
        original: "/[^0-9a-z-]+/g",
        replacement: "/[^0-9a-z-]/g",
        reason: "each character of a run becomes a dash, and the next replace collapses the dashes into one",
      },
      {
        file: "scripts/release/branches.js",
        mutator: "ConditionalExpression",
        original: 'info.kind !== "feature"',
        replacement: "false",
        reason: 'other kinds add owners under ids no feature is looked up by: undefined, or develop\'s reserved "beta"',
      },
      {
        file: "scripts/release/branches.js",
        mutator: "ConditionalExpression",
        original: "current !== canonical",
        replacement: "true",
        reason: "branch === canonical already holds, and a name is listed once: current cannot be canonical too",
      },
      {
        file: "scripts/release/branches.js",
        mutator: "ArrayDeclaration",
        original: "[]",
        replacement: '["Stryker was here"]',
        reason: "a default list with a name that is not a feature branch changes no owner",
      },
    ],
  },
  {
    name: "config",
    mutate: ["src/config/**/*.ts"],
    tests: ["test/unit/config.test.ts", "test/unit/config-rules.test.ts"],
    runner: "vitest",
    threshold: 80,
    equivalent: [
      {
        file: "src/config/load.ts",
        mutator: "StringLiteral",
        original: '"error"',
        replacement: '""',
        reason: "unreachable: the errors of readFileSync always carry a code",
      },
      {
        file: "src/config/load.ts",
        mutator: "StringLiteral",
        line: "is not valid YAML",
        original: '""',
        replacement: '"Stryker was here!"',
        reason: "unreachable: yaml reports every parse error with its line (linePos)",
      },
      {
        file: "src/config/load.ts",
        mutator: "ConditionalExpression",
        original: "doc === undefined",
        replacement: "false",
        reason: "yaml.parse returns null, never undefined, for a document with nothing in it",
      },
      {
        file: "src/config/load.ts",
        mutator: "Regex",
        original: "/^\\//",
        replacement: "/\\//",
        reason: "the error path's first slash is its leading one, which both remove",
      },
      {
        file: "src/config/load.ts",
        mutator: "StringLiteral",
        original: '"(root)"',
        replacement: '""',
        reason: "unreachable: the merged configuration has every section, so no error is at the root",
      },
      ...["DATABASE_URL", "REDIS_URL"].map((name) => ({
        file: "src/config/load.ts",
        mutator: "StringLiteral",
        line: `: "${name}",`,
        original: `"${name}"`,
        replacement: '""',
        reason: `unreachable in ENV_NAMES: ${name} is null or a non-empty string, which the schema accepts`,
      })),
      {
        file: "src/config/load.ts",
        mutator: "StringLiteral",
        line: '"app.log_file": "LOG_FILE"',
        original: '"LOG_FILE"',
        replacement: '""',
        reason: "unreachable in ENV_NAMES: an empty LOG_FILE falls back to the file, so it never breaks the schema",
      },
      ...["database.url", "redis.url"].map((key) => ({
        file: "src/config/schema.ts",
        mutator: "StringLiteral",
        original: `"${key}"`,
        replacement: '""',
        reason: `unreachable in SECRET_KEYS: ${key} is null or a non-empty string, which the schema accepts`,
      })),
      {
        file: "src/config/schema.ts",
        mutator: "ObjectLiteral",
        original: "{ description:",
        replacement: "{}",
        reason: "a description only documents the schema; nothing reads it",
      },
      {
        file: "src/config/schema.ts",
        mutator: "StringLiteral",
        line: "description",
        original: '"',
        replacement: '""',
        reason: "a description only documents the schema; nothing reads it",
      },
      ...["commit: T.String", "build_time: T.String", "url: T.Union"].map((line) => ({
        file: "src/config/schema.ts",
        mutator: "ObjectLiteral",
        line,
        original: "{ minLength: 1 }",
        replacement: "{}",
        reason:
          "unreachable: the loader never gives an empty string here (GIT_COMMIT, BUILD_TIME and the URLs fall back)",
      })),
      {
        file: "src/config/load.ts",
        mutator: "StringLiteral",
        line: 'keys.push("version", "log_file")',
        original: '"version"',
        replacement: '""',
        reason: "app.version is already a key of the defaults",
      },
    ],
  },
  {
    name: "http",
    // The OpenAPI document and docs page are their own module: the document is built once per test file,
    // so each of its mutants is "static" and runs every test of its module, which must stay small.
    mutate: ["src/http/**/*.ts", "!src/http/openapi/**"],
    tests: [
      "test/unit/http.test.ts",
      "test/unit/error-answers.test.ts",
      "test/unit/fetch-handler.test.ts",
      "test/unit/sync-fast-path.test.ts",
      "test/unit/rate-limit.test.ts",
      // The prepared answers, CORS and the fast path's memory.
      "test/unit/cors.test.ts",
      "test/unit/recent-answers.test.ts",
      // The same rule by rule, in-process: what the handler adds around the app, its trace and deadline
      // sweep, the fast path's memory at its bounds, CORS preflights.
      "test/unit/fetch-handler-answers.test.ts",
      "test/unit/fetch-handler-trace-deadline.test.ts",
      "test/unit/recent-answers-rules.test.ts",
      "test/unit/cors-preflight.test.ts",
      // Prepared answers (validators, codings, headers) and the answer cache's two layers, in process.
      "test/unit/answer.test.ts",
      "test/unit/answer-cache.test.ts",
      "test/integration/http-caching.test.ts",
      // The URLs refused before any handler runs (NUL, bad escapes, a parameter given twice).
      "test/unit/url-safety.test.ts",
      // The check an answer passes when it is built, and the error it throws.
      "test/unit/contract.test.ts",
      // API keys (a key file followed) and the rate limiter shared through a real Redis, in process.
      "test/unit/key-ring.test.ts",
      "test/integration/rate-limit-redis.test.ts",
    ],
    runner: "vitest",
    threshold: 80,
    equivalent: [
      {
        file: "src/http/key-ring.ts",
        mutator: "ConditionalExpression",
        original: "presented.length === 0",
        replacement: "false",
        reason:
          "no configured key is empty (API_KEY has at least 8 characters, a named key 16): an empty one matches none",
      },
      ...[
        [
          "/^bearer\\s/i",
          "as the test, a value that starts with bearer and blanks starts with bearer and one blank; as the pattern removed, the blanks it leaves are trimmed",
        ],
        ["/bearer\\s+/i", "the value was just found to start with it, so the first match is at the start"],
      ].map(([replacement, reason]) => ({
        file: "src/http/key-ring.ts",
        mutator: "Regex",
        original: "/^bearer\\s+/i",
        replacement: replacement!,
        reason: reason!,
      })),
      ...[
        ["ConditionalExpression", "true"],
        ["ArithmeticOperator", "now() + checkedAt"],
      ].map(([mutator, replacement]) => ({
        file: "src/http/key-ring.ts",
        mutator: mutator!,
        original: "now() - checkedAt",
        replacement: replacement!,
        reason:
          "timing only: with a clock that does not run backwards the key file is read on more requests (still one read at a time) and the keys in force are still its last good ones; only how soon an edit applies changes, which tests do not time",
      })),
      {
        file: "src/http/rate-limit.ts",
        mutator: "EqualityOperator",
        original: "tat < now",
        replacement: "tat <= now",
        reason: "when tat equals now, the step starts at now either way",
      },
      {
        file: "src/http/rate-limit.ts",
        mutator: "BooleanLiteral",
        original: "false",
        line: "enableOfflineQueue",
        replacement: "true",
        reason:
          "take sends a command only right after finding the client ready (synchronously), so nothing ever waits in the offline queue",
      },
      ...[
        ["MethodExpression", "Math.min(times * 100, 1000)", "Math.max(times * 100, 1000)"],
        ["ArithmeticOperator", "times * 100", "times / 100"],
      ].map(([mutator, original, replacement]) => ({
        file: "src/http/rate-limit.ts",
        mutator: mutator!,
        original: original!,
        replacement: replacement!,
        reason: "timing only: how soon a lost connection to Redis is tried again, not any decision",
      })),
      ...[
        ["BooleanLiteral", "true", "false", "connected = true"],
        ["ConditionalExpression", "!connected", "true", "await waitForFirstConnection()"],
      ].map(([mutator, original, replacement, line]) => ({
        file: "src/http/rate-limit.ts",
        mutator: mutator!,
        original: original!,
        replacement: replacement!,
        line: line!,
        reason:
          "connected only spares a request awaiting the start-up wait, which has settled by then: a microtask later, the same decision",
      })),
      {
        file: "src/http/rate-limit.ts",
        mutator: "CallExpression",
        original: "clearTimeout(timer);",
        replacement: ";",
        reason:
          "the timer then resolves the settled start-up wait again, which does nothing; it only lingers a command's time",
      },
      {
        file: "src/http/rate-limit.ts",
        mutator: "EqualityOperator",
        original: "Date.now() < pausedUntil",
        replacement: "Date.now() <= pausedUntil",
        reason: "timing only: whether Redis is tried again in the pause's very last millisecond",
      },
      {
        file: "src/http/errors.ts",
        mutator: "ConditionalExpression",
        original: "details === undefined",
        replacement: "false",
        reason: "JSON.stringify leaves out a property whose value is undefined",
      },
      {
        file: "src/http/errors.ts",
        mutator: "StringLiteral",
        line: 'e?.message ?? ""',
        original: '""',
        replacement: '"Stryker was here!"',
        reason: "a placeholder for a missing message matches none of the unavailability patterns either",
      },
      // urlProblem's scan starts at the first '%' only for speed: from the start, or with no early
      // return, the same escapes are checked (none comes before the first '%').
      ...[
        ["StringLiteral", '"%"', '""'],
        ["MethodExpression", "url.slice(percent)", "url"],
        ["ConditionalExpression", "percent < 0", "false"],
      ].map(([mutator, original, replacement]) => ({
        file: "src/http/url-safety.ts",
        mutator: mutator!,
        original: original!,
        replacement: replacement!,
        reason: "the part of the URL before its first '%' holds no escape: checking it too finds the same problems",
      })),
      ...[
        ["percent < 0", "percent <= 0"],
        ["q < 0", "q <= 0"],
      ].map(([original, replacement]) => ({
        file: "src/http/url-safety.ts",
        mutator: "EqualityOperator",
        original: original!,
        replacement: replacement!,
        reason: "a request's URL starts with its scheme, so neither '%' nor '?' is ever at index 0",
      })),
      // repeatedParameter's early return for a query without '&': the loop would see one parameter.
      ...[
        ["ConditionalExpression", 'url.indexOf("&", q) < 0', "false"],
        ["EqualityOperator", 'url.indexOf("&", q) < 0', 'url.indexOf("&", q) <= 0'],
        ["StringLiteral", '"&"', '""'],
      ].map(([mutator, original, replacement]) => ({
        file: "src/http/url-safety.ts",
        mutator: mutator!,
        original: original!,
        replacement: replacement!,
        line: 'url.indexOf("&", q) < 0',
        reason:
          "a query with no '&' after its '?' (an index past it, never 0) is one parameter, which cannot be given twice",
      })),
      {
        file: "src/http/fetch-handler.ts",
        mutator: "ConditionalExpression",
        original: "length !== null",
        replacement: "true",
        reason: "Number(null) is 0, never over the limit",
      },
      {
        file: "src/http/fetch-handler.ts",
        mutator: "EqualityOperator",
        original: "p.at <= now",
        replacement: "p.at < now",
        reason: "a deadline equal to the sweep's instant is met one tick later either way",
      },
      ...["start < 0", "q < 0"].map((original) => ({
        file: "src/http/fetch-handler.ts",
        mutator: "EqualityOperator",
        original,
        replacement: original.replace("<", "<="),
        reason: 'the index is after the scheme\'s "//", never 0',
      })),
      {
        file: "src/http/fetch-handler.ts",
        mutator: "ConditionalExpression",
        original: "tracer === undefined",
        replacement: "true",
        reason: "with tracing on, the trace id read from the header is replaced by the request span's at once",
      },
      // The prepared answers' memo of Accept-Encoding values: without it, or with another bound, every
      // header is negotiated anew with the same result; only CPU and the memo's memory change.
      ...[
        ["ConditionalExpression", 'header === null || header === ""', "false"],
        ["ConditionalExpression", "header === null", "false"],
        ["ConditionalExpression", 'header === ""', "false"],
        ["LogicalOperator", 'header === null || header === ""', 'header === null && header === ""'],
        ["StringLiteral", '""', '"Stryker was here!"'],
      ].map(([mutator, original, replacement]) => ({
        file: "src/http/answer.ts",
        mutator: mutator!,
        original: original!,
        replacement: replacement!,
        line: 'if (header === null || header === "") return "identity"',
        reason: "negotiator reads a missing or empty Accept-Encoding as identity only, which this shortcut answers",
      })),
      ...[
        ["ConditionalExpression", "coding === undefined", "true"],
        ["ConditionalExpression", "known.size >= 256", "true"],
        ["ConditionalExpression", "known.size >= 256", "false"],
        ["EqualityOperator", "known.size >= 256", "known.size > 256"],
        ["EqualityOperator", "known.size >= 256", "known.size < 256"],
        ["CallExpression", "known.set(header, coding);", ";"],
        ["CallExpression", "known.clear()", ";"],
      ].map(([mutator, original, replacement]) => ({
        file: "src/http/answer.ts",
        mutator: mutator!,
        original: original!,
        replacement: replacement!,
        reason: "the memo of negotiated Accept-Encoding values only saves work: every header gets the same coding",
      })),
      // noneMatch's shortcut for the common headers: the loop after it finds the tag and "*" as well.
      ...[
        ["ConditionalExpression", 'header === etag || header === "*"', "false"],
        ["LogicalOperator", 'header === etag || header === "*"', 'header === etag && header === "*"'],
        ["ConditionalExpression", "header === etag", "false"],
        ["ConditionalExpression", 'header === "*"', "false"],
      ].map(([mutator, original, replacement]) => ({
        file: "src/http/answer.ts",
        mutator: mutator!,
        original: original!,
        replacement: replacement!,
        line: 'if (header === etag || header === "*") return true',
        reason: "a shortcut: the loop over the list matches the whole header's tag and a lone * the same way",
      })),
      {
        file: "src/http/answer.ts",
        mutator: "MethodExpression",
        original: 'hash("sha256", this.body, "base64url").slice(0, 27)',
        replacement: 'hash("sha256", this.body, "base64url")',
        reason: "the whole digest instead of its first 162 bits: a longer tag that changes exactly when the bytes do",
      },
      {
        file: "src/http/answer.ts",
        mutator: "ConditionalExpression",
        original: "!this.#pending[coding]",
        replacement: "true",
        reason: "compressing the same bytes again while the first run is under way stores the same copy; only CPU",
      },
      {
        file: "src/http/answer.ts",
        mutator: "ConditionalExpression",
        original: "!err",
        replacement: "true",
        reason: "zlib does not fail on bytes in memory with valid parameters: err is always null",
      },
      {
        file: "src/http/answer.ts",
        mutator: "ObjectLiteral",
        original: "{ level: GZIP_LEVEL }",
        replacement: "{}",
        reason: "GZIP_LEVEL is 6, zlib's default level (Z_DEFAULT_COMPRESSION): the same bytes",
      },
      {
        file: "src/http/answer-cache.ts",
        mutator: "BooleanLiteral",
        original: "false",
        replacement: "true",
        line: "ttlAutopurge: false",
        reason: "an expired entry is never served either way; autopurge only frees it sooner, with a timer per entry",
      },
    ],
  },
  {
    name: "openapi",
    mutate: ["src/http/openapi/**/*.ts"],
    tests: [
      // The document as the app serves it (lint rules), the service's answers against it, the rules on
      // routes built for them, and the docs page's wiring, in process.
      "test/unit/openapi-lint.test.ts",
      "test/unit/openapi-contract.test.ts",
      "test/unit/openapi-document.test.ts",
      "test/unit/docs-page.test.ts",
    ],
    runner: "vitest",
    threshold: 80,
    equivalent: [
      {
        file: "src/http/openapi/document.ts",
        mutator: "ConditionalExpression",
        original: "!out.parameters",
        replacement: "false",
        reason: "the document is served as JSON (docs-page.ts), which leaves out a property whose value is undefined",
      },
      {
        file: "src/http/openapi/document.ts",
        mutator: "StringLiteral",
        line: "?.type?.const ??",
        original: '""',
        replacement: '"Stryker was here!"',
        reason: "the fallback for a schema without a `type` constant is not a GeoJSON type either way",
      },
      {
        file: "src/http/openapi/document.ts",
        mutator: "StringLiteral",
        original: '"OriginNotAllowed"',
        replacement: '""',
        reason:
          "403 answers CORS preflights only, which are not operations: no operation refers to it, so it is left out",
      },
      {
        file: "src/http/openapi/document.ts",
        mutator: "ConditionalExpression",
        original: 'status === "200"',
        replacement: "true",
        line: 'else if (status === "200" && path.startsWith',
        reason: "a /v1 operation answers 200 or the error envelope, which the branch before takes: no third kind",
      },
      ...[
        ["multipleOf !== undefined", "true"],
        ["fallback !== undefined", "true"],
        ["value !== undefined", "true"],
        ["value === undefined", "false"],
      ].map(([original, replacement]) => ({
        file: "src/http/openapi/document.ts",
        mutator: "ConditionalExpression",
        original: original!,
        replacement: replacement!,
        reason: "only adds a property whose value is undefined, which the document served as JSON leaves out",
      })),
      ...[
        ["ConditionalExpression", 's.type === "integer"', "false"],
        ["StringLiteral", '"integer"', '""'],
      ].map(([mutator, original, replacement]) => ({
        file: "src/http/openapi/document.ts",
        mutator: mutator!,
        original: original!,
        replacement: replacement!,
        line: 'find((s) => s.type === "number" || s.type === "integer")',
        reason:
          "Elysia documents t.Numeric's variant as a number; no parameter of the service is a union with an integer",
      })),
      ...['{ name: "docs-page" }', '"docs-page"'].map((original) => ({
        file: "src/http/openapi/docs-page.ts",
        mutator: original.startsWith("{") ? "ObjectLiteral" : "StringLiteral",
        original,
        replacement: original.startsWith("{") ? "{}" : '""',
        reason: "src/app.ts mounts the page once; a plugin's name only makes Elysia skip mounting it again",
      })),
    ],
  },
  {
    name: "board",
    mutate: ["src/modules/gtfs/api/departures.ts", "src/modules/gtfs/api/queries.ts"],
    tests: [
      "test/gtfs/query-clauses.test.ts",
      "test/gtfs/boards.test.ts",
      "test/gtfs/api.test.ts",
      "test/gtfs/query-logic.test.ts",
      "test/gtfs/search-box.test.ts",
      "test/gtfs/board-ids.test.ts",
      // An agency without agency_id, a stop time without times, a frequency trip's two service days at one instant.
      "test/gtfs/query-corners.test.ts",
    ],
    runner: "vitest",
    threshold: 80,
    equivalent: [
      ...[
        ["ConditionalExpression", "perFeed.size > 4", "true"],
        ["EqualityOperator", "perFeed.size > 4", "perFeed.size >= 4"],
        ["EqualityOperator", "perFeed.size > 4", "perFeed.size <= 4"],
      ].map(([mutator, original, replacement]) => ({
        file: "src/modules/gtfs/api/departures.ts",
        mutator: mutator!,
        original: original!,
        replacement: replacement!,
        reason: "how many versions' route names are kept only bounds memory: dropped names are read again",
      })),
      {
        file: "src/modules/gtfs/api/departures.ts",
        mutator: "ConditionalExpression",
        original: "family",
        line: "if (family) known.set",
        replacement: "true",
        reason: "lru-cache's set(key, undefined) deletes the key: nothing is kept for an unknown stop either way",
      },
      {
        file: "src/modules/gtfs/api/departures.ts",
        mutator: "ConditionalExpression",
        original: "days.length",
        replacement: "true",
        reason: "with no service day the statement gets empty arrays and finds nothing: one statement more, same board",
      },
      {
        file: "src/modules/gtfs/api/departures.ts",
        mutator: "ConditionalExpression",
        original: "stop.has_frequencies",
        replacement: "true",
        reason: "the template statement finds nothing for stops no frequency-based trip serves: one statement more",
      },
      ...[
        ["ConditionalExpression", "true"],
        ["ConditionalExpression", "false"],
        ["EqualityOperator", "t.exact_times !== 1"],
      ].map(([mutator, replacement]) => ({
        file: "src/modules/gtfs/api/departures.ts",
        mutator: mutator!,
        original: "t.exact_times === 1",
        replacement: replacement!,
        reason:
          "exact_times does not change which instances a window makes (frequencyDeparturesBetween reads start, end and headway); the answer's exact_times comes from the template row",
      })),
      ...[
        ["ConditionalExpression", "d === null || d === undefined", "false"],
        ["LogicalOperator", "d === null || d === undefined", "d === null && d === undefined"],
        ["ConditionalExpression", "d === null", "false"],
        ["ConditionalExpression", "d === undefined", "false"],
      ].map(([mutator, original, replacement]) => ({
        file: "src/modules/gtfs/api/queries.ts",
        mutator: mutator!,
        original: original!,
        replacement: replacement!,
        line: "d instanceof Date ? d.toISOString()",
        reason:
          "listed versions were all imported and activated (a retired one was active before): neither instant is ever null",
      })),
      // searchBox: whether to narrow the longitudes.
      ...[
        ["ConditionalExpression", "latMin > -90 && latMax < 90 && reach < 1", "true"],
        ["LogicalOperator", "latMin > -90 && latMax < 90 && reach < 1", "latMin > -90 && latMax < 90 || reach < 1"],
        ["ConditionalExpression", "latMin > -90 && latMax < 90", "true"],
        ["LogicalOperator", "latMin > -90 && latMax < 90", "latMin > -90 || latMax < 90"],
        ["ConditionalExpression", "latMin > -90", "true"],
        ["EqualityOperator", "latMin > -90", "latMin >= -90"],
        ["ConditionalExpression", "latMax < 90", "true"],
        ["EqualityOperator", "latMax < 90", "latMax <= 90"],
        ["ConditionalExpression", "reach < 1", "true"],
        ["EqualityOperator", "reach < 1", "reach <= 1"],
      ].map(([mutator, original, replacement]) => ({
        file: "src/modules/gtfs/api/queries.ts",
        mutator: mutator!,
        original: original!,
        replacement: replacement!,
        line: "if (latMin > -90",
        reason:
          "for radii up to 20 km (the API's maximum) the widened circle reaches a pole exactly when reach >= 1, where asin gives NaN (or 90° at 1, the circle's true reach): the ±180 test then keeps every longitude",
      })),
      ...[
        ["lon - dLon >= -180", "lon - dLon > -180"],
        ["lon + dLon <= 180", "lon + dLon < 180"],
      ].map(([original, replacement]) => ({
        file: "src/modules/gtfs/api/queries.ts",
        mutator: "EqualityOperator",
        original: original!,
        replacement: replacement!,
        reason: "a circle touching ±180 exactly: that edge is the same, the box only gets wider on the other side",
      })),
      ...[
        ["latMin <= 0", "latMin < 0"],
        ["latMax >= 0", "latMax > 0"],
      ].map(([original, replacement]) => ({
        file: "src/modules/gtfs/api/queries.ts",
        mutator: "EqualityOperator",
        original: original!,
        replacement: replacement!,
        reason: "a band edge at exactly 0°: the larger cos(lat) of the band is cos(0) = 1 either way",
      })),
    ],
  },
  {
    // activate, discard, prune, rollback, the import lock and the migration check. Its own test file
    // calls them in-process inside each test, so per-test coverage applies (import.test.ts and
    // rollback.test.ts run imports in hooks or through the CLI, which a mutation run cannot link).
    name: "catalogue",
    mutate: ["src/modules/gtfs/import/catalogue.ts"],
    tests: ["test/gtfs/catalogue.test.ts"],
    runner: "vitest",
    threshold: 80,
    equivalent: [
      {
        file: "src/modules/gtfs/import/catalogue.ts",
        mutator: "ConditionalExpression",
        original: 'session.kind !== "postgres"',
        replacement: "false",
        reason:
          "PGlite has advisory locks too, and the embedded database has one process: the lock is always free there",
      },
      ...[
        [
          "BlockStatement",
          'if (session.kind === "postgres") await session.query("select pg_advisory_unlock_all()")',
          "{}",
        ],
        ["ConditionalExpression", 'session.kind === "postgres"', "true"],
        ["ConditionalExpression", 'session.kind === "postgres"', "false"],
        ["EqualityOperator", 'session.kind === "postgres"', 'session.kind !== "postgres"'],
        ["StringLiteral", '"select pg_advisory_unlock_all()"', '""'],
      ].map(([mutator, original, replacement]) => ({
        file: "src/modules/gtfs/import/catalogue.ts",
        mutator: mutator!,
        original: original!,
        replacement: replacement!,
        line: mutator === "BlockStatement" ? "export async function unlockImports" : "pg_advisory_unlock_all",
        reason:
          "the import closes its connection right after, which releases its session-level advisory locks (PostgreSQL docs, Advisory Locks); unlocking first is a courtesy",
      })),
      {
        file: "src/modules/gtfs/import/catalogue.ts",
        mutator: "StringLiteral",
        original: '"rollback"',
        replacement: '""',
        line: 'await s.query("rollback").catch(() => {});',
        reason:
          "discardVersion's own connection: just opened it has no transaction, and after a failed statement it is closed at once, which rolls back",
      },
      {
        file: "src/modules/gtfs/import/catalogue.ts",
        mutator: "BlockStatement",
        original: 'await s.query("rollback").catch(() => {});',
        replacement: "{}",
        reason: "the connection is closed at once (finally), which rolls its transaction back",
      },
    ],
  },
  {
    // The deploy/rollback/verify tools' decisions, mutated where they run in the test process: which
    // revision a rollback goes to, when the readiness gate passes, how options resolve, the rewrite of the
    // rendered overlay, how revisions and kubectl's failures read. Not mutated here: the command files
    // (deploy.ts, rollback.ts, verify.ts run runCommand when loaded, and end in process.exit) and the
    // parts that only drive kubectl (kubectl.ts's spawn, rollout.ts's DeploymentRollout, migration.ts,
    // restore-guard.ts, port-forward.ts, report.ts, command.ts): the fake-kubectl scenarios
    // (test/ops/deploy.test.ts, rollback-previous.test.ts, config-change.test.ts) run them in child
    // processes, which a vitest mutation run cannot link to tests, and the command runner (every
    // scenario for every mutant) would take hours on two cores.
    name: "ops",
    mutate: [
      "scripts/ops/lib/rollback-target.ts",
      "scripts/ops/lib/readiness-gate.ts",
      "scripts/ops/lib/options.ts",
      "scripts/ops/lib/render.ts",
      // describeVerdict, revisionLabel, verdictTable (recordVerdict drives kubectl)
      "scripts/ops/lib/gate-verdict.ts:51-68",
      // versionOfImage
      "scripts/ops/lib/rollout.ts:183-191",
      // Kubectl.scoped, KubectlError, firstErrorLine
      "scripts/ops/lib/kubectl.ts:24-28",
      "scripts/ops/lib/kubectl.ts:65-86",
    ],
    tests: [
      "test/ops/rollback-target.test.ts",
      "test/ops/readiness-gate-rules.test.ts",
      "test/ops/ops-options.test.ts",
      "test/ops/render.test.ts",
      "test/ops/render-rules.test.ts",
    ],
    runner: "vitest",
    threshold: 80,
    equivalent: [
      {
        file: "scripts/ops/lib/options.ts",
        mutator: "ConditionalExpression",
        original: "raw === undefined",
        replacement: "false",
        line: "Number.isFinite(value)",
        reason: "Number(undefined) is NaN, which the finiteness check refuses with the same message",
      },
      ...[
        ["ObjectLiteral", '{ accept: "application/json" }', "{}"],
        ["StringLiteral", '"application/json"', '""'],
      ].map(([mutator, original, replacement]) => ({
        file: "scripts/ops/lib/readiness-gate.ts",
        mutator: mutator!,
        original: original!,
        replacement: replacement!,
        reason: "the service answers /ready and /version with JSON whatever the Accept header says",
      })),
      ...[
        ["ConditionalExpression", 'e.name === "AbortError"', "false"],
        ["StringLiteral", '"AbortError"', '""'],
      ].map(([mutator, original, replacement]) => ({
        file: "scripts/ops/lib/readiness-gate.ts",
        mutator: mutator!,
        original: original!,
        replacement: replacement!,
        reason:
          "AbortSignal.timeout aborts with a TimeoutError (DOM standard, AbortSignal.timeout), and nothing else aborts these requests",
      })),
      {
        file: "scripts/ops/lib/readiness-gate.ts",
        mutator: "EqualityOperator",
        original: "Date.now() + opts.intervalMs > deadline",
        replacement: "Date.now() + opts.intervalMs >= deadline",
        reason: "timing only: whether one more poll starts in the deadline's very millisecond",
      },
      {
        file: "scripts/ops/lib/render.ts",
        mutator: "UpdateOperator",
        original: "changed++",
        replacement: "changed--",
        reason: "the count is only compared with 0, and -n is not 0 either",
      },
      ...[
        ["ConditionalExpression", 'r.verdict === "passed"', "false"],
        ["StringLiteral", '"passed"', '""'],
      ].map(([mutator, original, replacement]) => ({
        file: "scripts/ops/lib/rollback-target.ts",
        mutator: mutator!,
        original: original!,
        replacement: replacement!,
        line: 'r.verdict === "passed" ? "passed"',
        reason: "verdictWord only words a refusal, which lists no revision that passed (one that passed is the target)",
      })),
      {
        file: "scripts/ops/lib/rollout.ts",
        mutator: "MethodExpression",
        original: 'withoutDigest.slice(withoutDigest.lastIndexOf("/") + 1)',
        replacement: "withoutDigest",
        reason:
          "the last colon is the tag's; without a tag it is a registry port's, and what follows it holds a /, never a version",
      },
    ],
  },
];
