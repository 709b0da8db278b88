// The import's database connections, opened and closed here and nowhere else. `main` takes the import
// lock, writes the catalogue, loads stop_times and the derived data. `second` (PostgreSQL only: the
// embedded database has one connection, which the app shares) loads the smaller files while `main`
// goes on, then builds indexes and runs ANALYZE while `main` loads the departure boards. The boards'
// load opens one more connection for a second COPY stream, for as long as that takes (`extra`).
import type { Database } from "../../../db/database";
import { type LoadSession, openPgliteSession, openPostgresSession } from "./load-session";

/** Where to import to: the app's database and, for PostgreSQL, the URL for the import's own connections. */
export interface ImportTarget {
  database: Database;
  connectionString?: string;
}

/** One connection of the import's own (the embedded database: the app's, shared). */
export async function openSession(target: ImportTarget): Promise<LoadSession> {
  if (target.database.kind === "embedded") return openPgliteSession(target.database.pglite!);
  if (!target.connectionString) throw new Error("importFeed needs connectionString for a PostgreSQL database");
  return openPostgresSession(target.connectionString);
}

export class ImportConnections {
  private secondSession: LoadSession | undefined;

  private constructor(readonly main: LoadSession) {}

  static async open(target: ImportTarget): Promise<ImportConnections> {
    return new ImportConnections(await openSession(target));
  }

  /** The second connection, once opened (undefined on the embedded database, or once closed). */
  get second(): LoadSession | undefined {
    return this.secondSession;
  }

  async openSecond(): Promise<void> {
    this.secondSession ??= await this.main.fork();
  }

  /**
   * Closes the second connection. A statement still running there (an index build, when the load failed
   * elsewhere) is cancelled, so that the cleanup's DROP SCHEMA gets its locks at once.
   */
  async closeSecond(): Promise<void> {
    const second = this.secondSession;
    this.secondSession = undefined;
    await second?.close();
  }

  /** Another connection for one more parallel COPY stream; the caller closes it. */
  extra(): Promise<LoadSession | undefined> {
    return this.main.fork();
  }

  /** Closes both. Closing `main` aborts a COPY in flight and releases its locks, the import lock too. */
  async close(): Promise<void> {
    await this.closeSecond();
    await this.main.close();
  }
}
