// What the importer and the API agree on about a stored feed version. Each version lives in its own
// schema (gtfs_f<id>); the catalogue table gtfs_feed says which one is served and with which LAYOUT
// its tables were built. The importer writes these tables (import/files/, import/derived/), the API
// reads them (api/).

/**
 * Stored with each feed; bump it when a version's tables change, so old versions are re-imported
 * (or brought up to date by a migration, as 0101 did for 2).
 */
export const LAYOUT = 2; // 2: departure boards read stop_departures (no stop_times (stop_idx, departure_secs) index)

/** stop_departures groups a stop's departures by this many seconds of the service day (its `hour`). */
export const BOARD_BUCKET_SECS = 3600;

/** stop_departures.hour of a stop's row of frequency-based trips' stop times (offsets, not times). */
export const FREQUENCY_HOUR = -1;

/** NOTIFY channel: a feed version was activated (payload: its id). */
export const FEED_CHANGED_CHANNEL = "gtfs_feed_changed";

export function feedSchemaName(feedId: number): string {
  return `gtfs_f${feedId}`;
}
