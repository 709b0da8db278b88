import { describe, expect, it } from "vitest";
import { frequencyDeparturesBetween, frequencyStarts } from "../../src/modules/gtfs/domain/frequencies";
import {
  addDays,
  formatGtfsTime,
  parseGtfsDate,
  parseGtfsTime,
  weekdayIndex,
} from "../../src/modules/gtfs/domain/time";
import { formatInZone, gtfsInstant, localDate, serviceDayBase } from "../../src/modules/gtfs/domain/timezone";
import { MAX_CALENDAR_DAYS, resolveServiceDates } from "../../src/modules/gtfs/import/derived/service-dates";
import { IssueCollector } from "../../src/modules/gtfs/import/issues";

describe("GTFS times and dates", () => {
  it("parses times beyond 24:00 and single-digit hours, rejects malformed ones", () => {
    expect(parseGtfsTime("08:05:09")).toBe(8 * 3600 + 5 * 60 + 9);
    expect(parseGtfsTime("7:00:00")).toBe(7 * 3600);
    expect(parseGtfsTime("25:55:00")).toBe(25 * 3600 + 55 * 60);
    expect(parseGtfsTime(" 100:00:00 ")).toBe(100 * 3600);
    for (const bad of ["", "8:5:00", "08:60:00", "08:00:61", "08:00", "aa:00:00", "08-00-00", "08:00:00x"])
      expect(parseGtfsTime(bad)).toBeUndefined();
    expect(formatGtfsTime(26 * 3600 + 3 * 60)).toBe("26:03:00");
    expect(formatGtfsTime(5)).toBe("00:00:05");
  });

  it("parses real calendar dates only", () => {
    expect(parseGtfsDate("20240229")).toBe("2024-02-29");
    expect(parseGtfsDate("20230229")).toBeUndefined();
    expect(parseGtfsDate("20241301")).toBeUndefined();
    expect(parseGtfsDate("2024-01-01")).toBeUndefined();
    expect(addDays("2024-02-28", 2)).toBe("2024-03-01");
    expect(weekdayIndex("2024-03-11")).toBe(0); // Monday
    expect(weekdayIndex("2024-03-10")).toBe(6); // Sunday
  });
});

describe("instants from noon minus 12h", () => {
  it("spring-forward day in Europe/Warsaw (sample-gtfs-feed's DST trip)", () => {
    const tz = "Europe/Warsaw";
    // Noon CEST on 2019-03-31 minus 12h is 23:00 CET on the 30th, so times after the change are an hour later.
    expect(formatInZone(tz, serviceDayBase(tz, "2019-03-31"))).toBe("2019-03-30T23:00:00+01:00");
    expect(formatInZone(tz, gtfsInstant(tz, "2019-03-30", parseGtfsTime("25:58:00")!))).toBe(
      "2019-03-31T01:58:00+01:00",
    );
    expect(formatInZone(tz, gtfsInstant(tz, "2019-03-30", parseGtfsTime("26:03:00")!))).toBe(
      "2019-03-31T03:03:00+02:00",
    );
  });

  it("fall-back day in America/New_York gives both 01:30s", () => {
    const tz = "America/New_York";
    expect(formatInZone(tz, gtfsInstant(tz, "2024-11-03", 30 * 60))).toBe("2024-11-03T01:30:00-04:00");
    expect(formatInZone(tz, gtfsInstant(tz, "2024-11-03", 90 * 60))).toBe("2024-11-03T01:30:00-05:00");
    expect(formatInZone(tz, gtfsInstant(tz, "2024-11-03", 3 * 3600 + 1800))).toBe("2024-11-03T03:30:00-05:00");
    expect(formatInZone(tz, gtfsInstant(tz, "2024-03-10", 30 * 60))).toBe("2024-03-09T23:30:00-05:00");
    expect(formatInZone(tz, gtfsInstant(tz, "2024-03-10", 3 * 3600 + 1800))).toBe("2024-03-10T03:30:00-04:00");
    expect(localDate(tz, Date.parse("2024-03-10T04:30:00Z"))).toBe("2024-03-09");
  });

  it("formats negative and fractional offsets", () => {
    expect(formatInZone("Asia/Kolkata", Date.parse("2024-01-01T00:00:00Z"))).toBe("2024-01-01T05:30:00+05:30");
    expect(formatInZone("UTC", Date.parse("2024-01-01T00:00:00Z"))).toBe("2024-01-01T00:00:00+00:00");
  });
});

