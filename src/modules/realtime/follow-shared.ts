// Keeps a replica on the snapshot another replica published: on a notice, or when it waits for a
// turn, it loads the shared snapshot if it is newer than its own — the version first (a few bytes),
// the snapshot (megabytes) only then, one load at a time per source. What it loads is untrusted
// input: a snapshot the coordinator refuses (snapshot-integrity.ts) or that does not decode is logged
// once and never loaded again, and the replica keeps answering from its last good one.
import type { Logger } from "../../logging/logger";
import type { Coordinator, SourceName, StoredSnapshot } from "./coordinator";
import { decodeFeed, type FeedMessage } from "./feed-message";
import { UntrustedSnapshotError } from "./snapshot-integrity";

export interface FollowOptions {
  coordinator: Coordinator;
  logger: Logger;
  /** The version this process answers from. */
  current(source: SourceName): string | undefined;
  apply(source: SourceName, version: string, fetchedAt: number, message: FeedMessage): Promise<void>;
  /** Registers work under way (stop() and tests wait for it). */
  track<T>(work: Promise<T>): Promise<T>;
}

/** `follow(source, version?)`: loads `version` (default: whatever is shared now) unless it is known. */
export function sharedSnapshotFollower(o: FollowOptions): (source: SourceName, version?: string) => Promise<void> {
  const following = new Map<SourceName, Promise<void>>();
  /** The last shared version refused (unsigned, altered, undecodable): not loaded again. */
  const refused = new Map<SourceName, string>();
  const known = (source: SourceName, version: string) =>
    o.current(source) === version || refused.get(source) === version;
  const refuse = (source: SourceName, version: string, why: string) => {
    refused.set(source, version);
    o.logger.warn(
      { source, version, err: { message: why } },
      "realtime: shared snapshot refused, keeping the last good one",
    );
  };

  async function load(source: SourceName, version?: string): Promise<void> {
    const latest = version ?? (await o.coordinator.latestVersion(source));
    if (!latest || known(source, latest)) return;
    let stored: StoredSnapshot | undefined;
    try {
      stored = await o.coordinator.latest(source);
    } catch (err) {
      if (!(err instanceof UntrustedSnapshotError)) throw err;
      refuse(source, latest, err.message);
      return;
    }
    if (!stored || known(source, stored.version)) return;
    let message: FeedMessage;
    try {
      message = await decodeFeed(stored.bytes);
    } catch (err) {
      refuse(source, stored.version, `it does not decode: ${(err as Error).message}`);
      return;
    }
    await o.apply(source, stored.version, stored.fetchedAt, message);
  }

  function follow(source: SourceName, version?: string): Promise<void> {
    if (version && known(source, version)) return Promise.resolve();
    const running = following.get(source);
    if (running) return running.then(() => follow(source, version)); // one load at a time per source
    const loading = o
      .track(
        load(source, version).catch((err: Error) => {
          o.logger.debug({ source, err: { message: err.message } }, "realtime: cannot load the shared snapshot yet");
        }),
      )
      .finally(() => following.delete(source));
    following.set(source, loading);
    return loading;
  }
  return follow;
}
