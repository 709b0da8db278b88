// The "load the files" step: each file of the feed, in load order, read, checked and COPYed into its
// table (files/*.ts say how). The text-COPY files before stop_times go on the second connection, where
// the server finishes one COPY while the next file is read; stop_times (binary COPY, its table created
// in the COPY's transaction) and the files after it go on the main connection, the second one being
// busy with indexes by then. An error stops the load after the file it is in, with all of that file's
// problems reported.

import type { ImportConnections } from "./connections";
import type { BinaryCopyWriter } from "./copy-binary";
import type { FeedFile, LoadContext, RowConverter, StreamedFeedFile, TextFeedFile } from "./files/feed-file";
import type { LoadSession } from "./load-session";
import { readRecordsInto, readTable } from "./read/reader";
import type { FeedSource } from "./read/source";

export interface FileSummary {
  file: string;
  rows: number;
  seconds: number;
}

export interface FileProgress {
  fileStarted?(file: string, bytes: number | undefined): void;
  fileProgress?(file: string, rows: number, bytesRead: number): void;
  fileDone?(file: string, rows: number, seconds: number): void;
}

export interface LoadFilesOptions {
  files: readonly FeedFile[];
  source: FeedSource;
  schema: string;
  connections: ImportConnections;
  load: LoadContext;
  progress?: FileProgress;
  /**
   * Called before stop_times loads, with the files loaded before it and what settles their COPYs
   * (their indexes can start then).
   */
  beforeStream?(before: readonly FeedFile[], copied: () => Promise<void>): void;
}

/** Loads every file the feed has; returns rows and seconds per file, in load order. */
export async function loadFiles(options: LoadFilesOptions): Promise<FileSummary[]> {
  const { files, source, connections, load, progress } = options;
  const summaries: FileSummary[] = [];
  /** COPYs the server is still finishing on the second connection (their errors surface when awaited). */
  let pending: Promise<number>[] = [];
  const settle = async () => {
    const copies = pending;
    pending = [];
    for (const done of copies) await done;
  };
  let streamStarted = false;
  for (const [i, file] of files.entries()) {
    if (file.copy === "binary") {
      streamStarted = true;
      options.beforeStream?.(files.slice(0, i), settle);
    }
    const name = file.spec.file;
    if (!source.files.has(name)) continue;
    const started = performance.now();
    let bytesRead = 0;
    progress?.fileStarted?.(name, source.size(name));
    async function* chunks() {
      for await (const chunk of source.open(name)) {
        bytesRead += chunk.byteLength;
        yield chunk;
      }
    }
    const onRows = (n: number) => progress?.fileProgress?.(name, n, bytesRead);
    let rows: number;
    let converter: RowConverter | undefined;
    if (file.copy === "binary") rows = await loadStreamed(file, chunks(), options, onRows);
    else {
      const second = streamStarted ? undefined : connections.second;
      // One statement at a time per connection: the previous file's COPY there is waited for first.
      if (second) await settle();
      const loaded = await loadText(file, chunks(), options, second ?? connections.main, onRows);
      if (second) pending.push(loaded.stored);
      else await loaded.stored;
      rows = loaded.rows;
      converter = loaded.converter;
    }
    const seconds = (performance.now() - started) / 1000;
    summaries.push({ file: name, rows, seconds });
    progress?.fileDone?.(name, rows, seconds);
    load.issues.throwIfFailed();
    converter?.finish?.();
  }
  load.issues.throwIfFailed();
  await settle(); // the derived data updates those tables
  return summaries;
}

const BATCH_FLUSH_CHARS = 1 << 20;

/**
 * Typed rows → COPY text lines in ~1 MB writes. Returns once every row is sent; `stored` settles when
 * the server has them (the caller decides whether to wait).
 */
async function loadText(
  file: TextFeedFile,
  chunks: AsyncIterable<Uint8Array>,
  options: LoadFilesOptions,
  session: LoadSession,
  onRows: (rows: number) => void,
): Promise<{ rows: number; stored: Promise<number>; converter: RowConverter }> {
  const issues = options.load.issues;
  const sink = session.copy(`"${options.schema}".${file.table.name}`, file.table.copyColumns);
  const converter = file.rows(options.load);
  let rows = 0;
  let parts: string[] = [];
  let size = 0;
  for await (const { rows: values, lines } of readTable(chunks, file.spec, issues)) {
    for (let i = 0; i < values.length; i++) {
      const line = converter.convert(values[i]!, lines[i]!);
      if (line === undefined) continue;
      parts.push(line);
      size += line.length;
      rows++;
    }
    if (size >= BATCH_FLUSH_CHARS) {
      const text = parts.join("");
      parts = [];
      size = 0;
      if (!issues.failed) await sink.write(text);
    }
    onRows(rows);
  }
  if (parts.length && !issues.failed) await sink.write(parts.join(""));
  const stored = sink.end();
  stored.catch(() => {}); // the caller awaits it, now or in settle()
  return { rows, stored, converter };
}

/** Records → binary COPY as they are read, with backpressure from the server. */
async function loadStreamed(
  file: StreamedFeedFile,
  chunks: AsyncIterable<Uint8Array>,
  options: LoadFilesOptions,
  onRows: (rows: number) => void,
): Promise<number> {
  const { schema, connections, load, source } = options;
  const table = file.table;
  const sink = connections.main.copy(`"${schema}".${table.name}`, table.copyColumns, "binary", {
    create: table.create(`"${schema}"`),
  });
  const stream = file.stream(load, source.size(file.spec.file));
  const writer: BinaryCopyWriter = stream.writer;
  for await (const _ of readRecordsInto(chunks, file.spec, load.issues, (index, columns) =>
    stream.sinkFor(index, columns),
  )) {
    if (load.issues.failed)
      writer.take(); // nothing more is sent; keep validating for the report
    else for (const chunk of writer.take()) await sink.write(chunk);
    onRows(stream.rows);
  }
  // A binary COPY cannot be ended half-sent: a bad file aborts here (the session is discarded).
  load.issues.throwIfFailed();
  for (const chunk of writer.finish()) await sink.write(chunk);
  await sink.end();
  stream.done();
  return stream.rows;
}
