// Every feed problem has a stable code: programs tell kinds apart without parsing messages (which name
// values), the import summary groups warnings by it, and the operator docs list each one.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatSummary } from "../../src/modules/gtfs/import/cli";
import type { ImportSummary } from "../../src/modules/gtfs/import/importer";
import { ERROR_CODES, type FeedIssue, IssueCollector, WARNING_CODES } from "../../src/modules/gtfs/import/issues";

const atLocation = (line: number, type: number): FeedIssue<"stop_time_at_location"> => ({
  code: "stop_time_at_location",
  file: "stop_times.txt",
  line,
  field: "stop_id",
  value: `node-${line}`,
  message: `stop_times references a location_type ${type} location`,
});

describe("feed issues", () => {
  it("groups warnings by code: one count per code, the first five as examples, the first message", () => {
    const issues = new IssueCollector();
    for (let line = 2; line < 10; line++) issues.warn(atLocation(line, line % 2 ? 3 : 2));
    issues.warn({
      code: "departure_before_arrival",
      file: "stop_times.txt",
      line: 11,
      message: "departure_time is before arrival_time",
    });
    expect(issues.warningSummary()).toEqual([
      {
        code: "stop_time_at_location",
        message: "stop_times references a location_type 2 location",
        count: 8,
        examples: [2, 3, 4, 5, 6].map((line) => atLocation(line, line % 2 ? 3 : 2)),
      },
      {
        code: "departure_before_arrival",
        message: "departure_time is before arrival_time",
        count: 1,
        examples: [expect.objectContaining({ line: 11 })],
      },
    ]);
  });

  it("the import summary prints each warning group with its code", () => {
    const issues = new IssueCollector();
    for (let line = 2; line < 6; line++) issues.warn(atLocation(line, 2));
    const summary: ImportSummary = {
      feedId: 3,
      schema: "gtfs_f3",
      source: "feed.zip",
      files: [{ file: "stop_times.txt", rows: 4, seconds: 0.5 }],
      phases: [],
      totalRows: 4,
      seconds: 1,
      warnings: issues.warningSummary(),
      pruned: [],
    };
    const text = formatSummary(summary);
    expect(text).toContain("warning stop_time_at_location (4×): stop_times references a location_type 2 location\n");
    expect(text).toContain(
      '  e.g. stop_times.txt:2 [stop_id]: stop_times references a location_type 2 location (got "node-2")\n',
    );
  });

  it("docs/api.md lists every code, errors and warnings apart, and no other", () => {
    const docs = readFileSync("docs/api.md", "utf8");
    const table = (heading: string) =>
      [
        ...docs
          .split(`| ${heading} | meaning |`)[1]!
          .split("\n\n")[0]!
          .matchAll(/^\| `(\w+)` \| (.+) \|$/gm),
      ].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(table("error code"))).toEqual(ERROR_CODES);
    expect(Object.fromEntries(table("warning code"))).toEqual(WARNING_CODES);
    expect(table("error code").length + table("warning code").length).toBe(
      Object.keys(ERROR_CODES).length + Object.keys(WARNING_CODES).length,
    );
  });
});
