// Request URLs whose parameters no handler could use: a NUL byte (%00), which PostgreSQL text cannot
// hold (the query fails inside the database, a 500), and percent-escapes that do not decode to UTF-8
// (malformed, overlong, lone surrogates), which the router would otherwise pass on half-decoded or as
// nothing. Checked once per request for every path and query parameter, so a new route or parameter
// cannot forget it. A raw NUL never reaches here: URL parsing percent-encodes it. No parameter of this
// API takes a list, so a repeated one is ambiguous (the router would keep one of them, or an array a
// handler does not expect): refused too, however its name is spelled (the router decodes names).

/** The problem with `url`'s path and query, or undefined when every parameter can be decoded and stored. */
export function urlProblem(url: string): string | undefined {
  const repeated = repeatedParameter(url);
  if (repeated !== undefined) return `query parameter '${repeated}' is given more than once`;
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

/**
 * The name of the first query parameter that appears twice, as the router reads names: decoded, so
 * `q` and `%71` are one parameter (given twice, a handler would get an array or one of the two values).
 */
function repeatedParameter(url: string): string | undefined {
  const q = url.indexOf("?");
  if (q < 0 || url.indexOf("&", q) < 0) return undefined; // no query, or a single parameter
  const seen = new Set<string>();
  for (const pair of url.slice(q + 1).split("&")) {
    const eq = pair.indexOf("=");
    const name = decodedName(eq < 0 ? pair : pair.slice(0, eq));
    if (name === "") continue;
    if (seen.has(name)) return name.length > 64 ? `${name.slice(0, 64)}…` : name; // short enough for a message
    seen.add(name);
  }
  return undefined;
}

/** A name as the router decodes it ('+' is a blank); as sent when it cannot be (urlProblem refuses that URL). */
function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replaceAll("+", " "));
  } catch {
    return name;
  }
}
