// API-key check for /v1: `X-API-Key: <key>` or `Authorization: Bearer <key>`, compared in constant time.
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (s: string) => createHash("sha256").update(s).digest();

export function createKeyVerifier(expected: string): (presented: string | null | undefined) => boolean {
  // Comparing fixed-length digests keeps the comparison constant-time whatever the lengths.
  const want = digest(expected);
  return (presented) =>
    typeof presented === "string" && presented.length > 0 && timingSafeEqual(digest(presented), want);
}

export function presentedKey(headers: Headers): string | null {
  const key = headers.get("x-api-key");
  if (key) return key;
  const auth = headers.get("authorization");
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, "").trim();
  return null;
}
