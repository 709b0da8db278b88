// Reads one GTFS file from a source as batches of typed rows (aligned with the file's ColumnSpec list),
// reporting malformed values with file, line and field.
import { readCsv } from "./csv";
import type { IssueCollector } from "./errors";
import { type FileSpec, mapHeader, parseRecord, type Value } from "./schema";
import type { FeedSource } from "./source";

export interface RowBatch {
  rows: Value[][];
  lines: number[];
}

export type ReadProgress = (rowsSoFar: number) => void;

/** Yields typed rows; bad rows are reported to `issues` and skipped. Yields nothing if the header is unusable. */
export async function* readTable(source: FeedSource, spec: FileSpec, issues: IssueCollector): AsyncGenerator<RowBatch> {
  let index: number[] | undefined;
  let headerSeen = false;
  for await (const records of readCsv(source.open(spec.file))) {
    const rows: Value[][] = [];
    const lines: number[] = [];
    for (const rec of records) {
      if (!headerSeen) {
        headerSeen = true;
        index = mapHeader(spec, rec.fields, issues);
        if (!index) return;
        continue;
      }
      if (rec.fields.length === 1 && rec.fields[0]!.trim() === "") continue; // blank line
      const row = parseRecord(spec, index!, rec.fields, rec.line, issues);
      if (row) {
        rows.push(row);
        lines.push(rec.line);
      }
    }
    if (rows.length) yield { rows, lines };
  }
  if (!headerSeen) issues.error({ file: spec.file, line: 1, message: "file is empty (no header row)" });
}
