// Reads one GTFS file as batches of typed rows (aligned with the file's ColumnSpec list), reporting
// malformed values with file, line and field. readRecords gives the raw fields plus the header mapping
// for hot paths that convert fields themselves (stop_times).
import { type CsvRecord, readCsv } from "./csv";
import type { IssueCollector } from "./errors";
import { type FileSpec, mapHeader, parseRecord, type Value } from "./schema";

export interface RowBatch {
  rows: Value[][];
  lines: number[];
}

export interface RecordBatch {
  /** Position of each spec column in the record (-1 when the file lacks the column). */
  index: readonly number[];
  records: CsvRecord[];
}

/** Yields raw records after a valid header; yields nothing if the header is unusable (issue reported). */
export async function* readRecords(
  chunks: AsyncIterable<Uint8Array>,
  spec: FileSpec,
  issues: IssueCollector,
): AsyncGenerator<RecordBatch> {
  let index: number[] | undefined;
  let headerSeen = false;
  for await (const batch of readCsv(chunks)) {
    let records = batch;
    if (!headerSeen) {
      headerSeen = true;
      index = mapHeader(spec, batch[0]!.fields, issues);
      if (!index) return;
      records = batch.slice(1);
    }
    if (records.length) yield { index: index!, records };
  }
  if (!headerSeen) issues.error({ file: spec.file, line: 1, message: "file is empty (no header row)" });
}

/** Typed rows; bad rows are reported to `issues` and skipped, blank lines ignored. */
export async function* readTable(
  chunks: AsyncIterable<Uint8Array>,
  spec: FileSpec,
  issues: IssueCollector,
): AsyncGenerator<RowBatch> {
  for await (const { index, records } of readRecords(chunks, spec, issues)) {
    const rows: Value[][] = [];
    const lines: number[] = [];
    for (const rec of records) {
      if (isBlank(rec.fields)) continue;
      const row = parseRecord(spec, index, rec.fields, rec.line, issues);
      if (row) {
        rows.push(row);
        lines.push(rec.line);
      }
    }
    if (rows.length) yield { rows, lines };
  }
}

export function isBlank(fields: readonly string[]): boolean {
  return fields.length === 1 && fields[0]!.trim() === "";
}
