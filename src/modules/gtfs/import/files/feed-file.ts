// The one interface every GTFS file's module implements (files/agency.ts … files/transfers.ts): what
// the file holds and which values are valid (its spec), which files its rows refer to (they load
// first: load-order.ts), its table in a feed version's schema, and how a row becomes a table row. A
// file's meaning lives in its module and nowhere else.
import type { BinaryCopyWriter } from "../copy-binary";
import type { ErrorCode, FeedIssue, IssueCollector } from "../issues";
import type { FileSpec, Value } from "../read/columns";
import type { CsvLineSink } from "../read/csv";
import type { FeedState } from "./feed-state";

/** Text ids compare bytewise (collate "C"): faster index builds and lookups, and ids are not prose. */
export const ID = 'text collate "C"';

/** A table of one feed version. `s` is the version's schema name, quoted. */
export interface FeedTable {
  readonly name: string;
  /** The columns COPY fills, in the order a converted row gives them. Others keep their defaults. */
  readonly copyColumns: readonly string[];
  create(s: string): string[];
  /** Built once the table is loaded, on the second connection where there is one. */
  indexes?(s: string, state: FeedState): string[];
  /** What ANALYZE reads: only the columns queries filter or join on (`true`: all of them). */
  readonly analyze?: true | readonly string[];
}

/** What a file's rows read and write while they load: the ids and facts of the files before, the issues. */
export interface LoadContext {
  readonly state: FeedState;
  readonly issues: IssueCollector;
}

interface FeedFileBase {
  /** The file's name without ".txt". */
  readonly name: string;
  readonly spec: FileSpec;
  /** The files whose ids this file's rows refer to. */
  readonly dependsOn: readonly string[];
  readonly table: FeedTable;
}

/** How the rows of a text-COPY file become COPY lines. */
export interface RowConverter {
  /** Checks a valid row (typed values in spec order) against the files before it and returns its COPY
   * line, or undefined (after reporting) to skip it. */
  convert(row: Value[], line: number): string | undefined;
  /** Checks that need the whole file (references within it); run once the file's rows are in. */
  finish?(): void;
}

/** A file loaded by text COPY, a line per row. */
export interface TextFeedFile extends FeedFileBase {
  readonly copy: "text";
  rows(load: LoadContext): RowConverter;
}

/** A streamed file's converter: records in, binary COPY tuples out through `writer`. */
export interface RecordStream {
  /** The sink for the file's records once its header is mapped (`index`: each spec column's position). */
  sinkFor(index: readonly number[], columns: number): CsvLineSink;
  /** Rows converted so far. */
  readonly rows: number;
  readonly writer: BinaryCopyWriter;
  /** The file is read: leaves what later steps need in the state. */
  done(): void;
}

/**
 * The bulk of a feed (stop_times): binary COPY straight from the CSV text, with its table created in
 * the COPY's own transaction so PostgreSQL writes the rows already frozen (LoadSession.copy).
 */
export interface StreamedFeedFile extends FeedFileBase {
  readonly copy: "binary";
  /** `bytes`: the file's size where known, to size buffers. */
  stream(load: LoadContext, bytes: number | undefined): RecordStream;
}

export type FeedFile = TextFeedFile | StreamedFeedFile;

/** Reports a row's problem and returns undefined: a `rows` converter's way to skip the row. */
export function rejectRow(issues: IssueCollector, issue: FeedIssue<ErrorCode>): undefined {
  issues.error(issue);
  return undefined;
}
