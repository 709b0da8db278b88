// Which service_ids run on which dates, from calendar.txt (weekly pattern over a date range) and
// calendar_dates.txt (exception_type 1 adds a date, 2 removes it). A feed may use only calendar_dates.

import { addDays, weekdayIndex } from "../../domain/time";
import type { IssueCollector } from "../issues";

export interface CalendarEntry {
  serviceId: string;
  /** Monday … Sunday. */
  days: readonly boolean[];
  startDate: string;
  endDate: string;
  line?: number;
}

export interface CalendarException {
  serviceId: string;
  date: string;
  exceptionType: 1 | 2;
}

/** Longest calendar.txt range expanded; feeds with `end_date 20991231` would otherwise explode. */
export const MAX_CALENDAR_DAYS = 3 * 366;
/** How far back a longer range is kept, from the import date: the rest of the window lies ahead. */
const KEEP_PAST_DAYS = 366;

/**
 * service_id → sorted ISO dates on which it runs. A calendar.txt range longer than MAX_CALENDAR_DAYS
 * is expanded only for the MAX_CALENDAR_DAYS around `today` (the import date), so a long-running
 * service (`20200101`–`20991231`) is served now and for two years ahead; re-importing moves the window.
 */
export function resolveServiceDates(
  calendar: readonly CalendarEntry[],
  exceptions: readonly CalendarException[],
  issues?: IssueCollector,
  today: string = new Date().toISOString().slice(0, 10),
): Map<string, string[]> {
  const active = new Map<string, Set<string>>();
  const setFor = (id: string) => {
    let s = active.get(id);
    if (!s) {
      s = new Set();
      active.set(id, s);
    }
    return s;
  };
  for (const cal of calendar) {
    const dates = setFor(cal.serviceId);
    let from = cal.startDate;
    let to = cal.endDate;
    if (to >= addDays(from, MAX_CALENDAR_DAYS)) {
      // ISO dates compare as strings: start a year before today, within [start_date, end_date - MAX + 1].
      const latestStart = addDays(to, 1 - MAX_CALENDAR_DAYS);
      from = addDays(today, -KEEP_PAST_DAYS);
      if (from > latestStart) from = latestStart;
      if (from < cal.startDate) from = cal.startDate;
      to = addDays(from, MAX_CALENDAR_DAYS - 1);
      issues?.warn({
        code: "long_service_range",
        file: "calendar.txt",
        line: cal.line,
        field: "end_date",
        value: `${cal.startDate}..${cal.endDate}`,
        message: `service range longer than ${MAX_CALENDAR_DAYS} days: only the ${MAX_CALENDAR_DAYS} days from a year before the import date are served (re-import to move them)`,
      });
    }
    for (let date = from; date <= to; date = addDays(date, 1)) if (cal.days[weekdayIndex(date)]) dates.add(date);
  }
  for (const ex of exceptions) {
    if (ex.exceptionType === 1) setFor(ex.serviceId).add(ex.date);
    else active.get(ex.serviceId)?.delete(ex.date);
  }
  const out = new Map<string, string[]>();
  for (const [id, dates] of active) out.set(id, [...dates].sort());
  return out;
}
