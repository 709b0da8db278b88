// Imports a GTFS feed as a new version beside the served one, then switches to it in one transaction.
// The steps, each in its own module: check the schema is migrated, lock (catalogue.ts) → open the version (catalogue.ts, tables.ts)
// → load the files (load-files.ts, files/) → derive (derived/) → index (indexes.ts, beside the
// departure boards' load) → activate → prune (catalogue.ts). Any failure (or a kill) before activation
// leaves the served version untouched: the half-loaded version is discarded now, or by the next import
// if the process died.
import {
  activateVersion,
  discardVersion,
  failInterrupted,
  lockImports,
  openVersion,
  pruneVersions,
  recordVersion,
  requireMigrated,
  unlockImports,
} from "./catalogue";
import { ImportConnections, type ImportTarget } from "./connections";
import { deriveData } from "./derived/derive";
import { loadBoards } from "./derived/load-boards";
import { checkRequiredFiles, FEED_FILES } from "./files/all";
import { FeedState } from "./files/feed-state";
import { IndexBuilder } from "./indexes";
import { IssueCollector, type WarningGroup } from "./issues";
import { type FileProgress, type FileSummary, loadFiles } from "./load-files";
import { type FeedSource, type OpenFeedOptions, openFeed } from "./read/source";
import { createTables, DERIVED_TABLES } from "./tables";

export type { FileSummary } from "./load-files";

export interface ImportProgress extends FileProgress {
  phase?(name: string): void;
}

export interface ImportOptions extends ImportTarget {
  /** .zip path, folder, or http(s) URL. */
  location: string;
  /** Versions kept in total, the active one included (≥ 1). */
  keepVersions: number;
  progress?: ImportProgress;
  sourceOptions?: OpenFeedOptions;
}

export interface ImportSummary {
  feedId: number;
  schema: string;
  source: string;
  files: FileSummary[];
  phases: { name: string; seconds: number }[];
  totalRows: number;
  seconds: number;
  warnings: WarningGroup[];
  pruned: number[];
  /** Set when the new version went live but old versions could not be dropped (the next import retries). */
  pruneError?: string;
}

export async function importFeed(options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  await requireMigrated(options);
  const connections = await ImportConnections.open(options);
  const main = connections.main;
  const issues = new IssueCollector();
  const phases: ImportSummary["phases"] = [];
  const phase = async <T>(name: string, work: () => Promise<T>, announced = name): Promise<T> => {
    options.progress?.phase?.(announced);
    const t = performance.now();
    const result = await work();
    phases.push({ name, seconds: (performance.now() - t) / 1000 });
    return result;
  };
  let source: FeedSource | undefined;
  let version: { feedId: number; schema: string } | undefined;
  let discarded = false;
  try {
    // Lock: one import at a time per database; what a killed one left 'loading' is failed.
    await lockImports(main);
    await failInterrupted(main);
    source = await openFeed(options.location, options.sourceOptions);
    checkRequiredFiles(source.files, issues);
    issues.throwIfFailed();

    // Open the version: its 'loading' row in the catalogue, its schema with empty tables.
    version = await openVersion(main, source.description);
    const { feedId, schema } = version;
    await createTables(main, schema, FEED_FILES);
    await connections.openSecond();

    // Load the files; the tables stop_times refers to are indexed while it loads.
    const state = new FeedState(source.files);
    const indexes = new IndexBuilder(connections, schema, state, [
      ...FEED_FILES.map((f) => f.table),
      ...DERIVED_TABLES,
    ]);
    const files = await loadFiles({
      files: FEED_FILES,
      source,
      schema,
      connections,
      load: { state, issues },
      progress: options.progress,
      beforeStream: (before, copied) =>
        indexes.startReferenceTables(
          before.map((f) => f.table),
          copied,
        ),
    });

    // Derive: service dates, frequency flags, interpolated times.
    const derived = await phase("derived data", () => deriveData(main, schema, state, issues), "service dates");
    files.push(derived.serviceDates);

    // Index the rest while the main connection loads the departure boards.
    await phase("boards + indexes + analyze", async () => {
      await indexes.finish(async () => {
        files.push(await loadBoards(connections, schema, state.stopTimes));
      });
      await connections.closeSecond();
      issues.throwIfFailed();
    });
    const warnings = issues.warningSummary();
    const rowCounts = Object.fromEntries(files.map((f) => [f.file, f.rows]));
    await recordVersion(main, feedId, {
      meta: state.meta,
      maxDepartureSecs: derived.maxDepartureSecs,
      rowCounts,
      warnings,
    });

    // Activate, then prune. The new version is served from the activation on, so failing to drop old
    // ones does not fail the import: it is reported, and the next import prunes them.
    let pruned: number[] = [];
    let pruneError: string | undefined;
    await phase("activate", async () => {
      await activateVersion(main, feedId);
      pruned = await pruneVersions(main, options.keepVersions).catch((err) => {
        pruneError = err instanceof Error ? err.message : String(err);
        return [];
      });
    });
    return {
      feedId,
      schema,
      source: source.description,
      files,
      phases,
      // Rows read from the feed's files (the derived tables are listed but not counted).
      totalRows: files.reduce((n, f) => (f.file.endsWith(".txt") ? n + f.rows : n), 0),
      seconds: (performance.now() - started) / 1000,
      warnings,
      pruned,
      ...(pruneError === undefined ? {} : { pruneError }),
    };
  } catch (err) {
    if (version) {
      // Closing the connections aborts a COPY or an index build in flight and releases its locks (the
      // import lock too), so that the discard's DROP SCHEMA gets them at once.
      discarded = true;
      await connections.close();
      await discardVersion(options, version.feedId, version.schema, err);
    }
    throw err;
  } finally {
    await source?.close();
    if (!discarded) {
      await unlockImports(main);
      await connections.close();
    }
  }
}
