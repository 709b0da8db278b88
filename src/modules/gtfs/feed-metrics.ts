// The served feed as metrics: which version, when it was imported (a timestamp operators age with
// `time() - …`), until when it is valid, and its rows per file. Read from gtfs_feed at scrape time —
// an import in another process (a Kubernetes Job) changes them at once — at most once per CACHE_MS
// however many Prometheus servers scrape, and with a short timeout: a slow database must not hold up
// the scrape (then the last values stay and gtfs_feed_metrics_failures counts the failure).
import { sql } from "kysely";
import type { Config } from "../../config/schema";
import { type Database, withTimeout } from "../../db/database";
import type { Metrics } from "../../observability/metrics";

const CACHE_MS = 5_000;
const QUERY_TIMEOUT_MS = 1_000;

interface ServedFeed {
  id: number;
  imported: number | undefined;
  validUntil: number | undefined;
  rows: Record<string, number>;
}

export function watchServedFeed(metrics: Metrics, database: Database, config: Pick<Config, "gtfs">): void {
  let last: { at: number; feed: ServedFeed | undefined } | undefined;
  let pending: Promise<ServedFeed | undefined> | undefined;
  let errors = 0;

  const read = async (): Promise<ServedFeed | undefined> => {
    const rows = await sql<{
      id: number;
      imported_at: Date | string | null;
      end_date: Date | string | null;
      row_counts: Record<string, number> | string | null;
    }>`select id, imported_at, end_date, row_counts from gtfs_feed where status = 'active'`.execute(database.db);
    const row = rows.rows[0];
    if (!row) return undefined;
    const time = (v: Date | string | null) => (v === null ? undefined : new Date(v).getTime() / 1000);
    const counts = typeof row.row_counts === "string" ? JSON.parse(row.row_counts) : (row.row_counts ?? {});
    return {
      id: row.id,
      imported: time(row.imported_at),
      // end_date is the last service day; the feed is valid through its end (UTC is close enough for an alert).
      validUntil: row.end_date === null ? undefined : (time(row.end_date) ?? 0) + 86_400,
      rows: counts,
    };
  };
  const served = async (): Promise<ServedFeed | undefined> => {
    if (last && performance.now() - last.at < CACHE_MS) return last.feed;
    pending ??= withTimeout(read(), QUERY_TIMEOUT_MS, "served feed metrics")
      .then((feed) => {
        last = { at: performance.now(), feed };
        return feed;
      })
      .catch(() => {
        errors++;
        return last?.feed;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };

  metrics.watch.gauge(
    "gtfs_active_feed_version",
    "Id of the feed version being served (absent: none)",
    async () => (await served())?.id,
  );
  metrics.watch.gauge(
    "gtfs_active_feed_imported_timestamp_seconds",
    "When the served feed version was imported (Unix seconds)",
    async () => (await served())?.imported,
  );
  metrics.watch.gauge(
    "gtfs_active_feed_valid_until_timestamp_seconds",
    "End of the served feed's last service day (feed_info/calendar end date, Unix seconds)",
    async () => (await served())?.validUntil,
  );
  metrics.watch.labelledGauge(
    "gtfs_active_feed_rows",
    "Rows per file of the served feed version, as its import loaded them",
    ["file"],
    async () => Object.entries((await served())?.rows ?? {}).map(([file, value]) => ({ labels: { file }, value })),
  );
  metrics.watch.gauge(
    "gtfs_feed_max_age_seconds",
    "Configured gtfs.max_feed_age: a served feed imported longer ago raises TransportationFeedStale",
    () => config.gtfs.max_feed_age * 3600,
  );
  metrics.watch.gauge(
    "gtfs_feed_metrics_failures",
    "Scrapes whose served-feed query failed or timed out since start (the previous values were kept)",
    () => errors,
  );
}
