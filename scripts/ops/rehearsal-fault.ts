// Preloaded (`bun --preload`) into the rollback rehearsal's broken builds (scripts/ops/rehearse-rollback.ts):
// a release with a bug users see and the readiness gate does not. It reaches PostgreSQL, /ready and
// /version answer as they should, but the queries behind the feed catalogue (GET /v1/feeds) misbehave:
//   REHEARSAL_FAULT=errors  every fifth one fails (the API answers 500)
//   REHEARSAL_FAULT=slow    each one takes REHEARSAL_DELAY_MS longer (default 1500)
// Injected at the database client, below the service's own request metrics, so /metrics reports what
// users get — which is what the deploy's analysis window reads.
import pg from "pg";

type Query = (this: pg.Client, ...args: unknown[]) => unknown;
const fault = process.env.REHEARSAL_FAULT;
const delayMs = Number(process.env.REHEARSAL_DELAY_MS ?? 1500);
const original = pg.Client.prototype.query as unknown as Query;
let count = 0;

(pg.Client.prototype as unknown as { query: Query }).query = function (this: pg.Client, ...args: unknown[]) {
  const text = typeof args[0] === "string" ? args[0] : ((args[0] as { text?: string } | null)?.text ?? "");
  if (!/^\s*select\b[\s\S]*\bgtfs_feed\b/i.test(text)) return original.apply(this, args);
  const callback = args.find((a): a is (err: unknown, res?: unknown) => void => typeof a === "function");
  if (fault === "errors" && ++count % 5 === 0) {
    const err = Object.assign(new Error("rehearsal: injected query failure"), { code: "XX000" });
    if (callback) {
      setImmediate(() => callback(err));
      return undefined;
    }
    return Promise.reject(err);
  }
  if (fault === "slow") {
    if (callback) {
      setTimeout(() => original.apply(this, args), delayMs);
      return undefined;
    }
    return new Promise((resolve) => setTimeout(resolve, delayMs)).then(() => original.apply(this, args));
  }
  return original.apply(this, args);
};
