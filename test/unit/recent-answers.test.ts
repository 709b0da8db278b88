// The fast path's memory of recent answers holds whole prepared answers, which it keeps alive after the
// answer cache behind it has let them go: it must stay within a byte bound whatever the answers' sizes
// (a board with limit=500 and a day's window is ~150 kB, and `at` makes every URL new).
import { describe, expect, it } from "vitest";
import { Answer } from "../../src/http/answer";
import { createRecentAnswers, RECENT_ANSWERS_MAX_BYTES } from "../../src/http/recent-answers";

const policy = { cacheControl: "public, max-age=60" };
const compression = { enabled: false, minBytes: 1024 };
const get = (url: string) => new Request(url);

describe("recent answers", () => {
  it("keep no more bytes of answers than their bound, and the newest ones stay", () => {
    const recent = createRecentAnswers(() => "feed-1");
    const answer = new Answer(`"${"x".repeat(1024 * 1024)}"`, policy, compression); // ~1.2 MB as counted
    const urls = Array.from({ length: 100 }, (_, i) => `http://api.test/v1/stops/s/departures?at=${i}`);
    for (const url of urls)
      recent.remember(get(url), {
        answer,
        route: "/v1/stops/:stopId/departures",
        stamp: "feed-1",
        until: Number.POSITIVE_INFINITY,
      });
    const kept = urls.filter((url) => recent.match(get(url)) !== undefined);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length * answer.size).toBeLessThanOrEqual(RECENT_ANSWERS_MAX_BYTES);
    expect(recent.bytes).toBe(kept.length * answer.size);
    expect(kept.at(-1)).toBe(urls.at(-1));
  });

  it("never keep one answer that would take a large share of the bound, and give back an expired one's bytes", () => {
    const recent = createRecentAnswers(() => "feed-1");
    const huge = new Answer(`"${"x".repeat(RECENT_ANSWERS_MAX_BYTES / 8)}"`, policy, compression);
    recent.remember(get("http://api.test/v1/stops?limit=500"), {
      answer: huge,
      route: "/v1/stops",
      stamp: "feed-1",
      until: Number.POSITIVE_INFINITY,
    });
    expect(recent.match(get("http://api.test/v1/stops?limit=500"))).toBeUndefined();

    const small = new Answer('{"data":[]}', policy, compression);
    recent.remember(get("http://api.test/v1/feeds"), { answer: small, route: "/v1/feeds", stamp: "feed-1", until: 0 });
    expect(recent.bytes).toBe(small.size);
    expect(recent.match(get("http://api.test/v1/feeds"))).toBeUndefined(); // expired: dropped
    expect(recent.bytes).toBe(0);
  });
});
