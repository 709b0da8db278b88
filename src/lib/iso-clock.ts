// The current time as an ISO 8601 string, formatted at most once per millisecond: under load many
// requests share a millisecond, and Date#toISOString is one of the larger costs of a small response.

/** Returns a function giving `new Date().toISOString()`, memoised per millisecond. */
export function createIsoClock(now: () => number = Date.now): () => string {
  let lastMs = Number.NaN;
  let lastIso = "";
  return () => {
    const ms = now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
    }
    return lastIso;
  };
}
