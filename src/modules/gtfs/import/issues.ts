// Feed problems carry file, line and field so an operator can open the CSV at the right spot.

export interface FeedIssue {
  file: string;
  /** 1-based physical line in the file (the header is line 1); absent for file-level problems. */
  line?: number;
  field?: string;
  value?: string;
  message: string;
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
    const head = issues.slice(0, 10).map(formatIssue).join("\n  ");
    const more = issues.length > 10 || truncated ? `\n  … and more` : "";
    super(
      `invalid GTFS feed (${issues.length}${truncated ? "+" : ""} problem${issues.length === 1 ? "" : "s"}):\n  ${head}${more}`,
    );
    this.name = "FeedValidationError";
  }
}

/** Collects issues up to a bound so a bad feed reports several problems, not just the first. */
export class IssueCollector {
  readonly errors: FeedIssue[] = [];
  readonly warnings: FeedIssue[] = [];
  truncated = false;
  private readonly warningCounts = new Map<string, number>();

  constructor(private readonly maxErrors = 50) {}

  error(issue: FeedIssue): void {
    if (this.errors.length >= this.maxErrors) {
      this.truncated = true;
      return;
    }
    this.errors.push(issue);
  }

  /** Warnings are deduplicated by message: the first few occurrences are kept, the rest counted. */
  warn(issue: FeedIssue): void {
    const n = (this.warningCounts.get(issue.message) ?? 0) + 1;
    this.warningCounts.set(issue.message, n);
    if (n <= 5) this.warnings.push(issue);
  }

  warningSummary(): { message: string; count: number; examples: FeedIssue[] }[] {
    return [...this.warningCounts].map(([message, count]) => ({
      message,
      count,
      examples: this.warnings.filter((w) => w.message === message),
    }));
  }

  get failed(): boolean {
    return this.errors.length > 0;
  }

  throwIfFailed(): void {
    if (this.failed) throw new FeedValidationError(this.errors, this.truncated);
  }
}
