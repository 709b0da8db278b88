// The database side of an import: plain statements plus bulk COPY into a table. PostgreSQL streams
// COPY ... FROM STDIN over pg-copy-streams with backpressure; PGlite (embedded) gets the same COPY
// text in large blobs via COPY ... FROM '/dev/blob'.
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

export interface CopySink {
  /** Writes COPY data (complete text lines, or binary-format bytes). Resolves when more may be written. */
  write(data: string | Uint8Array): Promise<void>;
  /** Completes the COPY; resolves with the rows the server stored. */
  end(): Promise<number>;
}

export interface LoadSession {
  readonly kind: "postgres" | "embedded";
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /**
   * `create`: statements that make the table first. PostgreSQL runs them and the COPY in one
   * transaction, so the table is invisible to others until its rows are in and COPY FREEZE writes
   * them already frozen and all-visible: the index builds and ANALYZE that scan it next need not set
   * hint bits on every row (which dirties every page once more). The embedded database, whose one
   * connection the app shares, runs them on their own first.
   */
  copy(
    table: string,
    columns: readonly string[],
    format?: "text" | "binary",
    options?: { create?: readonly string[] },
  ): CopySink;
  /** Another session on its own connection (parallel index builds); the embedded database has only one. */
  fork(): Promise<LoadSession | undefined>;
  close(): Promise<void>;
}

export async function openPostgresSession(connectionString: string): Promise<LoadSession> {
  const client = new pg.Client({ connectionString, application_name: "gtfs-import" });
  await client.connect();
  // Index builds on big feeds take longer than the API's statement_timeout; this is a batch job.
  await client.query("set statement_timeout = 0");
  await client.query("set maintenance_work_mem = '256MB'");
  await client.query("set synchronous_commit = off");
  // The server's own id for this session (through a pooler, the client-side one would be the pooler's).
  const [{ pid }] = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows as [{ pid: number }];
  let broken: Error | undefined;
  client.on("error", (err) => {
    broken = err;
  });
  // One statement at a time: pg@8 queues one sent while another runs (and warns that pg@9 will not),
  // so a second one here is a flaw in the import's flow, reported as such instead of queued.
  /** What the connection is running (a statement or a COPY), until its answer is in. */
  let running: string | undefined;
  const claim = (what: string) => {
    if (broken) throw broken;
    if (running !== undefined)
      throw new Error(`import session: ${short(what)} sent while ${short(running)} is still running on its connection`);
    running = what;
  };
  return {
    kind: "postgres",
    async query<R>(text: string, params?: unknown[]) {
      claim(text);
      try {
        return (await client.query(text, params)).rows as R[];
      } finally {
        running = undefined;
      }
    },
    copy(table, columns, format = "text", options = {}) {
      const create = options.create ?? [];
      const frozen = create.length > 0;
      const statement = `copy ${table} (${columns.join(", ")}) from stdin with (format ${format}${frozen ? ", freeze" : ""})`;
      claim(statement);
      let settled = false;
      const settle = () => {
        if (!settled) running = undefined;
        settled = true;
      };
      // The table is created in the COPY's transaction, each statement once the one before is answered.
      const opened = (async () => {
        if (frozen) for (const stmt of ["begin", ...create]) await client.query(stmt);
        return client.query(copyFrom(statement));
      })();
      let failure: Error | undefined;
      const failed = new Promise<never>((_, reject) => {
        const fail = (err: Error) => {
          failure ??= err;
          reject(failure);
        };
        opened.then((stream) => stream.on("error", fail), fail);
      });
      failed.catch(settle);
      const ready = () => Promise.race([opened, failed]);
      return {
        async write(data) {
          if (failure) throw failure;
          const stream = await ready();
          const chunk = typeof data === "string" ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
          if (!stream.write(chunk)) await Promise.race([new Promise((r) => stream.once("drain", r)), failed]);
        },
        async end() {
          try {
            if (failure) throw failure;
            const stream = await ready();
            await Promise.race([new Promise<void>((r) => stream.end(() => r())), failed]);
            // 'finish' comes once the server answered and the connection is ready for the next statement.
            await Promise.race([
              new Promise((r) => (stream.writableFinished ? r(null) : stream.once("finish", r))),
              failed,
            ]);
            if (frozen) await client.query("commit");
            return Number(stream.rowCount ?? 0);
          } finally {
            settle();
          }
        },
      };
    },
    fork: () => openPostgresSession(connectionString),
    async close() {
      // A statement still running (an index build, after a failure elsewhere) keeps its locks until it
      // is done: the server does not look at the socket while it works. Cancel it first.
      if (running !== undefined) await cancelBackend(connectionString, pid);
      // end() waits for the server; a connection stuck mid-COPY is cut instead.
      const ended = client.end().catch(() => {});
      const timer = setTimeout(
        () => (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy(),
        2000,
      );
      await ended;
      clearTimeout(timer);
    },
  };
}

const short = (sql: string) => JSON.stringify(sql.replace(/\s+/g, " ").slice(0, 60));

/** Asks the server, from a connection of its own, to cancel what backend `pid` is running. */
async function cancelBackend(connectionString: string, pid: number): Promise<void> {
  const client = new pg.Client({ connectionString, application_name: "gtfs-import", connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select pg_cancel_backend($1)", [pid]);
  } catch {
    // best effort: without it the statement runs to its end
  } finally {
    await client.end().catch(() => {});
  }
}

/** The embedded database: one connection, COPY from in-memory blobs of a few MB. */
export function openPgliteSession(pglite: PGlite): LoadSession {
  const FLUSH_CHARS = 8 << 20;
  return {
    kind: "embedded",
    async query<R>(text: string, params?: unknown[]) {
      return (await pglite.query<R>(text, params)).rows;
    },
    copy(table, columns, format = "text", options = {}) {
      let parts: (string | Uint8Array)[] = [];
      let size = 0;
      let rows = 0;
      let create = options.create ?? [];
      const flush = async () => {
        for (const stmt of create) await pglite.query(stmt);
        create = [];
        if (!parts.length) return;
        const blob = new Blob(parts as BlobPart[]);
        parts = [];
        size = 0;
        const res = await pglite.query(
          `copy ${table} (${columns.join(", ")}) from '/dev/blob' with (format ${format})`,
          [],
          {
            blob,
          },
        );
        rows += res.affectedRows ?? 0;
      };
      return {
        async write(data) {
          parts.push(data);
          size += data.length;
          // Binary COPY cannot be split into separate statements: it is flushed once, at the end.
          if (format === "text" && size >= FLUSH_CHARS) await flush();
        },
        async end() {
          await flush();
          return rows;
        },
      };
    },
    fork: async () => undefined,
    close: async () => {},
  };
}
