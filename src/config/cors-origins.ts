// The browser origins CORS allows (api.cors_origins, CORS_ORIGINS), checked the way browsers send an
// Origin: a page may call a development server from anywhere, elsewhere only from what is listed.
import type { ConfigProblem } from "./load";

/**
 * CORS_ORIGINS (comma-separated) or api.cors_origins; each "*" or an origin as browsers send it
 * (`https://maps.example.org`, `http://localhost:3000`: scheme, host, port, no path).
 */
export function corsOrigins(
  fromEnv: string | undefined,
  fromFile: unknown,
  nodeEnv: string,
  problems: ConfigProblem[],
): string[] {
  const key = fromEnv !== undefined ? "CORS_ORIGINS" : "api.cors_origins";
  const given =
    fromEnv !== undefined
      ? fromEnv.split(",").map((o) => o.trim())
      : fromFile === undefined || fromFile === null
        ? nodeEnv === "development"
          ? ["*"]
          : []
        : fromFile;
  if (!Array.isArray(given) || given.some((o) => typeof o !== "string")) {
    problems.push({ key, problem: "must be a list of origins" });
    return [];
  }
  const origins = given.filter((o) => o !== "");
  for (const origin of origins) {
    if (origin === "*") continue;
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      // reported below
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin)
      problems.push({ key, problem: `${JSON.stringify(origin)} is not an origin like https://maps.example.org` });
  }
  return origins;
}

/** Credentials with "*" would let any site act with its visitors' credentials: refused. */
export function corsCredentialsProblems(credentials: unknown, origins: string[]): ConfigProblem[] {
  // `credentials` is the file's value, not validated yet: only `true` counts.
  return credentials === true && origins.includes("*")
    ? [
        {
          key: "api.cors_credentials",
          problem:
            'cannot be true while api.cors_origins allows "*" (any site could act with its visitors\' credentials)',
        },
      ]
    : [];
}
