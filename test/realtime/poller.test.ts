// The poll loop on a clock the test drives: one poll per turn, backoff with jitter after failures,
// the interval again after a success, and validators carried from one poll to the next.
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryCoordinator } from "../../src/modules/realtime/coordinator";
import { backoffMs, SourcePoller } from "../../src/modules/realtime/poller";
import { encodeFeed, type FeedServer, startFeedServer } from "./helpers";

describe("backoff", () => {
  it("doubles from the interval up to the cap, with equal jitter (half fixed, half random)", () => {
    const at = (random: number) => [1, 2, 3, 4, 5].map((n) => backoffMs(n, 1000, 5000, () => random));
    expect(at(0)).toEqual([500, 1000, 2000, 2500, 2500]);
    expect(at(1)).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(at(0.5)).toEqual([750, 1500, 3000, 3750, 3750]);
  });
});

describe("one source's poll loop", () => {
  let server: FeedServer;
  beforeAll(async () => {
    server = await startFeedServer();
  });
  afterAll(() => server?.close());

  function poller(path: string, clock: { t: number }) {
    const snapshots: string[] = [];
    const p = new SourcePoller({
      source: "trip_updates",
      url: server.url(path),
      headers: { "x-api-key": "k-123" },
      intervalMs: 30_000,
      timeoutMs: 2000,
      backoffMaxMs: 300_000,
      coordinator: memoryCoordinator(() => clock.t),
      logger: pino({ level: "silent" }),
      random: () => 1,
      now: () => clock.t,
      onSnapshot: async (version) => {
        snapshots.push(version);
      },
      describeLastGood: () => "none yet",
    });
    return { p, snapshots };
  }
  const hits = (path: string) => server.requests.filter((r) => r.path === path).length;

  it("polls once per turn: before the turn ends it waits, without a request", async () => {
    const clock = { t: 1_000_000 };
    const { p, snapshots } = poller("/ok", clock);
    server.set({ kind: "feed", bytes: encodeFeed(1000, []) }, "/ok");
    expect(await p.cycle()).toMatchObject({ outcome: "published" });
    expect(snapshots).toHaveLength(1);
    expect(server.requests.at(-1)?.headers["x-api-key"]).toBe("k-123");
    clock.t += 29_000;
    const early = await p.cycle();
    expect(early.outcome).toBe("waiting");
    expect(early.next).toBeGreaterThanOrEqual(1000);
    expect(hits("/ok")).toBe(1);
    clock.t += 1000;
    expect((await p.cycle()).outcome).toBe("unchanged"); // same bytes: not published again
    expect(hits("/ok")).toBe(2);
  });

  it("backs off exponentially after failures and returns to the interval after a success", async () => {
    const clock = { t: 5_000_000 };
    const { p } = poller("/flaky", clock);
    server.set({ kind: "status", status: 503 }, "/flaky");
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await p.cycle();
      expect(r.outcome).toBe("failed");
      waits.push(r.next);
      clock.t += r.next; // drive the clock to the end of the turn
    }
    expect(waits).toEqual([30_000, 60_000, 120_000, 240_000, 300_000]);
    expect(p.stats).toMatchObject({ failures: 5, consecutive_failures: 5, last_error: "HTTP 503 Service Unavailable" });
    server.set({ kind: "feed", bytes: encodeFeed(2000, []), etag: '"e1"' }, "/flaky");
    expect(await p.cycle()).toEqual({ outcome: "published", next: 30_000 });
    expect(p.stats.consecutive_failures).toBe(0);
    clock.t += 30_000;
    // The ETag of the last answer goes out with the next poll.
    expect((await p.cycle()).outcome).toBe("not-modified");
    expect(server.requests.at(-1)?.headers["if-none-match"]).toBe('"e1"');
  });
});
