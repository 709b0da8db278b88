// Canonical-form field readers for the stop_times hot path. They read a field where it sits in the
// decoded text (text[from, to)), so a plain line costs no string per field. Each returns null for an
// empty field and -1 for anything not in canonical form: the caller then hands the record to the
// generic parser, which accepts what the GTFS reference allows (e.g. "5:00:00") or reports it.

/** "HH:MM:SS" → seconds (hours may pass 24). */
export function timeAt(text: string, from: number, to: number): number | null {
  if (from === to) return null;
  if (to - from !== 8 || text.charCodeAt(from + 2) !== 58 || text.charCodeAt(from + 5) !== 58) return -1;
  const h1 = text.charCodeAt(from) - 48;
  const h2 = text.charCodeAt(from + 1) - 48;
  const m1 = text.charCodeAt(from + 3) - 48;
  const m2 = text.charCodeAt(from + 4) - 48;
  const s1 = text.charCodeAt(from + 6) - 48;
  const s2 = text.charCodeAt(from + 7) - 48;
  // One unsigned comparison per digit: a character below '0' wraps to a large number.
  if (h1 >>> 0 > 9 || h2 >>> 0 > 9 || m1 >>> 0 > 5 || m2 >>> 0 > 9 || s1 >>> 0 > 5 || s2 >>> 0 > 9) return -1;
  return (h1 * 10 + h2) * 3600 + (m1 * 10 + m2) * 60 + s1 * 10 + s2;
}

/** A non-negative integer of 1 to 9 digits, or -1 (empty included). */
export function uintAt(text: string, from: number, to: number): number {
  if (from === to || to - from > 9) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d >>> 0 > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** A single digit 0..max. */
export function digitAt(text: string, from: number, to: number, max: number): number | null {
  if (from === to) return null;
  if (to - from !== 1) return -1;
  const d = text.charCodeAt(from) - 48;
  return d >= 0 && d <= max ? d : -1;
}

/**
 * Finds the `count` comma-separated fields of text[from, to): ends[k] is where field k ends (its comma,
 * or `to` for the last); field k starts at `from` for k = 0, else at ends[k - 1] + 1. False when the
 * line has another number of fields.
 */
export function fieldEnds(text: string, from: number, to: number, ends: Int32Array, count: number): boolean {
  let p = from;
  for (let k = 0; k < count - 1; k++) {
    const comma = text.indexOf(",", p);
    if (comma < 0 || comma >= to) return false;
    ends[k] = comma;
    p = comma + 1;
  }
  const extra = text.indexOf(",", p);
  if (extra >= 0 && extra < to) return false;
  ends[count - 1] = to;
  return true;
}
