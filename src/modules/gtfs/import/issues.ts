// Feed problems carry file, line and field so an operator can open the CSV at the right spot, and a
// stable code so that tools (and the import summary) can tell kinds of problem apart without parsing
// messages, which name values and may be reworded.

/** Problems that keep a feed from being served, with what they mean (docs/api.md lists the same). */
export const ERROR_CODES = {
  missing_file: "a required file is not in the feed",
  empty_file: "a file has no header row",
  missing_column: "a required column is not in the file's header",
  csv_syntax: "a record cannot be read as CSV (a stray quote)",
  missing_value: "a required field is empty",
  conditionally_required: "a field that this row's other values make required is empty",
  invalid_integer: "not an integer",
  invalid_enum: "an integer outside the values the reference allows",
  below_minimum: "an integer below the field's minimum",
  invalid_number: "not a number",
  invalid_coordinate: "not a latitude or longitude",
  invalid_time: "not a time H:MM:SS or HH:MM:SS",
  invalid_date: "not a date YYYYMMDD",
  invalid_timezone: "not an IANA time zone",
  invalid_color: "not a colour RRGGBB",
  invalid_text: "text with a NUL character (byte 0), which the database cannot store",
  invalid_range: "an end that is not after its start",
  duplicate_id: "an id given to two rows",
  duplicate_stop_sequence: "a trip with two stop times of the same stop_sequence",
  unknown_reference: "an id that the file it refers to does not have",
} as const;

/** Problems the feed is served with; the summary counts each kind (docs/api.md lists the same). */
export const WARNING_CODES = {
  agency_timezones_differ: "agencies with different time zones (times use the first one's)",
  agency_id_missing: "several agencies, one without agency_id (GTFS requires it when there are several)",
  unknown_shape_id: "a trip's shape_id that shapes.txt does not have",
  stop_time_at_station: "a stop time at a station (listed on the station's board)",
  stop_time_at_location: "a stop time at an entrance, generic node or boarding area",
  departure_before_arrival: "a departure_time before the arrival_time",
  long_service_range: "a calendar range longer than is expanded (served around the import date)",
  no_service_dates: "no service runs on any date",
  times_not_interpolated: "stop times without times and no timed stop before or after",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type WarningCode = keyof typeof WARNING_CODES;
export type IssueCode = ErrorCode | WarningCode;

export interface FeedIssue<Code extends IssueCode = IssueCode> {
  code: Code;
  file: string;
  /** 1-based physical line in the file (the header is line 1); absent for file-level problems. */
  line?: number;
  field?: string;
  value?: string;
  message: string;
}

/** Warnings of one code: how many, and the first few (the message is the first one's). */
export interface WarningGroup {
  code: WarningCode;
  message: string;
  count: number;
  examples: FeedIssue[];
}

export function formatIssue(i: FeedIssue): string {
  let where = i.file;
  if (i.line !== undefined) where += `:${i.line}`;
  if (i.field) where += ` [${i.field}]`;
  const value =
    i.value !== undefined ? ` (got ${JSON.stringify(i.value.length > 60 ? `${i.value.slice(0, 60)}…` : i.value)})` : "";
  return `${where}: ${i.message}${value}`;
}

/** A feed that must not be served. `issues` lists the first problems found (bounded). */
export class FeedValidationError extends Error {
  constructor(
    readonly issues: FeedIssue[],
    readonly truncated = false,
  ) {
    // Every problem collected (IssueCollector bounds them): fixing a feed goes faster with all at hand.
    const list = issues.map(formatIssue).join("\n  ");
    const more = truncated ? `\n  … and more` : "";
    super(
      `invalid GTFS feed (${issues.length}${truncated ? "+" : ""} problem${issues.length === 1 ? "" : "s"}):\n  ${list}${more}`,
    );
    this.name = "FeedValidationError";
  }
}

/** Collects issues up to a bound so a bad feed reports several problems, not just the first. */
export class IssueCollector {
  readonly errors: FeedIssue[] = [];
  readonly warnings: FeedIssue[] = [];
  truncated = false;
  private readonly warningCounts = new Map<WarningCode, number>();

  constructor(private readonly maxErrors = 50) {}

  error(issue: FeedIssue<ErrorCode>): void {
    if (this.errors.length >= this.maxErrors) {
      this.truncated = true;
      return;
    }
    this.errors.push(issue);
  }

  /** Warnings are grouped by code: the first few of each are kept, the rest counted. */
  warn(issue: FeedIssue<WarningCode>): void {
    const n = (this.warningCounts.get(issue.code) ?? 0) + 1;
    this.warningCounts.set(issue.code, n);
    if (n <= 5) this.warnings.push(issue);
  }

  warningSummary(): WarningGroup[] {
    return [...this.warningCounts].map(([code, count]) => {
      const examples = this.warnings.filter((w) => w.code === code);
      return { code, message: examples[0]!.message, count, examples };
    });
  }

  get failed(): boolean {
    return this.errors.length > 0;
  }

  throwIfFailed(): void {
    if (this.failed) throw new FeedValidationError(this.errors, this.truncated);
  }
}
