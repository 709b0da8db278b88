// Named API keys: `name:key` entries, from API_KEYS (comma-separated) or a file (API_KEYS_FILE, one
// per line, `#` comments). Each client gets its own key, so one can be revoked without rotating the
// others, and logs name the client, never the key. Problems name the entry by position and name only:
// a malformed entry may be a bare key.

export interface NamedKey {
  name: string;
  key: string;
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** Named keys are new, so they get a length that random keys have (`openssl rand -hex 32` gives 64). */
export const MIN_NAMED_KEY_LENGTH = 16;
/** API_KEY, the single unnamed key of earlier releases, appears in logs under this name. */
export const DEFAULT_KEY_NAME = "default";

export interface KeyList {
  keys: NamedKey[];
  problems: string[];
}

/**
 * Parses `name:key` entries separated by `separator`; blank entries and `#` comments are skipped.
 * Duplicates are for the caller to check (`duplicates`) on all its keys together.
 */
export function parseKeyList(text: string, separator: "," | "\n"): KeyList {
  const keys: NamedKey[] = [];
  const problems: string[] = [];
  const entries = text.split(separator).map((e) => e.trim());
  entries.forEach((entry, i) => {
    if (entry === "" || entry.startsWith("#")) return;
    const where = separator === "\n" ? `line ${i + 1}` : `entry ${i + 1}`;
    const colon = entry.indexOf(":");
    if (colon < 0) {
      problems.push(`${where}: expected name:key`);
      return;
    }
    const name = entry.slice(0, colon).trim();
    const key = entry.slice(colon + 1).trim();
    if (!NAME.test(name)) {
      problems.push(`${where}: the name must be 1 to 64 letters, digits, '.', '_' or '-'`);
      return;
    }
    if (key.length < MIN_NAMED_KEY_LENGTH) {
      problems.push(`${where} (${name}): the key must be at least ${MIN_NAMED_KEY_LENGTH} characters`);
      return;
    }
    keys.push({ name, key });
  });
  return { keys, problems };
}

/** Two entries with one name cannot be revoked apart; one key under two names cannot be told apart. */
export function duplicates(keys: NamedKey[]): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const values = new Map<string, string>();
  for (const { name, key } of keys) {
    if (names.has(name)) problems.push(`the name ${name} is given twice`);
    names.add(name);
    const other = values.get(key);
    if (other !== undefined) problems.push(`${other} and ${name} have the same key`);
    else values.set(key, name);
  }
  return problems;
}
