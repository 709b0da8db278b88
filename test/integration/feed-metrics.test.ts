// The served feed as metrics, read from gtfs_feed on PostgreSQL at scrape time: absent before any
// import, then the version, its import time, validity and rows per file; a database that fails keeps
// the last values and counts the failure.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { watchServedFeed } from "../../src/modules/gtfs/feed-metrics";
import type { ImportSummary } from "../../src/modules/gtfs/import/importer";
import { createMetrics } from "../../src/observability/metrics";
import { type GtfsEnv, gtfsEnv, SAMPLE_DIR, SLOW } from "../gtfs/helpers";
import { eventually } from "../support/app-server";
import { parseExposition, sampleValue } from "../support/prometheus-text";

describe("served feed metrics", () => {
  let env: GtfsEnv;
  const metrics = createMetrics({ version: "1", commit: "c", processMetrics: false });
  const scrape = async () => parseExposition((await metrics.render()).body);
  beforeAll(async () => {
    env = await gtfsEnv();
    watchServedFeed(metrics, env.app.database, { gtfs: { ...env.app.config.gtfs, max_feed_age: 36 } });
  }, SLOW);
  afterAll(() => env?.close());

  it(
    "are absent before a feed is served, then describe the served version",
    async () => {
      let s = await scrape();
      expect(sampleValue(s, "gtfs_active_feed_version")).toBeUndefined();
      expect(sampleValue(s, "gtfs_feed_max_age_seconds")).toBe(36 * 3600);
      const before = Date.now() / 1000;
      const summary: ImportSummary = await env.import(SAMPLE_DIR);
      // Scrapes within 5 s share one query: wait for the next one to see the import.
      await eventually(
        async () => sampleValue(await scrape(), "gtfs_active_feed_version") === summary.feedId,
        10_000,
        "the new version",
      );
      s = await scrape();
      const imported = sampleValue(s, "gtfs_active_feed_imported_timestamp_seconds")!;
      expect(imported).toBeGreaterThanOrEqual(Math.floor(before) - 1);
      expect(imported).toBeLessThanOrEqual(Date.now() / 1000);
      const stops = summary.files.find((f) => f.file === "stops.txt")!.rows;
      expect(sampleValue(s, "gtfs_active_feed_rows", { file: "stops.txt" })).toBe(stops);
      expect(sampleValue(s, "gtfs_active_feed_valid_until_timestamp_seconds")).toBeGreaterThan(
        imported - 10 * 365 * 86400,
      );
      expect(sampleValue(s, "gtfs_feed_metrics_failures")).toBe(0);
    },
    SLOW,
  );

  it(
    "keep the last values and count the failure when the database does not answer",
    async () => {
      const version = sampleValue(await scrape(), "gtfs_active_feed_version");
      await env.app.database.close();
      await eventually(
        async () => (sampleValue(await scrape(), "gtfs_feed_metrics_failures") ?? 0) > 0,
        15_000,
        "a failure",
      );
      expect(sampleValue(await scrape(), "gtfs_active_feed_version")).toBe(version);
    },
    SLOW,
  );
});
