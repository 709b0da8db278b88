// How /v1 answers about the active feed version are cached and served: built once, checked against
// their schema, kept as JSON text (shared through Redis) and as prepared bytes in process
// (src/http/answer-cache.ts), remembered for the fast path (src/http/recent-answers.ts) while what they
// depend on holds, and with GTFS-Realtime merged in per (timetable answer, realtime view).
import { LRUCache } from "lru-cache";
import type { Cache } from "../../../cache/cache";
import type { Config } from "../../../config/schema";
import type { Answer, AnswerPolicy } from "../../../http/answer";
import { createAnswerCache } from "../../../http/answer-cache";
import { createRecentAnswers } from "../../../http/recent-answers";
import type { RealtimeView } from "../../realtime/merge";
import type { RealtimeService } from "../../realtime/service";
import type { ActiveFeed, ActiveFeedResolver } from "./active-feed";

/** Bytes of realtime-merged answers kept in process, per (timetable answer, realtime snapshot). */
const MERGED_CACHE_BYTES = 16 * 1024 * 1024;
/** Lookups are immutable within a feed version (the key carries it); the TTL only bounds memory. */
export const LOOKUP_TTL_SECONDS = 3600;
/** Boards are cached no longer than their own window, and at most 10 minutes. */
export const boardTtl = (windowMinutes: number) => Math.min(windowMinutes * 60, 600);

// What clients and shared caches may keep. Lookups hold until a new feed version is activated, which an
// operator may do at any time: five minutes, then revalidate (a 304 costs no body). A board of `now`
// moves on as departures leave: half a minute, never beyond its own window. The answer depends on the
// key presented (401 without one), so a shared cache keeps one copy per key.
// Answers with realtime merged in (boards, trips, alerts, when a source is configured) change with each
// snapshot: they are kept no longer than the poll interval, after which a newer snapshot may be served.
export const KEYED = ["X-API-Key", "Authorization"] as const;
export const LOOKUP_MAX_AGE = 300;
export const LOOKUP: AnswerPolicy = { cacheControl: `public, max-age=${LOOKUP_MAX_AGE}`, vary: KEYED };
/** Alerts change with the Alerts snapshot, at most every poll interval. */
export const ALERTS_MAX_AGE = 60;
export const FEEDS: AnswerPolicy = { cacheControl: "public, max-age=60", vary: KEYED };
export const boardMaxAge = (windowMinutes: number) => Math.min(30, windowMinutes * 60);
export const boardPolicy = (windowMinutes: number): AnswerPolicy => ({
  cacheControl: `public, max-age=${boardMaxAge(windowMinutes)}`,
  vary: KEYED,
});

export interface FeedAnswerDeps {
  cache: Cache;
  config: Pick<Config, "api" | "redis" | "realtime">;
  realtime?: RealtimeService;
  activeFeed: ActiveFeedResolver;
}

export type FeedAnswers = ReturnType<typeof createFeedAnswers>;

