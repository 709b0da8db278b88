// One error shape for every failure: {error:{code, message, details?}}. No stack traces leave the process.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const notFound = (what: string) => new ApiError(404, "NOT_FOUND", `${what} not found`);
/**
 * A request parameter that schema validation let through but the handler cannot use (a bad `at`, date
 * or cursor): the same code and `details` shape as a schema failure, so clients see one kind of 400.
 */
export const invalidParameter = (field: string, message: string, problem = message) =>
  new ApiError(400, "INVALID_REQUEST", message, [{ field, message: problem }]);

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function errorResponse(
  status: number,
  code: string,
  message: string,
  details?: unknown,
  headers: Record<string, string> = {},
): Response {
  const body: ErrorBody = { error: details === undefined ? { code, message } : { code, message, details } };
  return new Response(JSON.stringify(body), {
    status,
    // An error is about this request only: never kept by a cache (a 503 would outlive the outage).
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

// pg/network error codes meaning "the database is not there right now".
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EPIPE",
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08001",
  "08003",
  "08006",
]);

/** Maps an unexpected error to a public status/code; infrastructure failures are 503, query timeouts 504. */
export function classifyError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { code?: string; message?: string } | undefined;
  const message = e?.message ?? "";
  if (e?.code === "57014") return new ApiError(504, "QUERY_TIMEOUT", "the query took too long");
  if (
    (e?.code && UNAVAILABLE_CODES.has(e.code)) ||
    /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED|Client has encountered a connection error/i.test(
      message,
    )
  )
    return new ApiError(503, "DATABASE_UNAVAILABLE", "the database is unavailable, try again shortly");
  return new ApiError(500, "INTERNAL", "internal server error");
}
