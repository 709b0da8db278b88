// JSON log lines (pino) to stdout and, when configured, to a file as well.
import { mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import pino, { type Logger } from "pino";
import type { Config } from "../config/schema";

export type { Logger };

export interface LoggerOptions {
  /** Where stdout lines go; tests pass a stream to read them back. */
  stream?: pino.DestinationStream;
}

const FLUSH_MS = 20;
const BUFFER_BYTES = 64 * 1024;

type Sink = (bytes: Uint8Array) => void;

/** Writes all bytes to a file descriptor; waits out EAGAIN on a non-blocking pipe, drops on EPIPE. */
function fdSink(fd: number): Sink {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  return (bytes) => {
    let offset = 0;
    while (offset < bytes.length) {
      try {
        offset += writeSync(fd, bytes, offset, bytes.length - offset);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EAGAIN") return; // reader gone: logging must not crash serving
        Atomics.wait(pause, 0, 0, 1);
      }
    }
  };
}

/** For tests and other in-process readers that want strings. */
function streamSink(stream: pino.DestinationStream): Sink {
  const decoder = new TextDecoder();
  return (bytes) => void stream.write(decoder.decode(bytes));
}

/**
 * Encodes lines into one buffer and writes it out every FLUSH_MS (or when full): a write per line
 * (a syscall and a string-to-bytes copy) costs more than serving /health does. Lines are at most
 * FLUSH_MS late; flushSync() before exit writes out the rest.
 */
class BatchingStream implements pino.DestinationStream {
  private readonly buffer = new Uint8Array(BUFFER_BYTES);
  private readonly encoder = new TextEncoder();
  private used = 0;
  private scheduled = false;
  private readonly flushSoon = () => {
    this.scheduled = false;
    this.flushSync();
  };

  constructor(private readonly sinks: Sink[]) {}

  write(line: string): void {
    let result = this.encoder.encodeInto(line, this.buffer.subarray(this.used));
    if (result.read < line.length) {
      // Full (or a line longer than the buffer): write out what is there, then encode again.
      this.flushSync();
      result = this.encoder.encodeInto(line, this.buffer);
      if (result.read < line.length) {
        for (const sink of this.sinks) sink(this.encoder.encode(line));
        return;
      }
    }
    this.used += result.written;
    if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(this.flushSoon, FLUSH_MS).unref();
    }
  }

  /** Everything written so far reaches the destinations before this returns (used at exit). */
  flushSync(): void {
    if (this.used === 0) return;
    const bytes = this.buffer.subarray(0, this.used);
    for (const sink of this.sinks) sink(bytes);
    this.used = 0;
  }
}

export function createLogger(config: Pick<Config, "app">, options: LoggerOptions = {}): Logger {
  const sinks: Sink[] = [options.stream ? streamSink(options.stream) : fdSink(1)];
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
