import { describe, expect, it } from "vitest";
import { serviceDayRanges } from "../../src/modules/gtfs/api/departures";
import { parseAt } from "../../src/modules/gtfs/api/params";
import { searchKey } from "../../src/modules/gtfs/domain/search-key";
import { formatInZone } from "../../src/modules/gtfs/domain/timezone";

describe("board windows → service days", () => {
  it("a window at 00:30 also scans the previous service day beyond 24:00", () => {
    const tz = "Europe/Berlin";
    const at = Date.parse("2024-06-15T00:30:00+02:00");
    const days = serviceDayRanges(tz, at, at + 60 * 60_000, 26 * 3600);
    expect(days.map((d) => [d.date, d.lo, d.hi])).toEqual([
      ["2024-06-14", 24.5 * 3600, 25.5 * 3600 - 1],
      ["2024-06-15", 30 * 60, 90 * 60 - 1],
    ]);
    for (const d of days) expect(formatInZone(tz, (d.base + d.lo) * 1000)).toBe("2024-06-15T00:30:00+02:00");
  });

  it("skips days whose latest departure ends before the window, and honours DST bases", () => {
    const tz = "America/New_York";
    const at = Date.parse("2024-03-09T23:00:00-05:00");
    const days = serviceDayRanges(tz, at, at + 3600_000, 25 * 3600);
    // 2024-03-10's base is 23:00 on the 9th (noon EDT minus 12 h), so its first hour is in the window.
    expect(days.map((d) => [d.date, d.lo, d.hi])).toEqual([
      ["2024-03-09", 23 * 3600, 24 * 3600 - 1],
      ["2024-03-10", 0, 3600 - 1],
    ]);
    expect(serviceDayRanges(tz, at, at + 3600_000, 20 * 3600).map((d) => d.date)).toEqual(["2024-03-10"]);
  });
});

describe("board windows → service days at their edges", () => {
  it("keeps a day whose one second in the window is its last departure, 24:00:00", () => {
    const tz = "Europe/Zurich";
    const at = Date.parse("2024-06-17T00:00:00+02:00");
    expect(serviceDayRanges(tz, at, at + 60_000, 24 * 3600).map((d) => [d.date, d.lo, d.hi])).toEqual([
      ["2024-06-16", 24 * 3600, 24 * 3600],
      ["2024-06-17", 0, 59],
    ]);
  });

  it("keeps the next day when its service day starts before midnight (spring forward)", () => {
    const tz = "America/New_York";
    const at = Date.parse("2024-03-09T23:00:00-05:00");
    // the window ends on the 9th, but the 10th's base is 23:00 on the 9th
    expect(serviceDayRanges(tz, at, at + 45 * 60_000, 25 * 3600).map((d) => [d.date, d.lo, d.hi])).toEqual([
      ["2024-03-09", 23 * 3600, 23.75 * 3600 - 1],
      ["2024-03-10", 0, 45 * 60 - 1],
    ]);
  });
});

describe("at parameter", () => {
  it("accepts offsets, Z and feed-local wall time; rejects junk", () => {
    expect(parseAt("2024-03-10T03:00:00-04:00", "UTC")).toBe(Date.parse("2024-03-10T07:00:00Z"));
    expect(parseAt("2024-03-10T07:00Z", "America/New_York")).toBe(Date.parse("2024-03-10T07:00:00Z"));
    expect(parseAt("2024-03-10T03:00", "America/New_York")).toBe(Date.parse("2024-03-10T07:00:00Z"));
    expect(parseAt("2024-11-03T12:00:30.5", "America/New_York")).toBe(Date.parse("2024-11-03T17:00:30.500Z"));
    expect(parseAt("2024-03-10T03:00:00+0530", "UTC")).toBe(Date.parse("2024-03-09T21:30:00Z"));
    // Wall times a DST change skips or repeats: after the gap, and the earlier of the two.
    expect(parseAt("2024-03-10T02:30", "America/New_York")).toBe(Date.parse("2024-03-10T07:30:00Z")); // 03:30 EDT
    expect(parseAt("2024-03-10T01:59", "America/New_York")).toBe(Date.parse("2024-03-10T06:59:00Z")); // EST
    expect(parseAt("2024-11-03T01:30", "America/New_York")).toBe(Date.parse("2024-11-03T05:30:00Z")); // EDT
    expect(parseAt("2024-11-03T02:00", "America/New_York")).toBe(Date.parse("2024-11-03T07:00:00Z")); // EST
    expect(parseAt("2024-03-31T02:30", "Europe/Warsaw")).toBe(Date.parse("2024-03-31T01:30:00Z")); // 03:30 CEST
    expect(parseAt("2024-10-27T02:30", "Europe/Warsaw")).toBe(Date.parse("2024-10-27T00:30:00Z")); // CEST
    expect(parseAt("2024-10-27T03:00", "Europe/Warsaw")).toBe(Date.parse("2024-10-27T02:00:00Z")); // CET
    // Lord Howe falls back half an hour: 01:45 occurs at +11:00 and again at +10:30.
    expect(parseAt("2024-04-07T01:45", "Australia/Lord_Howe")).toBe(Date.parse("2024-04-06T14:45:00Z"));
    for (const bad of ["now", "2024-02-30T10:00", "2024-03-10 03:00", "2024-03-10T25:00", "1710000000"])
      expect(() => parseAt(bad, "UTC")).toThrow(/'at'/);
  });
});

describe("search keys", () => {
  it("fold case, accents and special letters", () => {
    expect(searchKey("Zürich  Straße")).toBe("zurich strasse");
    expect(searchKey("SÃO PAULO")).toBe("sao paulo");
    expect(searchKey("Øresund Ærø Łódź")).toBe("oresund aero lodz");
    expect(searchKey("Ｆｕｌｌｗｉｄｔｈ")).toBe("fullwidth");
  });
});
