// Every GTFS file the importer reads, in load order (derived from their dependencies), and the check
// that the feed has the files it must have. Other files in a feed are ignored.
import type { IssueCollector } from "../issues";
import { agency } from "./agency";
import { calendar } from "./calendar";
import { calendarDates } from "./calendar-dates";
import type { FeedFile } from "./feed-file";
import { feedInfo } from "./feed-info";
import { frequencies } from "./frequencies";
import { loadOrder } from "./load-order";
import { routes } from "./routes";
import { shapes } from "./shapes";
import { stopTimes } from "./stop-times";
import { stops } from "./stops";
import { transfers } from "./transfers";
import { trips } from "./trips";

// Listed small files first and stop_times, the bulk, as late as it can be (the tables it refers to are
// indexed while it loads); transfers, which nothing refers to, after it. A file added anywhere in the
// list still loads after the files it names in dependsOn.
export const FEED_FILES: readonly FeedFile[] = loadOrder<FeedFile>([
  agency,
  feedInfo,
  stops,
  routes,
  calendar,
  calendarDates,
  shapes,
  trips,
  frequencies,
  stopTimes,
  transfers,
]);

/** Reports required files the feed lacks (`present`: its file names). */
export function checkRequiredFiles(present: ReadonlySet<string>, issues: IssueCollector): void {
  for (const { spec } of FEED_FILES)
    if (spec.required && !present.has(spec.file))
      issues.error({ code: "missing_file", file: spec.file, message: "required file is missing" });
  if (!present.has(calendar.spec.file) && !present.has(calendarDates.spec.file))
    issues.error({
      code: "missing_file",
      file: "calendar.txt",
      message: "calendar.txt or calendar_dates.txt is required (neither is present)",
    });
}
