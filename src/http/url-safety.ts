// Request URLs whose parameters no handler could use: a NUL byte (%00), which PostgreSQL text cannot
// hold (the query fails inside the database, a 500), and percent-escapes that do not decode to UTF-8
// (malformed, overlong, lone surrogates), which the router would otherwise pass on half-decoded or as
// nothing. Checked once per request for every path and query parameter, so a new route or parameter
// cannot forget it. A raw NUL never reaches here: URL parsing percent-encodes it.

/** The problem with `url`'s path and query, or undefined when every parameter can be decoded and stored. */
export function urlProblem(url: string): string | undefined {
  const percent = url.indexOf("%");
  if (percent < 0) return undefined; // the common case costs one scan
  const rest = url.slice(percent);
  if (rest.includes("%00")) return "a NUL byte (%00) is not allowed in a path or query parameter";
  try {
    decodeURIComponent(rest);
  } catch {
    return "the URL holds a percent-escape that is malformed or not UTF-8";
  }
  return undefined;
}
