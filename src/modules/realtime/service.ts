// The realtime side of a server process: polls the configured GTFS-Realtime sources (or follows the
// replica whose turn it is), keeps the decoded current snapshot of each, indexes TripUpdates against
// the active feed version, and hands answers a cheap synchronous view of it all. Nothing here is on
// the readiness path: without realtime, answers carry the timetable and say why.
import { randomUUID } from "node:crypto";
import { redisTarget } from "../../config/load";
import type { Config } from "../../config/schema";
import type { Database } from "../../db/database";
import type { Logger } from "../../logging/logger";
import { type ActiveFeed, activeFeed, type HotQuery, hotQuery } from "../gtfs/api/active-feed";
import { formatInZone } from "../gtfs/domain/timezone";
import { type AlertsIndex, buildAlertsIndex } from "./alerts";
import { type Coordinator, memoryCoordinator, type SourceName } from "./coordinator";
import { type FeedMessage, optionalSeconds } from "./feed-message";
import { sharedSnapshotFollower } from "./follow-shared";
import type { RealtimeView, SourceState, SourceStatus } from "./merge";
import { type PollerStats, type PollOutcome, SourcePoller } from "./poller";
import { redisCoordinator } from "./redis-coordinator";
import { snapshotSigningKey } from "./snapshot-integrity";
import { type RouteFacts, type StaticSchedule, staticSchedule } from "./static-schedule";
import { buildTripUpdatesIndex, type TripUpdatesCounts, type TripUpdatesIndex } from "./trip-updates";
import { buildVehicleIndex, type VehicleIndex } from "./vehicles";

/** How soon an answer may retry indexing the same snapshot against the same feed version. */
const REBUILD_RETRY_MS = 5000;

export const SOURCES: SourceName[] = ["trip_updates", "alerts", "vehicle_positions"];

interface Snapshot {
  version: string;
  fetchedAt: number;
  /** Epoch seconds the feed says it describes (header timestamp), else when it was fetched. */
  timestamp: number;
  message: FeedMessage;
  entities: number;
}

export interface SourceStats extends PollerStats {
  /** What this process answers from. */
  snapshot: {
    version: string;
    fetched_at: number;
    timestamp: number;
    age_seconds: number;
    entities: number;
  } | null;
}

/** Read by metrics (issue 16: prom-client gauges and counters are derived from this). */
export interface RealtimeStats {
  enabled: boolean;
  coordinator: "memory" | "redis" | "none";
  max_age_seconds: number;
  sources: Partial<Record<SourceName, SourceStats>>;
  trip_updates_index: (TripUpdatesCounts & { feed_id: number; build_ms: number }) | null;
}

export interface RealtimeService {
  readonly enabled: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The realtime to merge into an answer about `feed` at wall-clock `nowMs`. Synchronous and cheap. */
  view(feed: ActiveFeed, nowMs?: number): RealtimeView;
  /**
   * `view(feed, nowMs).key` without building the view: what an answer merged with realtime is current
   * for (the fast path checks it per request, src/http/recent-answers.ts).
   */
  viewKey(feed: ActiveFeed, nowMs?: number): string;
  stats(nowMs?: number): RealtimeStats;
  /** Polls one source now, whoever's turn it is (tests, and the first poll at start-up). */
  pollNow(source: SourceName): Promise<PollOutcome>;
  /** Resolves once pending snapshot loads and index builds have finished. */
  settled(): Promise<void>;
  /** The vehicle positions snapshot, if any. */
  vehicles(): VehicleIndex | undefined;
  /**
   * Pending only for the first answers about a feed version, while its routes load (one small
   * query): alerts for an agency or route type need them. Otherwise undefined, so answers stay sync.
   */
  prepare(feed: ActiveFeed): Promise<unknown> | undefined;
}

export interface RealtimeOptions {
  config: Config;
  logger: Logger;
  database: Database;
  coordinator?: Coordinator;
  now?: () => number;
  random?: () => number;
}

