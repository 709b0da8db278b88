// Named API keys: several clients, each revocable on its own, named (never shown) in the access log.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load";
import { createKeyRing } from "../../src/http/key-ring";
import { eventually } from "../support/app-server";
import { createTestApp } from "../support/test-app";

const ALPHA = "alpha-key-0123456789abcdef";
const BETA = "beta-key-0123456789abcdef0";
const LEGACY = "legacy-key-000";
const dir = mkdtempSync(join(tmpdir(), "tapi-keys-"));
const empty = join(dir, "empty.yaml");
writeFileSync(empty, "");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ env, file: empty });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.key}: ${p.problem}`);
    throw err;
  }
  return [];
}

describe("named API keys", () => {
  it("accept each client's key, log the key's name and never the key, and refuse unknown ones", async () => {
    const t = await createTestApp({ API_KEYS: `alpha:${ALPHA}, beta:${BETA}`, API_KEY: LEGACY });
    try {
      for (const [key, name] of [
        [ALPHA, "alpha"],
        [BETA, "beta"],
        [LEGACY, "default"], // API_KEY keeps working, under the name "default"
      ] as const) {
        const res = await t.fetch("/v1/nothing", { headers: { "x-api-key": key, "x-request-id": `as-${name}` } });
        expect(res.status).toBe(404); // past the key check
        const line = t.logLines().find((l) => l.msg === "request" && l.req_id === `as-${name}`);
        expect(line).toMatchObject({ client: name, route: "/v1/nothing", status: 404 });
      }
      const wrong = await t.fetch("/v1/nothing", { headers: { authorization: `Bearer ${ALPHA}x` } });
      expect(wrong.status).toBe(401);
      const everything = JSON.stringify(t.logLines());
      for (const key of [ALPHA, BETA, LEGACY]) expect(everything).not.toContain(key);
    } finally {
      await t.close();
    }
  });

  it("reports malformed entries by position and name, without the key", () => {
    expect(problemsOf({ API_KEYS: `alpha:${ALPHA},${BETA},bad name:${BETA},short:tiny,alpha:${BETA}x` })).toEqual([
      "API_KEYS: entry 2: expected name:key",
      "API_KEYS: entry 3: the name must be 1 to 64 letters, digits, '.', '_' or '-'",
      "API_KEYS: entry 4 (short): the key must be at least 16 characters",
      "API_KEYS: the name alpha is given twice",
    ]);
    expect(problemsOf({ API_KEYS: `a:${ALPHA},b:${ALPHA}` })).toEqual(["API_KEYS: a and b have the same key"]);
    expect(problemsOf({ API_KEY: LEGACY, API_KEYS: `default:${ALPHA}` })).toEqual([
      "API_KEYS: the name default is API_KEY's: choose another",
    ]);
    const all = problemsOf({ API_KEYS: `${BETA},short:tiny` }).join("\n");
    expect(all).not.toContain(BETA);
    expect(all).not.toContain("tiny");
    // Named keys alone satisfy production's need for a key.
    expect(problemsOf({ NODE_ENV: "production", API_KEYS: `alpha:${ALPHA}` })).toEqual([]);
  });

  it("follows a key file: a key removed from it stops working without a restart", async () => {
    const file = join(dir, "keys");
    writeFileSync(file, `# clients\nalpha:${ALPHA}\nbeta:${BETA}\n`);
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    let clock = 0;
    const ring = createKeyRing({ keys: [], file, logger, recheckMs: 1000, now: () => clock })!;
    expect([ring.nameOf(ALPHA), ring.nameOf(BETA), ring.nameOf("nope")]).toEqual(["alpha", "beta", undefined]);

    writeFileSync(file, `alpha:${ALPHA}\n`); // revoke beta
    expect(ring.nameOf(BETA)).toBe("beta"); // not re-read before recheckMs
    clock = 1000;
    await eventually(async () => ring.nameOf(BETA) === undefined, 5000, "beta revoked");
    expect(ring.nameOf(ALPHA)).toBe("alpha");
    expect(lines).toContainEqual(expect.objectContaining({ msg: "API keys changed", added: [], removed: ["beta"] }));

    // A broken edit keeps the last good keys, so nobody is locked out and nothing revoked comes back.
    writeFileSync(file, `alpha:${ALPHA}\nbeta:${BETA}\ngamma\n`);
    clock = 2000;
    await eventually(
      async () => {
        ring.nameOf(ALPHA);
        return lines.some((l) => l.msg === "API key file has errors: keeping the keys read before");
      },
      5000,
      "the error",
    );
    expect([ring.nameOf(ALPHA), ring.nameOf(BETA)]).toEqual(["alpha", undefined]);
    expect(JSON.stringify(lines)).not.toContain(ALPHA);
  });
});
