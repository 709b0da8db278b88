// The API's contract in code: the error envelope every failure is answered with, the error statuses an
// operation declares (Elysia documents them and Eden types them), and the check an answer passes once,
// when it is built, before it is cached and served many times. Answers are served from prepared bytes
// (src/http/answer.ts), which Elysia does not validate: the check here is that validation, moved from
// every request to the one that builds the answer.
import type { Static, TSchema } from "@sinclair/typebox";
import { Type as t } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

export const ErrorBody = t.Object(
  {
    error: t.Object({
      // Stryker disable next-line StringLiteral,ObjectLiteral: OpenAPI description prose, not behaviour
      code: t.String({ description: "Stable, machine-readable (see the table in the description)" }),
      // Stryker disable next-line StringLiteral,ObjectLiteral: OpenAPI description prose, not behaviour
      message: t.String({ description: "For people; may be reworded" }),
      details: t.Optional(
        // Stryker disable next-line StringLiteral,ObjectLiteral: OpenAPI description prose, not behaviour
        t.Unknown({ description: "For INVALID_REQUEST, `[{field, message}]`; NOT_RUNNING: `{trip_id, date}`" }),
      ),
    }),
  },
  // Stryker disable next-line StringLiteral,ObjectLiteral: OpenAPI description prose, not behaviour
  { description: "The error envelope" },
);
export type ErrorBody = Static<typeof ErrorBody>;

/**
 * Error statuses, the codes each stands for and when they are answered: the OpenAPI document lists them
 * per operation (src/http/openapi/document.ts), and docs/api.md's table says the same (a test compares).
 */
export const ERROR_CODES = {
  400: {
    INVALID_REQUEST:
      "a parameter fails validation (a bad value, cursor, `at` or `date`; `details` lists `[{field, message}]`), or the URL holds a NUL byte, a malformed or non-UTF-8 percent-escape, or a query parameter given twice",
  },
  401: { UNAUTHORIZED: "no API key, or not a valid one (`X-API-Key: <key>` or `Authorization: Bearer <key>`)" },
  403: { ORIGIN_NOT_ALLOWED: 'a CORS preflight from an origin not in `api.cors_origins` (see "Browsers (CORS)")' },
  404: {
    NOT_FOUND: "no such stop, route or trip in the active feed",
    NOT_RUNNING: "the trip's service does not run on `date` (`details`: `{trip_id, date}`)",
  },
  429: { RATE_LIMITED: "the key's budget (`api.rate_limit` a minute) is spent; `Retry-After` says when to try again" },
  500: { INTERNAL: "a defect of this service (logged with the request id)" },
  503: {
    NO_FEED: "no feed has been imported yet",
    DATABASE_UNAVAILABLE: "the database cannot be reached right now; try again shortly",
  },
  504: {
    TIMEOUT: "the request did not complete within `api.timeout` seconds",
    QUERY_TIMEOUT: "the database query took longer than `database.statement_timeout`",
  },
} as const satisfies Record<number, Record<string, string>>;
export type ErrorStatus = keyof typeof ERROR_CODES;

/** The statuses every /v1 operation can answer besides its own: bad input, key, budget, outages. */
const V1_COMMON: ErrorStatus[] = [400, 401, 429, 500, 503, 504];

/** The error part of a /v1 operation's `response` map: the common statuses, plus `extra` (e.g. 404). */
export function v1Errors<const E extends ErrorStatus[] = []>(...extra: E) {
  return Object.fromEntries([...V1_COMMON, ...extra].map((status) => [status, ErrorBody])) as Record<
    (typeof V1_COMMON)[number] | E[number],
    typeof ErrorBody
  >;
}

/** An answer that breaks its documented schema: a defect of this service, reported as a 500. */
export class ContractError extends Error {
  constructor(
    readonly schema: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(`answer does not match its schema ${schema}: ${problems.map((p) => `${p.path} ${p.message}`).join("; ")}`);
    this.name = "ContractError";
  }
}

/** A compiled check of `schema`: returns its argument, typed, or throws a ContractError naming the fields. */
export function contract<S extends TSchema>(name: string, schema: S): (value: Static<S>) => Static<S> {
  const check = TypeCompiler.Compile(schema);
  return (value) => {
    if (check.Check(value)) return value;
    const problems = [...check.Errors(value)].slice(0, 5).map((e) => ({ path: e.path || "/", message: e.message }));
    throw new ContractError(name, problems);
  };
}
