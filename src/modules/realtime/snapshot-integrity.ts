// Snapshots shared through Redis are untrusted input, like cache entries (src/cache/signed-cache.ts):
// whoever can write to Redis could otherwise make every replica show invented delays, cancellations or
// alerts, and an alert's text and link reach riders. The replica that polls signs what it publishes
// (HMAC-SHA256 under a key derived from API_SECRET, which every replica shares and no client knows),
// over the source, version, fetch time and bytes; the others load a snapshot only when its tag checks
// out, and otherwise keep the one they have.
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import type { SourceName, StoredSnapshot } from "./coordinator";

/** The HMAC key for shared snapshots, or undefined without API_SECRET (snapshots then go unsigned). */
export function snapshotSigningKey(secret: string | null): Buffer | undefined {
  if (!secret) return undefined;
  return Buffer.from(hkdfSync("sha256", secret, "transportation-api", "realtime snapshot MAC v1", 32));
}

/** The tag of a snapshot: each field length-prefixed, so no two different snapshots read the same. */
export function snapshotTag(key: Buffer, source: SourceName, s: StoredSnapshot): Buffer {
  const mac = createHmac("sha256", key);
  for (const field of [Buffer.from(source), Buffer.from(s.version), Buffer.from(String(s.fetchedAt)), s.bytes])
    mac.update(`${field.byteLength}:`).update(field);
  return mac.digest();
}

export function tagMatches(key: Buffer, source: SourceName, s: StoredSnapshot, tag: Buffer | null): boolean {
  if (!tag) return false;
  const expected = snapshotTag(key, source, s);
  return tag.byteLength === expected.byteLength && timingSafeEqual(tag, expected);
}

/** A stored snapshot that this deployment did not sign, or whose fields are not what a poller writes. */
export class UntrustedSnapshotError extends Error {
  override name = "UntrustedSnapshotError";
}
