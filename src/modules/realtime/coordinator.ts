// Who polls a source, and where the snapshot lives. The contract: at most one poll per source per
// turn across every process sharing the coordinator, and every process answers from the snapshot
// the last poll published. In one process (no Redis) that is plain memory; with Redis see
// redis-coordinator.ts.
import type { Validators } from "./fetch-source";

export type SourceName = "trip_updates" | "alerts" | "vehicle_positions";

export interface StoredSnapshot {
  version: string;
  /** Epoch ms when the poll that produced it ended. */
  fetchedAt: number;
  bytes: Uint8Array;
}

/** What the next poll of a source needs to know about the last ones (shared, so a new poller goes on). */
export interface PollState {
  validators: Validators;
  /** Hash of the last published body: an unchanged body is not published again. */
  hash?: string;
  failures: number;
  lastError?: string;
}

export interface Coordinator {
  readonly kind: "memory" | "redis";
  /**
   * Takes the turn to poll `source` now, holding it for `holdMs`: 0 when this process polls now,
   * otherwise how many ms until the current turn ends.
   */
  claim(source: SourceName, holdMs: number): Promise<number>;
  /** Ends this process's turn `ms` from now (now when ms ≤ 0): the next poll may start then. */
  extend(source: SourceName, ms: number): Promise<void>;
  state(source: SourceName): Promise<PollState>;
  saveState(source: SourceName, state: PollState): Promise<void>;
  publish(source: SourceName, snapshot: StoredSnapshot): Promise<void>;
  latestVersion(source: SourceName): Promise<string | undefined>;
  latest(source: SourceName): Promise<StoredSnapshot | undefined>;
  /** Called (in every process) after any process published a snapshot. */
  onPublished(listener: (source: SourceName, version: string) => void): void;
  close(): Promise<void>;
}

export function memoryCoordinator(now: () => number = Date.now): Coordinator {
  const turns = new Map<SourceName, number>();
  const states = new Map<SourceName, PollState>();
  const snapshots = new Map<SourceName, StoredSnapshot>();
  const listeners: ((source: SourceName, version: string) => void)[] = [];
  return {
    kind: "memory",
    async claim(source, holdMs) {
      const t = now();
      const until = turns.get(source) ?? 0;
      if (t < until) return until - t;
      turns.set(source, t + holdMs);
      return 0;
    },
    async extend(source, ms) {
      turns.set(source, now() + Math.max(0, ms));
    },
    async state(source) {
      const s = states.get(source);
      return s ? { ...s, validators: { ...s.validators } } : { validators: {}, failures: 0 };
    },
    async saveState(source, state) {
      states.set(source, { ...state, validators: { ...state.validators } });
    },
    async publish(source, snapshot) {
      snapshots.set(source, snapshot);
      for (const l of listeners) l(source, snapshot.version);
    },
    async latestVersion(source) {
      return snapshots.get(source)?.version;
    },
    async latest(source) {
      return snapshots.get(source);
    },
    onPublished(listener) {
      listeners.push(listener);
    },
    async close() {},
  };
}
