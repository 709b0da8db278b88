// JSON log lines (pino) to stdout and, when configured, to a file as well.
import { mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import pino, { type Logger } from "pino";
import type { Config } from "../config/schema";

export type { Logger };

export interface LoggerOptions {
  /** Where stdout lines go; tests pass a stream to read them back. */
  stream?: pino.DestinationStream;
  /** Fields added to every line, e.g. the current trace and span ids (absent: nothing is called). */
  mixin?: () => Record<string, string>;
}

const FLUSH_MS = 20;
/** Characters buffered before an early flush (lines are ASCII JSON, so about as many bytes). */
const BUFFER_CHARS = 64 * 1024;

type Sink = (text: string) => void;

/** Writes all of a text to a file descriptor; waits out EAGAIN on a non-blocking pipe, drops on EPIPE. */
function fdSink(fd: number): Sink {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const writeAll = (bytes: Buffer, offset: number) => {
    while (offset < bytes.length) {
      try {
        offset += writeSync(fd, bytes, offset, bytes.length - offset);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EAGAIN") return; // reader gone: logging must not crash serving
        Atomics.wait(pause, 0, 0, 1);
      }
    }
  };
  return (text) => {
    // Usually one write takes it all; only a short write needs the bytes to find where to go on.
    let written: number;
    try {
      written = writeSync(fd, text);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EAGAIN") writeAll(Buffer.from(text), 0);
      return;
    }
    if (written < Buffer.byteLength(text)) writeAll(Buffer.from(text), written);
  };
}

/**
 * Collects lines and writes them out every FLUSH_MS (or when BUFFER_CHARS are waiting): a write per
 * line (a syscall and a string-to-bytes copy) costs more than serving /health does. Appending to a
 * string is the cheapest way to collect (the engine keeps it as a rope until the one write flattens
 * it). Lines are at most FLUSH_MS late; flushSync() before exit writes out the rest.
 */
class BatchingStream implements pino.DestinationStream {
  private pending = "";
  private scheduled = false;
  private readonly flushSoon = () => {
    this.scheduled = false;
    this.flushSync();
  };

  constructor(private readonly sinks: Sink[]) {}

  write(line: string): void {
    this.pending += line;
    if (this.pending.length >= BUFFER_CHARS) this.flushSync();
    else if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(this.flushSoon, FLUSH_MS).unref();
    }
  }

  /** Everything written so far reaches the destinations before this returns (used at exit). */
  flushSync(): void {
    if (this.pending === "") return;
    const text = this.pending;
    this.pending = "";
    for (const sink of this.sinks) sink(text);
  }
}

export function createLogger(config: Pick<Config, "app">, options: LoggerOptions = {}): Logger {
  const stdout = options.stream;
  const sinks: Sink[] = [stdout ? (text) => void stdout.write(text) : fdSink(1)];
  if (config.app.log_file) {
    mkdirSync(dirname(config.app.log_file), { recursive: true });
    sinks.push(fdSink(openSync(config.app.log_file, "a")));
  }
  return pino(
    {
      level: config.app.log_level,
      base: { service: config.app.name, version: config.app.version },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      ...(options.mixin ? { mixin: options.mixin } : {}),
    },
    new BatchingStream(sinks),
  );
}

/** Writes out buffered lines synchronously; call before process.exit. */
export function flushLogger(logger: Logger): void {
  const stream = (logger as unknown as Record<symbol, { flushSync?(): void }>)[pino.symbols.streamSym];
  try {
    stream?.flushSync?.();
  } catch {
    // a destination that is not open yet has nothing to flush
  }
}
