// The realtime side's stats in the shape metrics reads at each scrape (src/observability/metrics.ts,
// watch.realtime): snapshot age and failed polls per configured source, and the age past which a
// snapshot is ignored, so the stale-realtime alert compares the two without repeating the config.
import type { RealtimeStats } from "../../observability/metrics";
import type { RealtimeService } from "./service";

export function realtimeMetricsStats(realtime: Pick<RealtimeService, "stats">): () => RealtimeStats {
  return () => {
    const stats = realtime.stats();
    return {
      maxAgeSeconds: stats.max_age_seconds,
      sources: Object.entries(stats.sources).map(([source, s]) => ({
        source,
        snapshotAgeSeconds: s?.snapshot?.age_seconds,
        pollFailures: s?.failures ?? 0,
      })),
    };
  };
}
