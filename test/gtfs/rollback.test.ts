// `import --rollback [version]` through the CLI, on versions this file imports itself (it passes run
// alone). Three versions whose boards differ, so each answer shows which version is served; their
// activation order differs from their id order, so "the most recently active" is not "the newest".
import { describe, expect, it } from "vitest";
import { eventually, runCli } from "../support/app-server";
import { EDGE, mutatedFeed, SLOW, suiteGtfsEnv } from "./helpers";

const AT = "2024-06-15T00:20:00-04:00"; // n1 leaves central at 24:30 on the 14th
const versionNamed = (headsign: string) =>
  mutatedFeed(EDGE, { "trips.txt": (t) => t.replace("n1,N,NIGHT,Night Owl", `n1,N,NIGHT,${headsign}`) });

describe("import --rollback", () => {
  const env = suiteGtfsEnv([]);
  const ids: Record<string, number> = {};

  const served = async () => {
    const res = await env.get(`/v1/stops/central/departures?at=${encodeURIComponent(AT)}`);
    return res.body.data.departures[0]?.headsign as string;
  };
  const activeId = async () =>
    ((await env.get("/v1/feeds")).body.data as { id: number; status: string }[]).find((f) => f.status === "active")?.id;
  const rollback = (...args: string[]) =>
    runCli(["import", "--rollback", ...args], { DATABASE_URL: env.db!.url, LOG_LEVEL: "warn" });
  /** The CLI's switch reaches this process's memoised active version by NOTIFY, a moment later. */
  const expectServed = async (name: string) => {
    expect(await activeId()).toBe(ids[name]);
    await eventually(async () => (await served()) === name, 10_000, `the board to come from version ${name}`);
  };

  it(
    "imports versions A, B, C (C served)",
    async () => {
      for (const name of ["A", "B", "C"]) {
        const feed = versionNamed(name);
        try {
          ids[name] = (await env.import(feed.dir, 3)).feedId;
        } finally {
          feed.remove();
        }
      }
      await expectServed("C");
    },
    SLOW,
  );

  it(
    "without a version serves the previously active one again",
    async () => {
      const run = await rollback();
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe(`now serving feed version ${ids.B}\n`);
      await expectServed("B");
      const feeds = (await env.get("/v1/feeds")).body.data as { id: number; status: string }[];
      expect(feeds.map((f) => [f.id, f.status])).toEqual([
        [ids.B, "active"],
        [ids.C, "retired"],
        [ids.A, "retired"],
      ]);
    },
    SLOW,
  );

  it(
    "with a version serves that one, whichever it is",
    async () => {
      const run = await rollback(String(ids.A));
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe(`now serving feed version ${ids.A}\n`);
      await expectServed("A");
    },
    SLOW,
  );

  it(
    "again without a version: the most recently active (B), not the newest import (C)",
    async () => {
      const run = await rollback();
      expect(run.code, run.stderr).toBe(0);
      await expectServed("B");
    },
    SLOW,
  );

  it(
    "refuses a version that is not retained, or not a number, and changes nothing",
    async () => {
      const missing = Math.max(...Object.values(ids)) + 1000;
      const unknown = await rollback(String(missing));
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toBe(`error: no retained feed version ${missing}\n`);
      const notNumber = await rollback("latest");
      expect(notNumber.code).toBe(1);
      expect(notNumber.stderr).toBe("error: not a feed version: latest\n");
      await expectServed("B");
    },
    SLOW,
  );
});

describe("import --rollback with nothing to go back to", () => {
  const env = suiteGtfsEnv([EDGE]);

  it(
    "says so and exits 1",
    async () => {
      const run = await runCli(["import", "--rollback"], { DATABASE_URL: env.db!.url, LOG_LEVEL: "warn" });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe("error: no retained feed version to roll back to\n");
    },
    SLOW,
  );
});
