// Opaque keyset cursors: the last row's sort key, base64url-encoded JSON.
import { invalidParameter } from "../../../http/errors";

export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

export function decodeCursor(cursor: string | undefined, arity: number): unknown[] | undefined {
  if (!cursor) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(key) && key.length === arity) return key;
  } catch {
    // fall through
  }
  throw invalidParameter("cursor", "invalid query parameter 'cursor': not a cursor this API returned");
}

/** Splits limit+1 fetched rows into a page and the cursor for the next one. */
export function page<T>(rows: T[], limit: number, keyOf: (row: T) => unknown[]) {
  const more = rows.length > limit;
  const data = more ? rows.slice(0, limit) : rows;
  return { data, next_cursor: more ? encodeCursor(keyOf(data.at(-1)!)) : null };
}
