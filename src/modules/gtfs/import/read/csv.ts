// Streaming CSV reader for GTFS (RFC 4180 plus the usual real-world deviations): UTF-8 BOM, CRLF or LF,
// quoted fields with embedded commas, quotes and newlines, blank lines. Records go to a sink as they are
// parsed and the reader yields once per chunk, because a per-record `await` would dominate the cost on
// multi-million-row files; `collecting` gathers them into arrays where a caller wants batches.

export interface CsvRecord {
  fields: string[];
  /** Physical line where the record starts (1-based). */
  line: number;
}

/**
 * Receives records as they are parsed, in file order, instead of as batched field arrays: a hot path
 * can read a plain line's fields where they are in the text, without a string per field.
 */
export interface CsvLineSink {
  /** A line without quotes: one record in text[start, end), line terminator excluded. */
  line(text: string, start: number, end: number, lineNo: number): void;
  /** A record that needed the quote-aware parse; it spans `lines` physical lines (1 unless a quoted field holds a newline). */
  record(fields: string[], lineNo: number, lines: number): void;
}

/** A sink that appends each record, fields split out, to the array `into()` returns at the time. */
export function collecting(into: () => CsvRecord[]): CsvLineSink {
  return {
    line: (text, start, end, line) => into().push({ fields: text.slice(start, end).split(","), line }),
    record: (fields, line) => into().push({ fields, line }),
  };
}

/**
 * A record that cannot be read: a quoted field never closed. `line` is where the record starts, which
 * is where the stray quote is; everything after it would otherwise be swallowed into one field.
 */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = "CsvSyntaxError";
  }
}

/** Longest record kept while waiting for its closing quote; real GTFS records are far shorter. */
export const MAX_RECORD_CHARS = 1 << 20;

const QUOTE = 34; // "
const COMMA = 44;
const CR = 13;
const LF = 10;

export class CsvParser {
  private buf = "";
  private line = 1;
  private started = false;

  private readonly sink: CsvLineSink;
  /** Where the default sink puts records: the `out` of the current push() or end(). */
  private out: CsvRecord[] = [];

  /** Records go to `sink` as they are parsed; without one, into the `out` array of push() and end(). */
  constructor(sink?: CsvLineSink) {
    this.sink = sink ?? collecting(() => this.out);
  }

  /** Parses as much of `text` as forms complete records; keeps the rest for the next call. */
  push(text: string, out: CsvRecord[] = []): void {
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.buf = this.buf.length ? this.buf + text : text;
    this.out = out;
    this.parse(false);
  }

  /** Flushes the last record (a file need not end with a newline). */
  end(out: CsvRecord[] = []): void {
    this.out = out;
    this.parse(true);
    this.buf = "";
  }

  private parse(final: boolean): void {
    const buf = this.buf;
    const len = buf.length;
    let pos = 0;
    // Position of the next quote at or after `pos`; searched again only once passed (else O(n²) per chunk).
    let quote = -2;
    while (pos < len) {
      let nl = buf.indexOf("\n", pos);
      if (nl < 0) {
        if (!final) break;
        nl = len;
      }
      const lineEnd = nl > pos && buf.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
      if (quote !== -1 && quote < pos) quote = buf.indexOf('"', pos);
      if (quote < 0 || quote >= lineEnd) {
        // Fast path: a line without quotes is one record.
        if (lineEnd > pos) this.sink.line(buf, pos, lineEnd, this.line);
        this.line++;
        pos = nl + 1;
        continue;
      }
      const next = this.parseQuoted(buf, pos, final);
      if (next < 0) {
        // Incomplete: wait for more data, but not for ever (a stray quote would keep the rest of the file).
        if (len - pos > MAX_RECORD_CHARS)
          throw new CsvSyntaxError(
            this.line,
            `quoted field not closed within ${MAX_RECORD_CHARS} characters (a stray '"' in this record?)`,
          );
        break;
      }
      pos = next;
    }
    this.buf = pos >= len ? "" : buf.slice(pos);
  }

  /** Character-level parse of one record starting at `pos`; returns the next position or -1 if incomplete. */
  private parseQuoted(buf: string, pos: number, final: boolean): number {
    const len = buf.length;
    const fields: string[] = [];
    const startLine = this.line;
    let lines = 0;
    let i = pos;
    for (;;) {
      let value = "";
      if (buf.charCodeAt(i) === QUOTE) {
        let j = i + 1;
        for (;;) {
          const k = buf.indexOf('"', j);
          if (k < 0) {
            if (!final) return -1;
            throw new CsvSyntaxError(
              startLine,
              `quoted field not closed before the end of the file (a stray '"' in this record?)`,
            );
          }
          value += buf.slice(j, k);
          if (buf.charCodeAt(k + 1) === QUOTE) {
            value += '"';
            j = k + 2;
            continue;
          }
          if (k + 1 >= len && !final) return -1; // cannot tell yet whether `""` follows
          i = k + 1;
          break;
        }
        const linesBefore = lines;
        for (let n = value.indexOf("\n"); n >= 0; n = value.indexOf("\n", n + 1)) lines++;
        // Tolerate garbage between the closing quote and the delimiter (`"a"b,` → `ab`), but not after
        // a field over several lines: that is a stray quote closed by the next quote in the file, and
        // the lines in between would be lost as one field.
        const next = i < len ? buf.charCodeAt(i) : COMMA;
        if (lines > linesBefore && next !== COMMA && next !== LF && next !== CR)
          throw new CsvSyntaxError(
            startLine,
            `a quoted field opens on line ${startLine} and closes on line ${startLine + lines} with more text after it (a stray '"' on line ${startLine}?)`,
          );
        while (i < len) {
          const c = buf.charCodeAt(i);
          if (c === COMMA || c === LF || c === CR) break;
          value += buf[i];
          i++;
        }
      } else {
        const start = i;
        while (i < len) {
          const c = buf.charCodeAt(i);
          if (c === COMMA || c === LF || c === CR) break;
          i++;
        }
        value = buf.slice(start, i);
      }
      fields.push(value);
      if (i >= len) {
        if (!final) return -1;
        break;
      }
      const c = buf.charCodeAt(i);
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c === CR) {
        if (i + 1 >= len && !final) return -1;
        i++;
        if (buf.charCodeAt(i) === LF) i++;
      } else i++; // LF
      break;
    }
    this.sink.record(fields, startLine, 1 + lines);
    this.line += 1 + lines;
    return i;
  }
}

/** Decodes UTF-8 chunks and hands every record to `sink`, yielding after each chunk (to send what it made). */
export async function* readCsvInto(
  chunks: AsyncIterable<Uint8Array | string>,
  sink: CsvLineSink,
): AsyncGenerator<void> {
  const decoder = new TextDecoder("utf-8");
  const parser = new CsvParser(sink);
  for await (const chunk of chunks) {
    parser.push(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
    yield;
  }
  const tail = decoder.decode();
  if (tail) parser.push(tail);
  parser.end();
  yield;
}
