// The deploy shell scripts: shellcheck-clean, and create-secret.sh builds the Secret from the environment
// without putting values on kubectl's command line.

import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { kubectlMissingReason, parseManifests } from "../../scripts/k8s/manifests";
import { schemaErrors } from "../../scripts/k8s/schema";
import { BUN, REPO_ROOT } from "../support/repo";
import { FakeKubectlState, fakeKubectlBin, SCRIPTS, script } from "./helpers";

const shellScripts = [
  ...readdirSync(SCRIPTS)
    .filter((f) => f.endsWith(".sh"))
    .map((f) => join(SCRIPTS, f)),
  join(REPO_ROOT, "test", "ops", "fake-kubectl", "kubectl"),
];

const hasShellcheck = !spawnSync("shellcheck", ["--version"]).error;
if (!hasShellcheck) console.warn("SKIPPED shellcheck test: shellcheck is not installed (apt-get install shellcheck)");
const missingKubectl = kubectlMissingReason();
if (missingKubectl) console.warn(`SKIPPED create-secret test: ${missingKubectl}`);

const SECRETS = {
  DATABASE_URL: "postgresql://transport:db-Pa55word@db.internal:5432/transportation_db",
  REDIS_URL: "redis://:redis-Pa55word@redis.internal:6379/0",
  API_KEY: "key-0123456789abcdef",
  API_SECRET: "secret-fedcba9876543210",
};

describe("deploy scripts", () => {
  const cleanup: string[] = [];
  afterAll(() => {
    for (const d of cleanup) rmSync(d, { recursive: true, force: true });
  });

  (hasShellcheck ? it : it.skip)(
    "pass shellcheck",
    () => {
      expect(shellScripts.length).toBeGreaterThanOrEqual(5);
      const result = spawnSync("shellcheck", ["--severity=style", ...shellScripts], { encoding: "utf8" });
      expect(result.stdout + result.stderr).toBe("");
      expect(result.status).toBe(0);
    },
    60_000,
  );

  it("use strict mode", () => {
    for (const file of shellScripts) expect(readFileSync(file, "utf8")).toMatch(/^set -euo pipefail$/m);
  });

  (missingKubectl ? it.skip : it)(
    "create the Secret from environment variables, never passing a value as an argument",
    async () => {
      const fake = new FakeKubectlState();
      const state = fake.dir;
      const bin = fakeKubectlBin();
      cleanup.push(state, bin);
      const real = spawnSync("bash", ["-c", "command -v kubectl"], { encoding: "utf8" }).stdout.trim();
      const result = await script("create-secret.sh", ["--namespace", "transportation-system"], {
        ...SECRETS,
        PATH_PREFIX: bin,
        FAKE_KUBECTL_STATE: state,
        BUN,
        FAKE_REAL_KUBECTL: real,
      });
      expect(result.stderr).toMatch(/transportation-secrets applied/);
      expect(result.code).toBe(0);

      const calls = fake.calls().join("\n");
      for (const value of Object.values(SECRETS)) {
        expect(calls).not.toContain(value);
        expect(result.stdout + result.stderr).not.toContain(value);
      }
      const [applied] = fake.applied() as [string];
      const [secret] = parseManifests(applied) as unknown as Array<{ data: Record<string, string> }>;
      expect(schemaErrors(parseManifests(applied))).toEqual([]);
      const decoded = Object.fromEntries(
        Object.entries(secret!.data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
      );
      expect(decoded).toEqual({
        "database-url": SECRETS.DATABASE_URL,
        "redis-url": SECRETS.REDIS_URL,
        "api-key": SECRETS.API_KEY,
        "api-secret": SECRETS.API_SECRET,
      });
    },
    60_000,
  );

  (missingKubectl ? it.skip : it)(
    "create a Secret with only the keys asked for (the backup namespace needs database-url alone)",
    async () => {
      const fake = new FakeKubectlState();
      const state = fake.dir;
      const bin = fakeKubectlBin();
      cleanup.push(state, bin);
      const real = spawnSync("bash", ["-c", "command -v kubectl"], { encoding: "utf8" }).stdout.trim();
      const result = await script(
        "create-secret.sh",
        ["--namespace", "transportation-backup", "--keys", "database-url"],
        {
          DATABASE_URL: SECRETS.DATABASE_URL,
          PATH_PREFIX: bin,
          FAKE_KUBECTL_STATE: state,
          BUN,
          FAKE_REAL_KUBECTL: real,
        },
      );
      expect(result.stderr).toContain("applied in namespace transportation-backup (keys: database-url)");
      expect(result.code).toBe(0);
      const [secret] = parseManifests(fake.applied()[0]!) as unknown as Array<{
        metadata: { namespace: string };
        data: Record<string, string>;
      }>;
      expect(Object.keys(secret!.data)).toEqual(["database-url"]);
      expect(secret!.metadata.namespace).toBe("transportation-backup");
      expect(fake.calls().join("\n")).not.toContain(SECRETS.DATABASE_URL);

      const unknown = await script("create-secret.sh", ["--keys", "database-url,password"], {
        DATABASE_URL: SECRETS.DATABASE_URL,
        PATH_PREFIX: bin,
        FAKE_KUBECTL_STATE: state,
        BUN,
      });
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toContain("unknown key 'password'");
    },
    60_000,
  );

  it("refuse to create a Secret with values missing, naming only the variables", async () => {
    const bin = fakeKubectlBin();
    const fake = new FakeKubectlState();
    const state = fake.dir;
    cleanup.push(state, bin);
    const result = await script("create-secret.sh", [], {
      API_KEY: SECRETS.API_KEY,
      PATH_PREFIX: bin,
      FAKE_KUBECTL_STATE: state,
      BUN,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/set DATABASE_URL REDIS_URL API_SECRET/);
    expect(result.stderr).not.toContain(SECRETS.API_KEY);
    expect(fake.called()).toBe(false); // kubectl was never run
  }, 60_000);
});
