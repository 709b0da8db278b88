// Which named API key a request presents (`X-API-Key: <key>` or `Authorization: Bearer <key>`). Keys
// are held as SHA-256 digests and looked up by the digest of what was presented: the lookup's timing
// depends on a digest the client cannot steer (preimage resistance), not on how much of a key matched,
// and any number of keys costs one hash. A key file is read again when it changes (checked at most
// every `recheckMs`, on the request path, without a timer), so revoking a key needs no restart.
import { hash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { duplicates, type NamedKey, parseKeyList } from "../config/api-keys";
import type { Logger } from "../logging/logger";

// The one-shot hash: no Hash object per request (measurably cheaper on the request path).
const digest = (s: string) => hash("sha256", s, "base64");

export interface KeyRing {
  /** The name of the key presented, or undefined when none or an unknown one was. */
  nameOf(presented: string | null | undefined): string | undefined;
}

export interface KeyRingOptions {
  /** Keys from the environment (API_KEY, API_KEYS): fixed for the life of the process. */
  keys: NamedKey[];
  /** API_KEYS_FILE: its keys join the fixed ones and follow the file's changes. */
  file?: string | null;
  logger: Logger;
  recheckMs?: number;
  now?: () => number;
}

export function createKeyRing(options: KeyRingOptions): KeyRing | undefined {
  const { logger, file } = options;
  const recheckMs = options.recheckMs ?? 10_000;
  const now = options.now ?? Date.now;
  const build = (fromFile: NamedKey[]) =>
    new Map([...options.keys, ...fromFile].map(({ name, key }) => [digest(key), name] as const));
  if (options.keys.length === 0 && !file) return undefined;
  let byDigest = build([]);
  let fileText: string | undefined;

  /** Takes the file's keys when they are all valid; otherwise keeps the ones it has and says why. */
  const take = (path: string, text: string) => {
    if (text === fileText) return;
    fileText = text;
    const { keys, problems } = parseKeyList(text, "\n");
    problems.push(...duplicates([...options.keys, ...keys]));
    if (problems.length > 0) {
      // A half-edited file must not lock everyone out (or let a revoked key back in): keep the last good set.
      logger.error({ file: path, problems }, "API key file has errors: keeping the keys read before");
      return;
    }
    const before = new Set(byDigest.values());
    byDigest = build(keys);
    const after = new Set(byDigest.values());
    const added = [...after].filter((n) => !before.has(n));
    const removed = [...before].filter((n) => !after.has(n));
    if (started && added.length + removed.length > 0) logger.info({ file: path, added, removed }, "API keys changed");
  };
  let started = false;
  if (file) take(file, readFileSync(file, "utf8")); // load.ts has read it already: it exists and parses
  started = true;

  let checkedAt = now();
  let checking = false;
  const recheck = async (path: string) => {
    checking = true;
    try {
      take(path, await readFile(path, "utf8"));
    } catch (err) {
      logger.error({ file: path, err: { message: (err as Error).message } }, "API key file unreadable: keeping keys");
    } finally {
      checking = false;
    }
  };

  return {
    nameOf(presented) {
      if (file && !checking && now() - checkedAt >= recheckMs) {
        checkedAt = now();
        void recheck(file);
      }
      if (typeof presented !== "string" || presented.length === 0) return undefined;
      return byDigest.get(digest(presented));
    },
  };
}

export function presentedKey(headers: Headers): string | null {
  const key = headers.get("x-api-key");
  if (key) return key;
  const auth = headers.get("authorization");
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, "").trim();
  return null;
}
