// Finds the damage that two processes on one embedded data directory leave behind, before it hangs a
// command. Each PGlite instance counts transaction ids on its own; the one that checkpoints last writes
// its (lower) counter into the control file, while pages keep rows stamped by the other's later ids.
// Reopened, the directory treats those ids as transactions still running: the rows are invisible, and
// a write that meets one (a unique key, a row lock) waits for that transaction to end. In single-user
// PostgreSQL nothing can end it, so the wait never returns (XactLockTableWait, polling at 100% CPU).
// Advancing the counter would not repair it: both processes used the same ids for different
// transactions, so the commit log cannot tell whose rows are whose. The check reads tuple headers with
// pageinspect (inside a transaction that is rolled back, leaving no trace) in the system catalogs and
// the public tables: where every write the app makes meets existing rows. Feed tables are written only
// into a fresh schema, so they are not read (the catalog rows naming them are).
import type { PGlite } from "@electric-sql/pglite";

export class DataDirDamagedError extends Error {
  override name = "DataDirDamagedError";
  constructor(
    readonly dir: string,
    readonly relations: { relation: string; rows: number }[],
  ) {
    const rows = relations.reduce((n, r) => n + r.rows, 0);
    const named = relations.map((r) => r.relation);
    const where = named.length > 3 ? `${named.slice(0, 3).join(", ")} and ${named.length - 3} more` : named.join(", ");
    super(
      `the embedded database in ${dir} is damaged: ${rows} rows (in ${where}) were written by transactions it never ` +
        "started, as two processes using it at once leave behind. It cannot be repaired in place, and using it " +
        `would hang. Move it aside and import the feed again into a new one: mv ${dir} ${dir}.damaged && ` +
        "npm run gtfs:import -- <feed>",
    );
  }
}

// An id is "from the future" when it follows ours (modulo 2^32, as PostgreSQL compares them). Ids below
// 3 are the special invalid, bootstrap and frozen ones. Infomask bits: 0x0300 xmin frozen, 0x0800 xmax
// invalid, 0x1000 xmax is a multixact (not a transaction id).
const FUTURE_ROWS = `
  with me as (select txid_current() % 4294967296 as xid),
  rels as (
    select c.oid, n.nspname, c.relname,
           pg_relation_size(c.oid) / current_setting('block_size')::int as pages
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'm') and c.relpersistence = 'p' and n.nspname in ('pg_catalog', 'public')
  ),
  items as (
    select r.nspname, r.relname, t.t_xmin::text::bigint as xmin, t.t_xmax::text::bigint as xmax, t.t_infomask as mask
    from rels r
    cross join lateral generate_series(0, r.pages - 1) as b(blk)
    cross join lateral heap_page_items(get_raw_page(r.oid::regclass::text, b.blk::int)) as t
    where t.lp_flags = 1
  )
  select nspname || '.' || relname as relation, count(*)::int as rows
  from items, me
  where (xmin >= 3 and (mask & 768) <> 768 and (xmin - me.xid + 4294967296) % 4294967296 between 1 and 2147483647)
     or (xmax >= 3 and (mask & 6144) = 0 and (xmax - me.xid + 4294967296) % 4294967296 between 1 and 2147483647)
  group by 1
  order by 1`;

/** Throws DataDirDamagedError when `pglite` (opened with the pageinspect extension) holds such rows. */
export async function assertNotDamaged(pglite: PGlite, dir: string): Promise<void> {
  await pglite.exec("begin; create extension if not exists pageinspect");
  try {
    const { rows } = await pglite.query<{ relation: string; rows: number }>(FUTURE_ROWS);
    if (rows.length > 0) throw new DataDirDamagedError(dir, rows);
  } finally {
    await pglite.exec("rollback");
  }
}
