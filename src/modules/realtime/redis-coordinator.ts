// The coordinator across replicas, on the Redis the cache already uses.
// - The turn to poll a source is a key set with NX and a TTL (`SET … NX PX`): whoever sets it polls;
//   everybody else waits until Redis expires it. Redis measures the TTL itself, so replicas' clocks
//   cannot make two polls overlap, and a poller that dies mid-poll hands over when its turn runs out.
//   After the poll the poller moves the expiry to one interval after the turn began (or further, to
//   back off after failures), so the turns follow the interval and not the poll's duration.
// - The snapshot is stored as the raw protobuf (the smallest form, and one every release decodes the
//   same way — a rolling update may run two releases at once) with its version, in one hash written
//   atomically; a PUBLISH tells the replicas, and each decodes and indexes it for itself. A replica
//   that missed the message finds the new version on its next check. With a signing key the hash
//   carries a tag, and a snapshot without a valid one is refused (snapshot-integrity.ts).
import { Redis } from "ioredis";
import type { Logger } from "../../logging/logger";
import type { Coordinator, PollState, SourceName } from "./coordinator";
import { snapshotTag, tagMatches, UntrustedSnapshotError } from "./snapshot-integrity";

const CHANNEL = "tapi:rt:published";
/** Snapshots outlive their usefulness (max_age) by far; the TTL only cleans up after a shutdown. */
const SNAPSHOT_TTL_SECONDS = 7 * 86_400;

// Moves the turn's expiry only while it is still this process's turn (or nobody's).
const EXTEND = `local v = redis.call('get', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) <= 0 then redis.call('del', KEYS[1]) return 1 end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

export interface RedisCoordinatorOptions {
  url: string;
  /** Distinguishes this process's turns from other replicas'. */
  id: string;
  commandTimeoutMs: number;
  /** Key namespace (tests give each its own). */
  prefix?: string;
  /** Signs published snapshots and refuses unsigned or altered ones (snapshotSigningKey). */
  signingKey?: Buffer;
}

export function redisCoordinator(options: RedisCoordinatorOptions, logger: Logger): Coordinator {
  const prefix = options.prefix ?? "tapi:rt:";
  const client = new Redis(options.url, {
    keyPrefix: prefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: Math.max(options.commandTimeoutMs, 2000), // snapshots are larger than cache entries
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  client.on("error", () => {}); // reported by the poller when a command fails
  // Commands fail at once while disconnected (no offline queue); at start-up, wait for the connection
  // a moment instead of reporting Redis as down.
  const connected = (): Promise<void> | undefined =>
    client.status === "ready"
      ? undefined
      : new Promise((resolve, reject) => {
          const timer = setTimeout(() => {
            client.off("ready", onReady);
            reject(new Error(`Redis is not connected (${client.status})`));
          }, 2000);
          const onReady = () => {
            clearTimeout(timer);
            resolve();
          };
          client.once("ready", onReady);
        });
  let subscriber: Redis | undefined;
  const listeners: ((source: SourceName, version: string) => void)[] = [];
  const channel = `${CHANNEL}:${prefix}`;
  const key = (source: SourceName, what: string) => `${source}:${what}`;

  return {
    kind: "redis",
    async claim(source, holdMs) {
      await connected();
      const set = await client.set(key(source, "turn"), options.id, "PX", Math.max(1, Math.round(holdMs)), "NX");
      if (set === "OK") return 0;
      const ttl = await client.pttl(key(source, "turn"));
      return ttl > 0 ? ttl : ttl === -1 ? holdMs : 1;
    },
    async extend(source, ms) {
      await connected();
      await client.eval(EXTEND, 1, key(source, "turn"), options.id, String(Math.round(ms)));
    },
    async state(source) {
      await connected();
      const raw = await client.get(key(source, "state"));
      if (!raw) return { validators: {}, failures: 0 };
      try {
        return JSON.parse(raw) as PollState;
      } catch {
        return { validators: {}, failures: 0 };
      }
    },
    async saveState(source, state) {
      await connected();
      await client.set(key(source, "state"), JSON.stringify(state), "EX", SNAPSHOT_TTL_SECONDS);
    },
    async publish(source, snapshot) {
      await connected();
      await client
        .multi()
        .hset(key(source, "snapshot"), {
          version: snapshot.version,
          fetched_at: String(snapshot.fetchedAt),
          bytes: Buffer.from(snapshot.bytes.buffer, snapshot.bytes.byteOffset, snapshot.bytes.byteLength),
          tag: options.signingKey ? snapshotTag(options.signingKey, source, snapshot) : "",
        })
        .expire(key(source, "snapshot"), SNAPSHOT_TTL_SECONDS)
        .exec();
      await client.publish(channel, `${source} ${snapshot.version}`);
    },
    async latestVersion(source) {
      await connected();
      return (await client.hget(key(source, "snapshot"), "version")) ?? undefined;
    },
    async latest(source) {
      await connected();
      const [version, fetchedAt, bytes, tag] = await client.hmgetBuffer(
        key(source, "snapshot"),
        "version",
        "fetched_at",
        "bytes",
        "tag",
      );
      if (!version || !fetchedAt || !bytes) return undefined;
      const snapshot = { version: version.toString(), fetchedAt: Number(fetchedAt.toString()), bytes };
      if (options.signingKey && !tagMatches(options.signingKey, source, snapshot, tag ?? null))
        throw new UntrustedSnapshotError(`snapshot ${snapshot.version} is not signed by this deployment`);
      if (!Number.isSafeInteger(snapshot.fetchedAt) || snapshot.fetchedAt <= 0)
        throw new UntrustedSnapshotError(`snapshot ${snapshot.version} has no valid fetch time`);
      return snapshot;
    },
    onPublished(listener) {
      listeners.push(listener);
      if (subscriber) return;
      subscriber = client.duplicate({ keyPrefix: undefined, enableOfflineQueue: true });
      subscriber.on("error", () => {});
      subscriber.on("message", (_channel: string, message: string) => {
        const [source, version] = message.split(" ");
        if (source && version) for (const l of listeners) l(source as SourceName, version);
      });
      subscriber.subscribe(channel).catch((err: Error) => {
        logger.warn(
          { err: { message: err.message } },
          "realtime: cannot subscribe to snapshot notices; checking versions instead",
        );
      });
    },
    async close() {
      subscriber?.disconnect();
      client.disconnect();
    },
  };
}
