// A pg Pool that reports every query it runs (time, failure, and a trace span) to an observer. Queries
// reach PostgreSQL two ways: `pool.query` (the API's named hot-path statements) and a checked-out
// client's `query` (kysely, imports). Each is observed where the caller makes it, so a span starts in
// the caller's async context — not where pg-pool later hands out a free connection, which runs in
// whichever request released it. pool.query checks its client out with the callback form of
// `connect`, which is left alone, so a query is never counted twice; clients checked out with the
// promise form are observed until released. Streams and cursors (`COPY`, objects with `submit`) pass
// through unobserved: an import's phases have spans of their own.
import pg from "pg";

export interface QueryObserver {
  /** Called as a query is sent; the function it returns is called once, when the query settled. */
  start(text: string, name?: string): (err?: unknown) => void;
}

type QueryFn = (...args: unknown[]) => unknown;
const OBSERVED = Symbol("transportation-api.observed-client");

function observe(run: QueryFn, args: unknown[], observer: QueryObserver): unknown {
  const [config, values, callback] = args as [unknown, unknown, unknown];
  if (typeof (config as { submit?: unknown } | null)?.submit === "function") return run(...args);
  const text = typeof config === "string" ? config : ((config as { text?: string } | null)?.text ?? "");
  const done = observer.start(text, (config as { name?: string } | null)?.name);
  const cb = typeof values === "function" ? values : callback;
  if (typeof cb === "function") {
    const settled = (err: unknown, res: unknown) => {
      done(err ?? undefined);
      (cb as (e: unknown, r: unknown) => void)(err, res);
    };
    return typeof values === "function" ? run(config, settled) : run(config, values, settled);
  }
  let result: unknown;
  try {
    result = run(...args);
  } catch (err) {
    done(err);
    throw err;
  }
  (result as Promise<unknown>).then(
    () => done(),
    (err: unknown) => done(err),
  );
  return result;
}

export function createInstrumentedPool(config: pg.PoolConfig, observer: QueryObserver): pg.Pool {
  class ObservedPool extends pg.Pool {
    override query(...args: unknown[]): never {
      return observe((...a) => (super.query as QueryFn).apply(this, a), args, observer) as never;
    }

    override connect(...args: unknown[]): never {
      if (typeof args[0] === "function") return (super.connect as QueryFn).apply(this, args) as never;
      return super.connect().then((client) => {
        const own = client as pg.PoolClient & { [OBSERVED]?: boolean };
        if (!own[OBSERVED]) {
          own[OBSERVED] = true;
          const prototypeQuery = client.query as unknown as QueryFn;
          (client as unknown as { query: QueryFn }).query = (...a) =>
            observe((...b) => prototypeQuery.apply(client, b), a, observer);
          const release = client.release;
          client.release = (err?: Error | boolean) => {
            // Back in the pool the client serves pool.query, which observes by itself.
            delete (client as unknown as { query?: QueryFn }).query;
            delete own[OBSERVED];
            return release.call(client, err);
          };
        }
        return client;
      }) as never;
    }
  }
  return new ObservedPool(config);
}
