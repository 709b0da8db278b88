// service_dates: which service_ids run on which dates, from calendar.txt (weekly pattern over a date
// range) and calendar_dates.txt (exception_type 1 adds a date, 2 removes it); a feed may use only
// calendar_dates. Expanded once at import, so a board joins one small table instead of evaluating
// calendars per request. The feed's dates default to the first and last of them.
import { addDays, weekdayIndex } from "../../domain/time";
import { copyField } from "../copy-text";
import { ID } from "../files/feed-file";
import type { FeedState } from "../files/feed-state";
import type { IssueCollector } from "../issues";
import type { LoadSession } from "../load-session";

export const serviceDatesTable = {
  name: "service_dates",
  copyColumns: ["service_id", "date"],
  create: (s: string) => [`create table ${s}.service_dates (service_id ${ID} not null, date date not null)`],
  indexes: (s: string) => [`create unique index service_dates_pk on ${s}.service_dates (service_id, date)`],
  analyze: true,
} as const;

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

/** Resolves the calendars the files left in `state` and COPYs the dates in; returns the rows stored. */
export async function loadServiceDates(
  session: LoadSession,
  schema: string,
  state: FeedState,
  issues: IssueCollector,
): Promise<number> {
  const resolved = resolveServiceDates(state.calendar, state.exceptions, issues);
  const sink = session.copy(`"${schema}".service_dates`, serviceDatesTable.copyColumns);
  let parts: string[] = [];
  let rows = 0;
  let min: string | null = null;
  let max: string | null = null;
  for (const [service, dates] of resolved) {
    for (const d of dates) {
      parts.push(`${copyField(service)}\t${d}\n`);
      rows++;
    }
    if (dates.length) {
      if (min === null || dates[0]! < min) min = dates[0]!;
      if (max === null || dates.at(-1)! > max) max = dates.at(-1)!;
    }
    if (parts.length > 50_000) {
      await sink.write(parts.join(""));
      parts = [];
    }
  }
  if (parts.length) await sink.write(parts.join(""));
  await sink.end();
  state.meta.startDate ??= min;
  state.meta.endDate ??= max;
  if (rows === 0)
    issues.warn({
      code: "no_service_dates",
      file: "calendar.txt",
      message: "no service runs on any date (calendar resolves to nothing)",
    });
  return rows;
}
