// The fast path's memory (src/http/recent-answers.ts) rule by rule: only GETs are remembered and
// served, long URLs are never kept, an answer negotiated for an Accept header is served to that header
// only, an answer's deadline is exclusive, and both bounds (entries, bytes) hold to the unit: full up to
// the bound, emptied by the one after.
import { describe, expect, it } from "vitest";
import { Answer } from "../../src/http/answer";
import {
  createRecentAnswers,
  RECENT_ANSWERS_MAX_BYTES,
  RECENT_ANSWERS_MAX_ENTRIES,
} from "../../src/http/recent-answers";

const policy = { cacheControl: "public, max-age=60" };
const compression = { enabled: false, minBytes: 1024 };
const small = new Answer('{"data":[]}', policy, compression);
const entry = (answer = small, more: { until?: number; accept?: string | null } = {}) => ({
  answer,
  route: "/v1/stops",
  stamp: "feed-1",
  until: Number.POSITIVE_INFINITY,
  ...more,
});
const url = (i: number | string) => `http://api.test/v1/stops?q=${i}`;
const get = (u: string, headers: Record<string, string> = {}) => new Request(u, { headers });

/** A real Answer whose size (as the bound counts it) is exactly `size`, found by its body's length. */
function answerOfSize(size: number): Answer {
  const make = (length: number) => new Answer(`"${"x".repeat(length)}"`, policy, compression);
  let [low, high] = [0, size];
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (make(mid).size < size) low = mid + 1;
    else high = mid;
  }
  const answer = make(low);
  expect(answer.size).toBe(size);
  return answer;
}

describe("recent answers: what is remembered and served", () => {
  it("remember and serve GETs only", () => {
    const recent = createRecentAnswers(() => "feed-1");
    recent.remember(get(url("get")), entry());
    expect(recent.match(get(url("get")))).toBeDefined();
    for (const method of ["HEAD", "POST", "DELETE"]) {
      expect(recent.match(new Request(url("get"), { method })), method).toBeUndefined();
      recent.remember(new Request(url(method), { method }), entry());
      expect(recent.match(get(url(method))), method).toBeUndefined();
    }
    expect(recent.bytes).toBe(small.size);
  });

  it("never keep a URL longer than 512 characters", () => {
    const recent = createRecentAnswers(() => "feed-1");
    const ofLength = (n: number) => url("").padEnd(n, "x");
    recent.remember(get(ofLength(512)), entry());
    recent.remember(get(ofLength(513)), entry());
    expect(recent.match(get(ofLength(512)))).toBeDefined();
    expect(recent.match(get(ofLength(513)))).toBeUndefined();
  });

  it("serve an answer negotiated for an Accept header to that header only", () => {
    const recent = createRecentAnswers(() => "feed-1");
    recent.remember(get(url("csv")), entry(small, { accept: "text/csv" }));
    recent.remember(get(url("none")), entry(small, { accept: null }));
    recent.remember(get(url("any")), entry());
    expect(recent.match(get(url("csv"), { accept: "text/csv" }))).toBeDefined();
    expect(recent.match(get(url("csv"), { accept: "application/json" }))).toBeUndefined();
    expect(recent.match(get(url("csv")))).toBeUndefined();
    expect(recent.match(get(url("none")))).toBeDefined();
    expect(recent.match(get(url("none"), { accept: "text/csv" }))).toBeUndefined();
    expect(recent.match(get(url("any"), { accept: "text/csv" }))).toBeDefined();
    expect(recent.match(get(url("any")))).toBeDefined();
    // A miss on Accept leaves the entry for the requests it fits.
    expect(recent.match(get(url("csv"), { accept: "text/csv" }))).toBeDefined();
  });

  it("stop serving an answer at its deadline, and give its bytes back once", () => {
    const recent = createRecentAnswers(() => "feed-1");
    recent.remember(get(url("now")), entry(small, { until: Date.now() }));
    expect(recent.match(get(url("now")))).toBeUndefined();
    expect(recent.bytes).toBe(0);
    expect(recent.match(get(url("now")))).toBeUndefined();
    expect(recent.bytes).toBe(0);
  });
});

describe("recent answers: what they depend on", () => {
  it("stop serving an answer once the feed version (or, merged with realtime, the snapshots) changed", () => {
    let [feed, live] = ["feed-1", "snap-1"];
    const recent = createRecentAnswers(
      () => feed,
      () => live,
    );
    recent.remember(get(url("static")), entry());
    recent.remember(get(url("live")), { ...entry(), stamp: "snap-1", live: true });
    live = "snap-2";
    expect(recent.match(get(url("static")))).toBeDefined();
    expect(recent.match(get(url("live")))).toBeUndefined();
    feed = "feed-2";
    expect(recent.match(get(url("static")))).toBeUndefined();
    expect(recent.bytes).toBe(0);
  });
});

describe("recent answers: the bounds", () => {
  it(`keep ${RECENT_ANSWERS_MAX_ENTRIES} URLs, and start over at the next one`, () => {
    const recent = createRecentAnswers(() => "feed-1");
    for (let i = 0; i < RECENT_ANSWERS_MAX_ENTRIES; i++) recent.remember(get(url(i)), entry());
    expect(recent.bytes).toBe(RECENT_ANSWERS_MAX_ENTRIES * small.size);
    for (const i of [0, 1, RECENT_ANSWERS_MAX_ENTRIES - 1]) expect(recent.match(get(url(i))), `#${i}`).toBeDefined();
    // Remembering a URL again replaces it rather than taking a new place.
    recent.remember(get(url(0)), entry());
    expect(recent.match(get(url(1)))).toBeDefined();

    recent.remember(get(url("next")), entry());
    expect(recent.match(get(url("next")))).toBeDefined();
    expect(recent.match(get(url(0)))).toBeUndefined();
    expect(recent.match(get(url(RECENT_ANSWERS_MAX_ENTRIES - 1)))).toBeUndefined();
    expect(recent.bytes).toBe(small.size);
  });

  it("keep answers up to the byte bound exactly, one answer at most a sixteenth of it", () => {
    const recent = createRecentAnswers(() => "feed-1");
    const share = answerOfSize(RECENT_ANSWERS_MAX_BYTES / 16);
    for (let i = 0; i < 16; i++) recent.remember(get(url(i)), entry(share));
    expect(recent.bytes).toBe(RECENT_ANSWERS_MAX_BYTES);
    for (let i = 0; i < 16; i++) expect(recent.match(get(url(i))), `#${i}`).toBeDefined();

    recent.remember(get(url("over")), entry(small));
    expect(recent.match(get(url("over")))).toBeDefined();
    expect(recent.match(get(url(0)))).toBeUndefined();
    expect(recent.bytes).toBe(small.size);

    const larger = answerOfSize(RECENT_ANSWERS_MAX_BYTES / 16 + 2);
    recent.remember(get(url("larger")), entry(larger));
    expect(recent.match(get(url("larger")))).toBeUndefined();
    expect(recent.bytes).toBe(small.size);
  });
});