describe("service days", () => {
  it("combines calendar weekdays with added and removed dates; supports calendar_dates-only services", () => {
    const dates = resolveServiceDates(
      [
        {
          serviceId: "WK",
          days: [true, true, true, true, true, false, false],
          startDate: "2024-07-01",
          endDate: "2024-07-07",
        },
      ],
      [
        { serviceId: "WK", date: "2024-07-04", exceptionType: 2 },
        { serviceId: "WK", date: "2024-07-06", exceptionType: 1 },
        { serviceId: "ONLY", date: "2024-07-10", exceptionType: 1 },
        { serviceId: "GONE", date: "2024-07-10", exceptionType: 2 },
      ],
      new IssueCollector(),
    );
    expect(dates.get("WK")).toEqual(["2024-07-01", "2024-07-02", "2024-07-03", "2024-07-05", "2024-07-06"]);
    expect(dates.get("ONLY")).toEqual(["2024-07-10"]);
    expect(dates.get("GONE")).toBeUndefined();
  });
});

describe("long calendar ranges", () => {
  const weekdays = [true, true, true, true, true, false, false];
  const resolve = (startDate: string, endDate: string, today: string) => {
    const issues = new IssueCollector();
    const dates = resolveServiceDates(
      [{ serviceId: "S", days: weekdays, startDate, endDate, line: 2 }],
      [],
      issues,
      today,
    );
    return { dates: dates.get("S")!, issues };
  };

  it("serves a long-running range around the import date: a year back, the rest ahead", () => {
    const { dates, issues } = resolve("2020-01-01", "2099-12-31", "2026-11-26");
    expect(dates).toContain("2026-11-26");
    expect(dates[0]).toBe("2025-11-25"); // 366 days before, a Tuesday
    expect(dates.at(-1)! <= addDays("2025-11-25", MAX_CALENDAR_DAYS - 1)).toBe(true);
    expect(dates.at(-1)! > addDays("2026-11-26", 700)).toBe(true);
    expect(issues.warningSummary()).toEqual([
      expect.objectContaining({
        count: 1,
        examples: [expect.objectContaining({ line: 2, value: "2020-01-01..2099-12-31" })],
      }),
    ]);
  });

  it("starts at start_date when it is later, and ends at end_date when it is earlier", () => {
    const future = resolve("2030-01-07", "2099-12-31", "2026-11-26").dates;
    expect(future[0]).toBe("2030-01-07");
    expect(future.at(-1)! <= addDays("2030-01-07", MAX_CALENDAR_DAYS - 1)).toBe(true);
    const past = resolve("2000-01-03", "2010-12-31", "2026-11-26").dates;
    expect(past.at(-1)).toBe("2010-12-31");
    expect(past[0]! >= addDays("2010-12-31", 1 - MAX_CALENDAR_DAYS)).toBe(true);
  });

  it("expands a range of exactly MAX_CALENDAR_DAYS whole, without a warning", () => {
    const end = addDays("2024-01-01", MAX_CALENDAR_DAYS - 1);
    const { dates, issues } = resolve("2024-01-01", end, "2030-06-01");
    expect(dates[0]).toBe("2024-01-01");
    expect(dates.at(-1)! >= addDays(end, -2)).toBe(true);
    expect(issues.warningSummary()).toEqual([]);
  });
});

describe("frequencies", () => {
  const f = { startSecs: 8 * 3600, endSecs: 8 * 3600 + 59 * 60, headwaySecs: 300, exactTimes: true };
  it("expands start..end (exclusive) by headway", () => {
    const starts = frequencyStarts(f);
    expect(starts.length).toBe(12);
    expect(formatGtfsTime(starts[0]!)).toBe("08:00:00");
    expect(formatGtfsTime(starts.at(-1)!)).toBe("08:55:00");
  });
  it("finds the instances whose departure at a later stop falls in a range", () => {
    const at = frequencyDeparturesBetween(f, 420, parseGtfsTime("08:10:00")!, parseGtfsTime("08:30:00")!);
    expect(at.map(formatGtfsTime)).toEqual(["08:12:00", "08:17:00", "08:22:00", "08:27:00"]);
    expect(frequencyDeparturesBetween(f, 420, parseGtfsTime("09:10:00")!, parseGtfsTime("10:00:00")!)).toEqual([]);
    const last = frequencyDeparturesBetween(f, 420, parseGtfsTime("09:00:00")!, parseGtfsTime("09:10:00")!);
    expect(last.map(formatGtfsTime)).toEqual(["09:02:00"]);
  });
});