export function createRealtimeService(options: RealtimeOptions): RealtimeService {
  const { config, logger, database } = options;
  const rc = config.realtime;
  const now = options.now ?? Date.now;
  const urls: Record<SourceName, string | null> = {
    trip_updates: rc.trip_updates_url,
    alerts: rc.alerts_url,
    vehicle_positions: rc.vehicle_positions_url,
  };
  const configured = SOURCES.filter((s) => urls[s]);
  const enabled = configured.length > 0;
  const query: HotQuery = hotQuery(database);
  const maxAgeSecs = rc.max_age;
  const redisUrl = redisTarget(config);
  const shared = enabled && !options.coordinator && redisUrl !== undefined;
  if (shared && !config.api.api_secret)
    logger.warn(
      "API_SECRET is not set: realtime snapshots shared through Redis are not signed, so anyone who can write to Redis can change what replicas serve",
    );
  const coordinator: Coordinator | undefined = !enabled
    ? undefined
    : (options.coordinator ??
      (redisUrl
        ? redisCoordinator(
            {
              url: redisUrl,
              id: randomUUID(),
              commandTimeoutMs: Math.round(config.redis.command_timeout * 1000),
              signingKey: snapshotSigningKey(config.api.api_secret),
            },
            logger,
          )
        : memoryCoordinator(now)));

  const snapshots = new Map<SourceName, Snapshot>();
  let tripIndex: TripUpdatesIndex | undefined;
  let tripIndexBuildMs = 0;
  /** Which build made tripIndex: two snapshots of the same second still make two views. */
  let tripIndexBuild = 0;
  let alertsIndex: AlertsIndex | undefined;
  let vehicleIndex: VehicleIndex | undefined;
  const schedules = new Map<
    number,
    { schedule: StaticSchedule; routes?: Map<string, RouteFacts>; loading: Promise<unknown> }
  >();
  /** Snapshot loads and index builds under way (stop() and tests wait for them). */
  const inFlight = new Set<Promise<unknown>>();
  let buildSeq = 0;
  /** Builds started per "feed id|snapshot version", so answers never start the same one twice. */
  const attempted = new Map<string, number>();
  let lastFeed: ActiveFeed | undefined;

  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    p.then(
      () => inFlight.delete(p),
      () => inFlight.delete(p),
    );
    return p;
  };
  const settled = async () => {
    while (inFlight.size) await Promise.allSettled([...inFlight]);
  };

  function scheduleFor(feed: ActiveFeed) {
    let entry = schedules.get(feed.id);
    if (!entry) {
      for (const id of schedules.keys()) if (id < feed.id - 1) schedules.delete(id);
      const schedule = staticSchedule(query, feed);
      const e: { schedule: StaticSchedule; routes?: Map<string, RouteFacts>; loading: Promise<unknown> } = {
        schedule,
        loading: Promise.resolve(),
      };
      e.loading = track(
        schedule.routes().then(
          (routes) => {
            e.routes = routes;
          },
          () => {
            schedules.delete(feed.id); // the next answer tries again
          },
        ),
      );
      schedules.set(feed.id, e);
      entry = e;
    }
    return entry;
  }

  /** Indexes the current TripUpdates snapshot against `feed` (or the active feed); the newest build wins. */
  function rebuildTripIndex(feed?: ActiveFeed): Promise<void> {
    const snap = snapshots.get("trip_updates");
    if (!snap) return Promise.resolve();
    const seq = ++buildSeq;
    const run = (async () => {
      const started = performance.now();
      const f = feed ?? lastFeed ?? (await activeFeed(query));
      if (attempted.size > 100) attempted.clear();
      attempted.set(`${f.id}|${snap.version}`, now());
      const index = await buildTripUpdatesIndex(
        snap.message,
        scheduleFor(f).schedule,
        Math.floor(snap.fetchedAt / 1000),
      );
      if (seq !== buildSeq) return; // a newer build started meanwhile
      tripIndex = index;
      tripIndexBuild = seq;
      tripIndexBuildMs = performance.now() - started;
      logger.debug(
        { version: snap.version, feed_id: f.id, ...index.counts, ms: Math.round(tripIndexBuildMs) },
        "realtime: trip updates indexed",
      );
    })().catch((err: Error) => {
      if ((err as { code?: string }).code !== "NO_FEED")
        logger.warn(
          { err: { message: err.message } },
          "realtime: cannot match trip updates to the timetable; retrying shortly",
        );
    });
    return track(run);
  }

  async function apply(source: SourceName, version: string, fetchedAt: number, message: FeedMessage) {
    const timestamp = optionalSeconds(message.header, "timestamp") || Math.floor(fetchedAt / 1000);
    snapshots.set(source, { version, fetchedAt, timestamp, message, entities: message.entity.length });
    if (source === "trip_updates") await rebuildTripIndex();
    else if (source === "alerts") alertsIndex = buildAlertsIndex(message, Math.floor(fetchedAt / 1000));
    else vehicleIndex = buildVehicleIndex(message, Math.floor(fetchedAt / 1000));
  }

  const followShared = coordinator
    ? sharedSnapshotFollower({ coordinator, logger, track, apply, current: (s) => snapshots.get(s)?.version })
    : undefined;
  const follow = (source: SourceName, version?: string) => followShared?.(source, version) ?? Promise.resolve();

  const pollers = new Map<SourceName, SourcePoller>();
  if (coordinator)
    for (const source of configured) {
      pollers.set(
        source,
        new SourcePoller({
          source,
          url: urls[source]!,
          headers: rc.headers,
          intervalMs: rc.poll_interval * 1000,
          timeoutMs: rc.timeout * 1000,
          backoffMaxMs: rc.backoff_max * 1000,
          coordinator,
          logger,
          random: options.random,
          now,
          onSnapshot: (version, fetchedAt, message) => track(apply(source, version, fetchedAt, message)),
          onWait: () => void follow(source),
          describeLastGood: () => {
            const snap = snapshots.get(source);
            return snap ? `produced ${new Date(snap.timestamp * 1000).toISOString()}` : "none yet";
          },
        }),
      );
    }

  function sourceState(source: "trip_updates" | "alerts", nowMs: number, usable: boolean): SourceState {
    if (!urls[source]) return "disabled";
    const snap = snapshots.get(source);
    if (!snap || !usable) return "unavailable";
    return nowMs / 1000 - snap.timestamp > maxAgeSecs ? "stale" : "current";
  }

  function sourceStatus(source: "trip_updates" | "alerts", feed: ActiveFeed, state: SourceState): SourceStatus {
    const snap = state === "disabled" ? undefined : snapshots.get(source);
    return { status: state, updated_at: snap ? formatInZone(feed.timezone, snap.timestamp * 1000) : null };
  }

  /** The trip updates index usable for `feed`; starts indexing again when it is for another version. */
  function indexFor(feed: ActiveFeed, nowMs: number): TripUpdatesIndex | undefined {
    const tu = snapshots.get("trip_updates");
    const index = tripIndex;
    if (tu && (!index || index.feedId !== feed.id)) {
      // A new feed version (or a build that failed): index again, at most every few seconds.
      const tried = attempted.get(`${feed.id}|${tu.version}`);
      if (tried === undefined || nowMs - tried > REBUILD_RETRY_MS) void rebuildTripIndex(feed);
    }
    return index && index.feedId === feed.id ? index : undefined;
  }

  /** Changes whenever what a view holds does: a snapshot, its index, a source's state, the routes. */
  function keyOf(
    feed: ActiveFeed,
    nowMs: number,
    index: TripUpdatesIndex | undefined,
    tuState: SourceState,
    alertsState: SourceState,
    routesLoaded: boolean,
  ): string {
    const vehicles = snapshots.get("vehicle_positions");
    const vehiclesCurrent = vehicles !== undefined && nowMs / 1000 - vehicles.timestamp <= maxAgeSecs;
    return [
      feed.id,
      snapshots.get("trip_updates")?.version ?? "-",
      index ? tripIndexBuild : "-",
      tuState,
      snapshots.get("alerts")?.version ?? "-",
      alertsState,
      vehiclesCurrent ? vehicles.version : "-",
      routesLoaded ? 1 : 0,
    ].join("|");
  }

  const disabledView = (feed: ActiveFeed): RealtimeView => ({
    key: `off:${feed.id}`,
    sources: {
      trip_updates: { status: "disabled", updated_at: null },
      alerts: { status: "disabled", updated_at: null },
    },
  });

  return {
    enabled,
    async start() {
      if (!coordinator) return;
      for (const source of configured) {
        coordinator.onPublished((s, version) => {
          if (s === source) void follow(source, version);
        });
        await follow(source);
      }
      for (const p of pollers.values()) p.start();
      logger.info(
        { sources: configured, coordinator: coordinator.kind, poll_interval_s: rc.poll_interval },
        "realtime: polling GTFS-Realtime sources",
      );
    },
    async stop() {
      await Promise.all([...pollers.values()].map((p) => p.stop()));
      await settled();
      await coordinator?.close();
    },
    view(feed, nowMs = now()) {
      if (!enabled) return disabledView(feed);
      const entry = scheduleFor(feed);
      lastFeed = feed;
      const index = indexFor(feed, nowMs);
      const tuState = sourceState("trip_updates", nowMs, index !== undefined);
      const alertsState = sourceState("alerts", nowMs, alertsIndex !== undefined);
      const vehicles = snapshots.get("vehicle_positions");
      const vehiclesCurrent = vehicles !== undefined && nowMs / 1000 - vehicles.timestamp <= maxAgeSecs;
      return {
        key: keyOf(feed, nowMs, index, tuState, alertsState, entry.routes !== undefined),
        tripUpdates: tuState === "current" ? index : undefined,
        alerts: alertsState === "current" ? alertsIndex?.alerts : undefined,
        vehicles: vehiclesCurrent ? vehicleIndex : undefined,
        routes: entry.routes,
        sources: {
          trip_updates: sourceStatus("trip_updates", feed, tuState),
          alerts: sourceStatus("alerts", feed, alertsState),
        },
      };
    },
    viewKey(feed, nowMs = now()) {
      if (!enabled) return disabledView(feed).key;
      const index = indexFor(feed, nowMs);
      const tuState = sourceState("trip_updates", nowMs, index !== undefined);
      const alertsState = sourceState("alerts", nowMs, alertsIndex !== undefined);
      return keyOf(feed, nowMs, index, tuState, alertsState, schedules.get(feed.id)?.routes !== undefined);
    },
    stats(nowMs = now()) {
      const sources: RealtimeStats["sources"] = {};
      for (const source of configured) {
        const snap = snapshots.get(source);
        sources[source] = {
          ...pollers.get(source)!.stats,
          snapshot: snap
            ? {
                version: snap.version,
                fetched_at: snap.fetchedAt,
                timestamp: snap.timestamp,
                age_seconds: Math.max(0, nowMs / 1000 - snap.timestamp),
                entities: snap.entities,
              }
            : null,
        };
      }
      return {
        enabled,
        coordinator: coordinator?.kind ?? "none",
        max_age_seconds: maxAgeSecs,
        sources,
        trip_updates_index: tripIndex
          ? { ...tripIndex.counts, feed_id: tripIndex.feedId, build_ms: tripIndexBuildMs }
          : null,
      };
    },
    async pollNow(source) {
      const poller = pollers.get(source);
      if (!poller) throw new Error(`realtime source ${source} is not configured`);
      const { outcome } = await poller.cycle(true);
      await settled();
      return outcome;
    },
    settled,
    vehicles: () => vehicleIndex,
    prepare(feed) {
      if (!enabled) return undefined;
      const entry = scheduleFor(feed);
      return entry.routes ? undefined : entry.loading;
    },
  };
}
