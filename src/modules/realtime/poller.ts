// The poll loop of one GTFS-Realtime source. Every process runs it; the coordinator decides which one
// actually polls each turn. A failed poll (no answer in time, an HTTP error, a body that is not a
// GTFS-Realtime feed) is logged in one line, leaves the last good snapshot in place, and backs off
// exponentially with jitter (up to backoff_max) so a struggling agency server is not hammered by
// the whole fleet; the first success goes back to the configured interval.
import { createHash } from "node:crypto";
import type { Logger } from "../../logging/logger";
import type { Coordinator, PollState, SourceName } from "./coordinator";
import { decodeFeed, type FeedMessage } from "./feed-message";
import { describeUrl, fetchSource } from "./fetch-source";

export interface PollerOptions {
  source: SourceName;
  url: string;
  headers: Record<string, string>;
  intervalMs: number;
  timeoutMs: number;
  backoffMaxMs: number;
  coordinator: Coordinator;
  logger: Logger;
  /** A new snapshot from this process's own poll (already decoded). */
  onSnapshot(version: string, fetchedAt: number, message: FeedMessage): Promise<void>;
  /** Each time this process has to wait for another's turn: a chance to check for a missed notice. */
  onWait?(): void;
  random?: () => number;
  now?: () => number;
  /** When the last good snapshot was produced, for the failure log line. */
  describeLastGood(): string;
}

export interface PollerStats {
  url: string;
  /** Polls this process made (each replica counts its own; a sum over replicas is the total). */
  polls: number;
  not_modified: number;
  unchanged: number;
  failures: number;
  consecutive_failures: number;
  last_error: string | null;
  last_poll_at: number | null;
  last_success_at: number | null;
}

export type PollOutcome = "published" | "not-modified" | "unchanged" | "failed" | "waiting";

/** Backoff after `failures` failures in a row: interval × 2^(n−1), capped, with "equal jitter". */
export function backoffMs(failures: number, intervalMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, intervalMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return ceiling / 2 + random() * (ceiling / 2);
}

export class SourcePoller {
  readonly stats: PollerStats;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private running: Promise<PollOutcome> | undefined;
  private redisDown = false;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly o: PollerOptions) {
    this.random = o.random ?? Math.random;
    this.now = o.now ?? Date.now;
    this.stats = {
      url: describeUrl(o.url),
      polls: 0,
      not_modified: 0,
      unchanged: 0,
      failures: 0,
      consecutive_failures: 0,
      last_error: null,
      last_poll_at: null,
      last_success_at: null,
    };
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => {});
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), Math.max(0, ms));
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    const { next } = await this.cycle();
    this.schedule(next);
  }

  /** One turn: poll if it is ours (or `force`), else learn when the current turn ends. */
  async cycle(force = false): Promise<{ outcome: PollOutcome; next: number }> {
    const run = this.turn(force);
    this.running = run.then((r) => r.outcome);
    return run;
  }

  private async turn(force: boolean): Promise<{ outcome: PollOutcome; next: number }> {
    const { source, coordinator, logger, intervalMs, timeoutMs } = this.o;
    // The turn covers a poll that runs to its deadline, so two polls never overlap.
    const hold = Math.max(intervalMs, timeoutMs + 1000);
    let wait: number;
    try {
      wait = force ? 0 : await coordinator.claim(source, hold);
      if (force) await coordinator.extend(source, hold);
      if (this.redisDown) logger.info({ source }, "realtime: coordinator reachable again");
      this.redisDown = false;
    } catch (err) {
      // Without the coordinator nobody can know whose turn it is: poll nothing, keep the snapshot.
      if (!this.redisDown)
        logger.warn(
          { source, err: { message: (err as Error).message } },
          "realtime: cannot reach Redis to take a turn; not polling until it is back (answers keep the last snapshot)",
        );
      this.redisDown = true;
      return { outcome: "waiting", next: Math.min(intervalMs, 1000) + this.random() * 250 };
    }
    if (wait > 0) {
      this.o.onWait?.();
      // Small jitter: replicas waking together at the end of a turn race for it, only one wins.
      return { outcome: "waiting", next: wait + this.random() * Math.min(250, intervalMs / 10) };
    }

    const started = this.now();
    this.stats.polls++;
    this.stats.last_poll_at = started;
    let outcome: PollOutcome;
    let next: number;
    let state: PollState = await coordinator.state(source).catch(() => ({ validators: {}, failures: 0 }));
    try {
      const res = await fetchSource(this.o.url, { headers: this.o.headers, timeoutMs, validators: state.validators });
      if (res.kind === "not-modified") {
        outcome = "not-modified";
        this.stats.not_modified++;
        state = { ...state, validators: res.validators };
      } else {
        const message = await decodeFeed(res.bytes);
        const hash = createHash("sha256").update(res.bytes).digest("hex");
        if (hash === state.hash) {
          outcome = "unchanged";
          this.stats.unchanged++;
        } else {
          const fetchedAt = this.now();
          const version = `${fetchedAt.toString(36)}-${hash.slice(0, 12)}`;
          await coordinator.publish(source, { version, fetchedAt, bytes: res.bytes });
          await this.o.onSnapshot(version, fetchedAt, message);
          outcome = "published";
        }
        state = { ...state, validators: res.validators, hash };
      }
      state.failures = 0;
      delete state.lastError;
      this.stats.consecutive_failures = 0;
      this.stats.last_success_at = this.now();
      next = intervalMs;
    } catch (err) {
      outcome = "failed";
      const reason = (err as Error).message;
      state.failures = (state.failures ?? 0) + 1;
      state.lastError = reason;
      this.stats.failures++;
      this.stats.consecutive_failures = state.failures;
      this.stats.last_error = reason;
      next = backoffMs(state.failures, intervalMs, this.o.backoffMaxMs, this.random);
      logger.warn(
        { source, url: this.stats.url, failures: state.failures, next_poll_s: Math.round(next / 100) / 10 },
        `realtime: ${source} poll failed: ${reason}; keeping the last good snapshot (${this.o.describeLastGood()})`,
      );
    }
    // Turns follow the interval from when this one began, not from when the poll ended.
    const remaining = next - (this.now() - started);
    try {
      await coordinator.saveState(source, state);
      await coordinator.extend(source, remaining);
    } catch {
      // The turn then simply runs out at `hold`.
    }
    return { outcome, next: Math.max(0, remaining) };
  }
}