export function createFeedAnswers(deps: FeedAnswerDeps) {
  const activeFeed = deps.activeFeed;
  const answers = createAnswerCache({
    cache: deps.cache,
    compression: { enabled: deps.config.api.compression, minBytes: deps.config.api.compression_min_bytes },
    maxEntries: deps.cache.kind === "memory" ? deps.config.redis.memory_max_entries : undefined,
  });
  const realtime = deps.realtime;
  // Answers depend on the active version, and those merged with realtime on the current view of it too:
  // the fast path serves one only while what it depends on is known to be current.
  const recent = createRecentAnswers(
    () => {
      const feed = activeFeed.current();
      return feed === undefined ? undefined : String(feed.id);
    },
    () => {
      const feed = activeFeed.current();
      return feed === undefined || realtime === undefined ? undefined : realtime.viewKey(feed);
    },
  );
  const pollInterval = deps.config.realtime.poll_interval;
  const livePolicy = (maxAge: number): AnswerPolicy => ({
    cacheControl: `public, max-age=${Math.max(1, Math.min(maxAge, pollInterval))}`,
    vary: KEYED,
  });

  /**
   * The answer under `key` (cached, or built from `load`, checked against its schema and stored), for
   * this request; remembered for the fast path until `until` (default: its TTL).
   */
  async function cached<T>(
    // accept: the answer was negotiated from the Accept header (the fast path then matches it too).
    ctx: { request: Request; route: string; accept?: boolean },
    feed: ActiveFeed,
    key: string,
    ttl: number,
    policy: AnswerPolicy,
    check: (value: T) => T,
    load: () => Promise<T>,
    until = Number.POSITIVE_INFINITY,
  ): Promise<Response> {
    const { answer, hit } = await answers.get(key, ttl, policy, async () => JSON.stringify(check(await load())));
    if (activeFeed.current()?.id === feed.id)
      recent.remember(ctx.request, {
        answer,
        route: ctx.route,
        stamp: String(feed.id),
        until: Math.min(until, Date.now() + ttl * 1000),
        ...(ctx.accept ? { accept: ctx.request.headers.get("accept") } : {}),
      });
    return answer.serve(ctx.request, hit);
  }

  // Realtime is merged into the cached timetable answer per request, never stored with it: the shared
  // cache stays per feed version, and a new snapshot needs no invalidation. The merged answer is
  // prepared (bytes, ETag, compression) once per (timetable answer, realtime view): its ETag changes
  // with the snapshot, and the fast path keeps it only while that view is the current one.
  const live = realtime?.enabled === true;
  const merged = new LRUCache<string, { view: string; answer: Answer }>({
    maxSize: MERGED_CACHE_BYTES,
    sizeCalculation: (v, k) => v.answer.size + k.length,
  });
  const decoder = new TextDecoder();

  /** `cached`, with the current realtime merged in by `merge` (the answer is then checked by `checkMerged`). */
  async function withRealtime<T>(
    ctx: { request: Request; route: string },
    feed: ActiveFeed,
    key: string,
    ttl: number,
    policy: { timetable: AnswerPolicy; live: AnswerPolicy },
    // Checked as they are built; typed loosely here, the schemas say what each is.
    check: { timetable: (value: never) => unknown; merged: (value: never) => unknown },
    load: () => Promise<{ data: T }>,
    merge: (data: T, view: RealtimeView) => unknown,
    until = Number.POSITIVE_INFINITY,
  ): Promise<Response> {
    if (!realtime)
      return cached(
        ctx,
        feed,
        key,
        ttl,
        policy.timetable,
        check.timetable as (v: { data: T }) => { data: T },
        load,
        until,
      );
    const { answer: base, hit } = await answers.get(key, ttl, policy.timetable, async () =>
      JSON.stringify((check.timetable as (value: unknown) => unknown)(await load())),
    );
    const preparing = realtime.prepare(feed);
    if (preparing) await preparing;
    const view = realtime.view(feed);
    let memo = merged.get(key);
    if (memo?.view !== view.key) {
      const { data } = JSON.parse(decoder.decode(base.body)) as { data: T };
      const text = JSON.stringify((check.merged as (value: unknown) => unknown)({ data: merge(data, view) }));
      memo = { view: view.key, answer: answers.prepare(text, live ? policy.live : policy.timetable) };
      merged.set(key, memo, { ttl: ttl * 1000 });
    }
    if (activeFeed.current()?.id === feed.id)
      recent.remember(ctx.request, {
        answer: memo.answer,
        route: ctx.route,
        // Merged with this view: served again only while it is the current one.
        stamp: live ? view.key : String(feed.id),
        live,
        until: Math.min(until, Date.now() + ttl * 1000),
      });
    return memo.answer.serve(ctx.request, hit);
  }

  const feedKey = (feed: ActiveFeed, ...parts: (string | number | undefined)[]) =>
    `gtfs:v${feed.id}:${parts.map((p) => encodeURIComponent(String(p ?? ""))).join(":")}`;

  return { answers, recent, cached, withRealtime, livePolicy, feedKey };
}
