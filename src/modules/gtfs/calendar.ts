// Which service_ids run on which dates, from calendar.txt (weekly pattern over a date range) and
// calendar_dates.txt (exception_type 1 adds a date, 2 removes it). A feed may use only calendar_dates.
import type { IssueCollector } from "./errors";
import { addDays, weekdayIndex } from "./time";

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

/** service_id → sorted ISO dates on which it runs. */
export function resolveServiceDates(
  calendar: readonly CalendarEntry[],
  exceptions: readonly CalendarException[],
  issues?: IssueCollector,
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
    let date = cal.startDate;
    for (let n = 0; date <= cal.endDate; n++, date = addDays(date, 1)) {
      if (n >= MAX_CALENDAR_DAYS) {
        issues?.warn({
          file: "calendar.txt",
          line: cal.line,
          field: "end_date",
          value: cal.endDate,
          message: `service range longer than ${MAX_CALENDAR_DAYS} days; truncated`,
        });
        break;
      }
      if (cal.days[weekdayIndex(date)]) dates.add(date);
    }
  }
  for (const ex of exceptions) {
    if (ex.exceptionType === 1) setFor(ex.serviceId).add(ex.date);
    else active.get(ex.serviceId)?.delete(ex.date);
  }
  const out = new Map<string, string[]>();
  for (const [id, dates] of active) out.set(id, [...dates].sort());
  return out;
}
