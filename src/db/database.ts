// Opens the configured database: a PostgreSQL server through a pg Pool, or embedded PGlite.
import { Kysely, PGliteDialect, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { databaseTarget } from "../config/load";
import type { Config } from "../config/schema";
import type { Logger } from "../logging/logger";
import { markDataDirChecked } from "./data-dir-lock";
import { assertNotDamaged } from "./embedded-damage";
import { createInstrumentedPool, type QueryObserver } from "./instrumented-pool";
import type { Tables } from "./tables";

export interface Database {
  readonly kind: "postgres" | "embedded";
  readonly db: Kysely<Tables>;
  /** The server pool (COPY and other raw-protocol work); absent on the embedded database. */
  readonly pool?: pg.Pool;
  /**
   * The pool reaches PostgreSQL through a transaction-mode pooler: a connection is a server session only
   * for one transaction, so nothing may rely on session state (named prepared statements, LISTEN).
   */
  readonly transactionPooling?: boolean;
  /** The embedded instance; absent on a server. */
  readonly pglite?: import("@electric-sql/pglite").PGlite;
  /** Resolves when a trivial query round-trips within `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface OpenOptions {
  /** The embedded directory's lock asked for a damage check (see data-dir-lock.ts, embedded-damage.ts). */
  checkEmbedded?: boolean;
  /** Sees every query on a PostgreSQL server (metrics and trace spans); the embedded database is not observed. */
  observer?: QueryObserver;
}

export async function openDatabase(config: Config, logger: Logger, options: OpenOptions = {}): Promise<Database> {
  const target = databaseTarget(config);
  if (target.kind === "postgres") return openPostgres(target.url, config, logger, options.observer);
  return openEmbedded(target.dir, logger, options.checkEmbedded === true && target.dir !== ":memory:");
}

function openPostgres(url: string, config: Config, logger: Logger, observer?: QueryObserver): Database {
  const d = config.database;
  const options: pg.PoolConfig = {
    connectionString: url,
    // pg has one ceiling; pool_size connections serve steady load, max_overflow more are opened in
    // bursts and closed again after idleTimeoutMillis.
    max: d.pool_size + d.max_overflow,
    min: 0,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: Math.round(d.connect_timeout * 1000),
    statement_timeout: Math.round(d.statement_timeout * 1000),
    idle_in_transaction_session_timeout: Math.round(d.statement_timeout * 2000),
    application_name: config.app.name,
    keepAlive: true,
  };
  const pool = observer ? createInstrumentedPool(options, observer) : new pg.Pool(options);
  // A client whose server goes away while it is checked out (a query in flight when PostgreSQL stops)
  // emits "error" on itself: the pool listens only to idle ones, and an unheard error event ends the
  // process. The query in flight fails on its own (503), so this listener only has to exist.
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  // An idle client whose server went away emits here; without a listener the process would crash.
  pool.on("error", (err) =>
    logger.warn(
      { err: { message: err.message, code: (err as { code?: string }).code } },
      "idle database connection failed",
    ),
  );
  return wrap("postgres", new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) }), {
    pool,
    transactionPooling: d.transaction_pooling,
  });
}

function wrap(
  kind: Database["kind"],
  db: Kysely<Tables>,
  handles: Pick<Database, "pool" | "pglite" | "transactionPooling">,
): Database {
  return {
    kind,
    db,
    ...handles,
    ping: (timeoutMs) =>
      withTimeout(
        sql`select 1`.execute(db).then(() => undefined),
        timeoutMs,
        "database ping",
      ),
    close: () => db.destroy(),
  };
}

async function openEmbedded(dir: string, logger: Logger, check: boolean): Promise<Database> {
  const [{ PGlite }, { unaccent }, { pg_trgm }, inspect] = await Promise.all([
    import("@electric-sql/pglite"),
    import("@electric-sql/pglite/contrib/unaccent"),
    import("@electric-sql/pglite/contrib/pg_trgm"),
    check ? import("@electric-sql/pglite/contrib/pageinspect") : undefined,
  ]);
  const extensions = { unaccent, pg_trgm, ...(inspect ? { pageinspect: inspect.pageinspect } : {}) };
  const pglite = await PGlite.create(dir === ":memory:" ? undefined : dir, { extensions });
  if (check) {
    logger.info({ dir }, "checking an embedded database written by an earlier version (once)");
    try {
      await assertNotDamaged(pglite, dir);
    } catch (err) {
      await pglite.close().catch(() => {});
      throw err;
    }
    markDataDirChecked(dir);
  }
  logger.info({ dir }, "using the embedded database (PGlite); set DATABASE_URL for a PostgreSQL server");
  return wrap("embedded", new Kysely<Tables>({ dialect: new PGliteDialect({ pglite }) }), { pglite });
}
