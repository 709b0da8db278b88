// Reads one GTFS file as batches of typed rows (aligned with the file's ColumnSpec list), reporting
// malformed values with file, line and field. readRecordsInto hands the raw records, once the header is
// mapped, to a sink: hot paths that convert fields themselves (stop_times) read plain lines in place.

import type { IssueCollector } from "../issues";
import { type FileSpec, mapHeader, parseRecord, type Value } from "./columns";
import { type CsvLineSink, type CsvRecord, CsvSyntaxError, collecting, readCsvInto } from "./csv";

export interface RowBatch {
  rows: Value[][];
  lines: number[];
}

export interface RecordBatch {
  /** Position of each spec column in the record (-1 when the file lacks the column). */
  index: readonly number[];
  records: CsvRecord[];
}

/**
 * Every record after a valid header goes to the sink `sinkFor` gives for the header's column mapping
 * and field count; yields after each chunk. Stops early if the header is unusable (issue reported).
 */
export async function* readRecordsInto(
  chunks: AsyncIterable<Uint8Array>,
  spec: FileSpec,
  issues: IssueCollector,
  sinkFor: (index: readonly number[], columns: number) => CsvLineSink,
): AsyncGenerator<void> {
  let body: CsvLineSink | undefined;
  let headerSeen = false;
  let columns = 0;
  const header = (fields: string[]) => {
    headerSeen = true;
    columns = fields.length;
    const index = mapHeader(spec, fields, issues);
    if (index) body = sinkFor(index, fields.length);
  };
  const sink: CsvLineSink = {
    line(text, start, end, line) {
      if (body) body.line(text, start, end, line);
      else if (!headerSeen) header(text.slice(start, end).split(","));
    },
    record(fields, line, lines) {
      // A field over several lines is legal CSV, but followed by more fields than the header has, it is
      // the mark of a stray quote that swallowed the lines after it: refuse it rather than lose those
      // rows. (Fewer fields are fine: feeds leave trailing optional columns off.)
      if (body && lines > 1 && fields.length > columns)
        issues.error({
          code: "csv_syntax",
          file: spec.file,
          line,
          message: `a quoted field runs from line ${line} to line ${line + lines - 1} and leaves ${fields.length} fields where the header has ${columns} (a stray '"'?)`,
        });
      else if (body) body.record(fields, line, lines);
      else if (!headerSeen) header(fields);
    },
  };
  try {
    for await (const _ of readCsvInto(chunks, sink)) {
      if (headerSeen && !body) return;
      yield;
    }
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    issues.error({ code: "csv_syntax", file: spec.file, line: err.line, message: err.message });
    return;
  }
  if (!headerSeen)
    issues.error({ code: "empty_file", file: spec.file, line: 1, message: "file is empty (no header row)" });
}

/** Raw records after a valid header, in batches; nothing if the header is unusable (issue reported). */
export async function* readRecords(
  chunks: AsyncIterable<Uint8Array>,
  spec: FileSpec,
  issues: IssueCollector,
): AsyncGenerator<RecordBatch> {
  let index: readonly number[] = [];
  let records: CsvRecord[] = [];
  const sinkFor = (mapped: readonly number[]) => {
    index = mapped;
    return collecting(() => records);
  };
  for await (const _ of readRecordsInto(chunks, spec, issues, sinkFor)) {
    if (records.length) {
      yield { index, records };
      records = [];
    }
  }
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
