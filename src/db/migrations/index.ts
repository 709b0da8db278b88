// Every migration, in order. A static list (not a directory scan) so bundles and images carry them.
import type { Migration } from "kysely/migration";
import * as m0001 from "./0001_app_metadata";
import * as m0100 from "./0100_gtfs_feeds";
import * as m0101 from "./0101_gtfs_stop_departures";
import * as m0102 from "./0102_gtfs_active_layout";

export const migrations: Record<string, Migration> = {
  "0001_app_metadata": m0001,
  "0100_gtfs_feeds": m0100,
  "0101_gtfs_stop_departures": m0101,
  "0102_gtfs_active_layout": m0102,
};
