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

export function createLogger(config: Pick<Config, "app">, options: LoggerOptions = {}): Logger {
  // Async, buffered writes: an access line per request must cost microseconds, not a syscall each.
  const stdout = options.stream ?? pino.destination({ dest: 1, sync: false });
  let destination: pino.DestinationStream = stdout;
  if (config.app.log_file) {
    mkdirSync(dirname(config.app.log_file), { recursive: true });
    const file = pino.destination({ dest: config.app.log_file, sync: false, mkdir: true });
    destination = pino.multistream([{ stream: stdout }, { stream: file }]);
  }
  return pino(
    {
      level: config.app.log_level,
      base: { service: config.app.name, version: config.app.version },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Defence in depth: nothing should log these, and if something does they are masked.
      redact: {
        paths: [
          "apiKey",
          "api_key",
          "apiSecret",
          "api_secret",
          "password",
          "*.password",
          "headers.authorization",
          'headers["x-api-key"]',
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
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
