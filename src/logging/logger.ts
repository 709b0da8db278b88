// JSON log lines (pino) to stdout and, when configured, to a file as well.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import pino, { type Logger } from "pino";
import type { Config } from "../config/schema";

export type { Logger };

export interface LoggerOptions {
  /** Where stdout lines go; tests pass a stream to read them back. */
  stream?: pino.DestinationStream;
}

interface SyncFlushable extends pino.DestinationStream {
  flushSync?(): void;
}

/**
 * Collects the lines written during one turn of the event loop and hands them to the destination as
 * one write: a write per line costs several microseconds, which an access line per request cannot afford.
 */
class BatchingStream implements pino.DestinationStream {
  private parts: string[] = [];
  private size = 0;
  private scheduled = false;
  private readonly flushSoon = () => {
    this.scheduled = false;
    this.drain();
  };

  constructor(private readonly targets: SyncFlushable[]) {}

  write(line: string): void {
    this.parts.push(line);
    this.size += line.length;
    if (this.size >= 65_536) this.drain();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushSoon);
    }
  }

  private drain(): void {
    if (this.parts.length === 0) return;
    const chunk = this.parts.join("");
    this.parts = [];
    this.size = 0;
    for (const t of this.targets) t.write(chunk);
  }

  /** Everything written so far reaches the destinations before this returns (used at exit). */
  flushSync(): void {
    this.drain();
    for (const t of this.targets) t.flushSync?.();
  }
}

export function createLogger(config: Pick<Config, "app">, options: LoggerOptions = {}): Logger {
  // Synchronous writes: BatchingStream already makes them one per event-loop turn, and nothing is
  // left in flight when the process exits.
  const targets: SyncFlushable[] = [options.stream ?? pino.destination({ dest: 1, sync: true })];
  if (config.app.log_file) {
    mkdirSync(dirname(config.app.log_file), { recursive: true });
    targets.push(pino.destination({ dest: config.app.log_file, sync: true, mkdir: true }));
  }
  return pino(
    {
      level: config.app.log_level,
      base: { service: config.app.name, version: config.app.version },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    new BatchingStream(targets),
  );
}

/** Writes out buffered lines synchronously; call before process.exit. */
export function flushLogger(logger: Logger): void {
  const stream = (logger as unknown as Record<symbol, SyncFlushable>)[pino.symbols.streamSym];
  try {
    stream?.flushSync?.();
  } catch {
    // a destination that is not open yet has nothing to flush
  }
}

/** A URL safe to log: the password is masked. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "[unparseable url]";
  }
}
