// Imports a GTFS feed as a new version beside the served one, then switches to it in one transaction.
// Order of work: open the source → check required files → create the version's schema → stream each
// file through validation into COPY (references checked against ids already loaded; stop_times, the
// bulk, read line by line in place and created in its COPY's transaction) → derived data (service
// dates, frequency flags, interpolated times) → departure boards table ‖ indexes + ANALYZE → activate
// → prune old versions. Any failure (or a kill) before activation leaves the served version untouched;
// the half-loaded schema is dropped now, or by the next import if the process died.
import type { Database } from "../../../db/database";
import {
  buildStopDeparturesSql,
  createIndexesSql,
  createTablesSql,
  stopTimesTableSql,
  TABLE_COLUMNS,
} from "../db/feed-tables";
import { FEED_CHANGED_CHANNEL, feedSchemaName, LAYOUT } from "../domain/feed-version";
import { searchKey } from "../domain/search-key";
import { BoardCollector } from "./board-buckets";
import { BinaryCopyWriter } from "./copy-binary";
import { copyField, copyLine } from "./copy-text";
import { type CalendarEntry, type CalendarException, resolveServiceDates } from "./derived/service-dates";
import { digitAt, fieldEnds, timeAt, uintAt } from "./fast-fields";
import { IdLookup } from "./id-lookup";
import { type ErrorCode, FeedValidationError, IssueCollector, type WarningGroup } from "./issues";
import { type LoadSession, openPgliteSession, openPostgresSession } from "./load-session";
import { columnIndex, FILES, type GtfsTable, parseRecord, type Value } from "./read/columns";
import type { CsvLineSink } from "./read/csv";
import { isBlank, readRecordsInto, readTable } from "./read/reader";
import { type FeedSource, type OpenFeedOptions, openFeed } from "./read/source";

export interface ImportProgress {
  fileStarted?(file: string, bytes: number | undefined): void;
  fileProgress?(file: string, rows: number, bytesRead: number): void;
  fileDone?(file: string, rows: number, seconds: number): void;
  phase?(name: string): void;
}

export interface ImportOptions {
  /** .zip path, folder, or http(s) URL. */
  location: string;
  database: Database;
  /** PostgreSQL URL for the import's own connections (COPY, parallel index builds). */
  connectionString?: string;
  /** Versions kept in total, the active one included (≥ 1). */
  keepVersions: number;
  progress?: ImportProgress;
  sourceOptions?: OpenFeedOptions;
}

export interface FileSummary {
  file: string;
  rows: number;
  seconds: number;
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

export class ImportBusyError extends Error {
  override name = "ImportBusyError";
}

/** Load order: referenced tables before the tables that reference them. */
const ORDER: GtfsTable[] = [
  "agency",
  "feed_info",
  "stops",
  "routes",
  "calendar",
  "calendar_dates",
  "shapes",
  "trips",
  "frequencies",
  "stop_times",
  "transfers",
];

const IMPORT_LOCK = 0x67746673; // "gtfs": one import at a time per database

export async function importFeed(options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const session = await openSession(options);
  let feedId: number | undefined;
  let schema: string | undefined;
  let source: FeedSource | undefined;
  let builder: IndexBuilder | undefined;
  let closed = false;
  try {
    if (session.kind === "postgres") {
      const [lock] = await session.query<{ ok: boolean }>("select pg_try_advisory_lock($1) as ok", [IMPORT_LOCK]);
      if (!lock?.ok) throw new ImportBusyError("another import is running against this database");
    }
    await cleanUpInterrupted(session);
    source = await openFeed(options.location, options.sourceOptions);
    checkRequiredFiles(source);

    const [row] = await session.query<{ id: number }>(
      "insert into gtfs_feed (schema_name, status, layout, source) values ('pending-' || gen_random_uuid(), 'loading', $1, $2) returning id",
      [LAYOUT, source.description],
    );
    feedId = row!.id;
    schema = feedSchemaName(feedId);
    await session.query("update gtfs_feed set schema_name = $1 where id = $2", [schema, feedId]);
    await session.query("begin");
    for (const stmt of createTablesSql(schema)) await session.query(stmt);
    await session.query("commit");

    builder = new IndexBuilder(session, schema, await session.fork());
    const loader: FeedLoader = new FeedLoader(session, source, schema, options.progress, builder.aux, () =>
      builder!.startReferenceTables(() => loader.settleCopies()),
    );
    await loader.loadAll();
    const phases = loader.phases;
    const phase = async (name: string, fn: () => Promise<void>) => {
      options.progress?.phase?.(name);
      const t = performance.now();
      await fn();
      phases.push({ name, seconds: (performance.now() - t) / 1000 });
    };
    // The departure boards table loads on this connection while the other builds indexes and runs ANALYZE.
    await phase("boards + indexes + analyze", async () => {
      await builder!.finish({
        stopTimesInTripOrder: loader.stopTimesInTripOrder,
        loadBoards: () => loader.loadBoards(),
      });
      await builder!.close();
      loader.issues.throwIfFailed();
    });
    await session.query(
      `update gtfs_feed set publisher_name = $2, publisher_url = $3, feed_version = $4, feed_lang = $5,
         start_date = $6, end_date = $7, timezone = $8, max_departure_secs = $9, row_counts = $10,
         warnings = $11, imported_at = now() where id = $1`,
      [
        feedId,
        loader.meta.publisherName,
        loader.meta.publisherUrl,
        loader.meta.version,
        loader.meta.lang,
        loader.meta.startDate,
        loader.meta.endDate,
        loader.meta.timezone,
        loader.maxDepartureSecs,
        JSON.stringify(Object.fromEntries(loader.files.map((f) => [f.file, f.rows]))),
        JSON.stringify(loader.issues.warningSummary()),
      ],
    );
    let pruned: number[] = [];
    let pruneError: string | undefined;
    await phase("activate", async () => {
      await activateFeed(session, feedId!);
      // The new version is served from here on, so failing to drop old ones does not fail the import:
      // it is reported, and the next import prunes them.
      try {
        pruned = await pruneFeeds(session, options.keepVersions);
      } catch (err) {
        pruneError = err instanceof Error ? err.message : String(err);
      }
    });
    return {
      feedId,
      schema,
      source: source.description,
      files: loader.files,
      phases,
      // Rows read from the feed's files (derived service dates are listed but not counted).
      totalRows: loader.files.reduce((n, f) => (f.file.endsWith(".txt") ? n + f.rows : n), 0),
      seconds: (performance.now() - started) / 1000,
      warnings: loader.issues.warningSummary(),
      pruned,
      ...(pruneError === undefined ? {} : { pruneError }),
    };
  } catch (err) {
    if (feedId !== undefined) {
      // Closing the connection aborts a COPY in flight and releases its locks (and the import lock).
      closed = true;
      // The second connection too: an index build still running there is cancelled, so the cleanup's
      // DROP SCHEMA gets its locks at once (served data is not touched either way).
      await builder?.close();
      await session.close();
      await discardFeed(options, feedId, schema, err);
    }
    throw err;
  } finally {
    await source?.close();
    if (!closed) {
      if (session.kind === "postgres") await session.query("select pg_advisory_unlock_all()").catch(() => {});
      await session.close();
    }
  }
}

async function openSession(options: ImportOptions): Promise<LoadSession> {
  if (options.database.kind === "embedded") return openPgliteSession(options.database.pglite!);
  if (!options.connectionString) throw new Error("importFeed needs connectionString for a PostgreSQL database");
  return openPostgresSession(options.connectionString);
}

/**
 * A failed import leaves nothing behind but a 'failed' catalogue row with the reason. Only a version
 * that never went live is dropped: if the switch committed (and, say, its reply was lost), that
 * version is being served and stays.
 */
async function discardFeed(options: ImportOptions, feedId: number, schema: string | undefined, err: unknown) {
  let s: LoadSession;
  try {
    s = await openSession(options);
  } catch {
    return; // the next import cleans up
  }
  try {
    await s.query("rollback").catch(() => {});
    await s.query("begin");
    const [row] = await s.query<{ status: string }>("select status from gtfs_feed where id = $1 for update", [feedId]);
    if (row?.status === "loading") {
      if (schema) await s.query(`drop schema if exists "${schema}" cascade`);
      const message = err instanceof Error ? err.message : String(err);
      await s.query("update gtfs_feed set status = 'failed', error = $2 where id = $1", [
        feedId,
        message.slice(0, 4000),
      ]);
    }
    await s.query("commit");
  } catch {
    await s.query("rollback").catch(() => {});
    // best effort: cleanUpInterrupted handles leftovers
  } finally {
    await s.close();
  }
}

/** Versions left 'loading' by a killed import (we hold the import lock, so none is running). */
async function cleanUpInterrupted(session: LoadSession): Promise<void> {
  const stale = await session.query<{ id: number; schema_name: string }>(
    "select id, schema_name from gtfs_feed where status = 'loading'",
  );
  for (const f of stale) {
    await session.query(`drop schema if exists "${f.schema_name}" cascade`);
    await session.query("update gtfs_feed set status = 'failed', error = 'import interrupted' where id = $1", [f.id]);
  }
}

/**
 * Rollback: serves the most recently active retained version again (or `feedId`), in one transaction.
 * Returns the version now served.
 */
export async function rollbackFeed(
  options: Pick<ImportOptions, "database" | "connectionString">,
  feedId?: number,
): Promise<number> {
  const session = await openSession(options as ImportOptions);
  try {
    const [target] = await session.query<{ id: number }>(
      feedId === undefined
        ? "select id from gtfs_feed where status = 'retired' order by activated_at desc nulls last, id desc limit 1"
        : "select id from gtfs_feed where status in ('retired', 'active') and id = $1",
      feedId === undefined ? [] : [feedId],
    );
    if (!target)
      throw new Error(
        feedId === undefined ? "no retained feed version to roll back to" : `no retained feed version ${feedId}`,
      );
    await activateFeed(session, target.id);
    return target.id;
  } finally {
    await session.close();
  }
}

/** Serves `feedId` from now on: the previous active version is retired in the same transaction. */
export async function activateFeed(session: Pick<LoadSession, "query">, feedId: number): Promise<void> {
  await session.query("begin");
  try {
    const [target] = await session.query<{ status: string; layout: number }>(
      "select status, layout from gtfs_feed where id = $1 for update",
      [feedId],
    );
    if (!target || !["loading", "retired", "active"].includes(target.status))
      throw new Error(`feed version ${feedId} cannot be activated (${target ? target.status : "unknown"})`);
    if (target.layout !== LAYOUT) throw new Error(`feed version ${feedId} has an old table layout; re-import it`);
    await session.query("update gtfs_feed set status = 'retired' where status = 'active' and id <> $1", [feedId]);
    await session.query("update gtfs_feed set status = 'active', activated_at = now() where id = $1", [feedId]);
    // Delivered at commit, together with the switch: servers drop their memoised active version.
    await session.query("select pg_notify($1, $2)", [FEED_CHANGED_CHANNEL, String(feedId)]);
    await session.query("commit");
  } catch (err) {
    await session.query("rollback").catch(() => {});
    throw err;
  }
}

/** Keeps the active version and the newest keep-1 retired ones; drops the rest (and old failures). */
export async function pruneFeeds(session: Pick<LoadSession, "query">, keepVersions: number): Promise<number[]> {
  const retired = await session.query<{ id: number; schema_name: string }>(
    "select id, schema_name from gtfs_feed where status = 'retired' order by coalesce(activated_at, imported_at) desc, id desc",
  );
  const drop = retired.slice(Math.max(0, keepVersions - 1));
  for (const f of drop) {
    await session.query(`drop schema if exists "${f.schema_name}" cascade`);
    await session.query("delete from gtfs_feed where id = $1", [f.id]);
  }
  await session.query(
    "delete from gtfs_feed where status = 'failed' and id not in (select id from gtfs_feed where status = 'failed' order by id desc limit 5)",
  );
  return drop.map((f) => f.id);
}

function checkRequiredFiles(source: FeedSource): void {
  const issues = new IssueCollector();
  for (const spec of Object.values(FILES))
    if (spec.required && !source.files.has(spec.file))
      issues.error({ code: "missing_file", file: spec.file, message: "required file is missing" });
  if (!source.files.has("calendar.txt") && !source.files.has("calendar_dates.txt"))
    issues.error({
      code: "missing_file",
      file: "calendar.txt",
      message: "calendar.txt or calendar_dates.txt is required (neither is present)",
    });
  issues.throwIfFailed();
}

/**
 * Index builds and ANALYZE for one feed version, on a second connection where there is one (the
 * embedded database has only one): the reference tables' indexes while stop_times loads, then the
 * rest beside the departure boards table's load.
 */
class IndexBuilder {
  private early: Promise<void> | undefined;
  private deferred: string[] = [];

  constructor(
    private readonly session: LoadSession,
    private readonly schema: string,
    private extra: LoadSession | undefined,
  ) {}

  /** `copiesDone`: the reference tables' COPYs on the same connection have finished. */
  async startReferenceTables(copiesDone: () => Promise<void>): Promise<void> {
    const s = `"${this.schema}"`;
    const stmts = [
      ...createIndexesSql(this.schema, { stopTimesInTripOrder: true }).referenceTables,
      ...["stops", "routes", "frequencies"].map((t) => `analyze ${s}.${t}`),
      // Not frequency_based (set after stop_times loads): no query filters on it.
      `analyze ${s}.trips (trip_idx, trip_id, route_id, service_id)`,
    ];
    if (!this.extra) {
      this.deferred = stmts;
      return;
    }
    const extra = this.extra;
    this.early = copiesDone().then(() => this.run(extra, stmts));
    this.early.catch(() => {}); // awaited in finish(); a failed load closes the connection instead
  }

  async finish(options: { stopTimesInTripOrder: boolean; loadBoards: () => Promise<void> }): Promise<void> {
    const s = `"${this.schema}"`;
    const indexes = createIndexesSql(this.schema, options);
    const rest = [
      ...this.deferred,
      ...indexes.afterLoad,
      // ANALYZE needs no index, so it runs beside the builds. Only the columns queries filter or join on.
      `analyze ${s}.stop_times (trip_idx, stop_idx)`,
      `analyze ${s}.service_dates`,
    ];
    const boards = async () => {
      await options.loadBoards();
      // Not the arrays: element statistics over millions of elements take seconds and no query uses them.
      await this.run(this.session, [...indexes.boards, `analyze ${s}.stop_departures (stop_idx, hour)`]);
    };
    await this.early;
    if (this.extra) await Promise.all([boards(), this.run(this.extra, rest)]);
    else {
      await boards();
      await this.run(this.session, rest);
    }
  }

  /** The second connection, shared with the loader for the files other than stop_times. */
  get aux(): LoadSession | undefined {
    return this.extra;
  }

  async close(): Promise<void> {
    await this.extra?.close();
    this.extra = undefined;
  }

  private async run(session: LoadSession, stmts: string[]): Promise<void> {
    for (const stmt of stmts) {
      try {
        await session.query(stmt);
      } catch (err) {
        const dup = duplicateKeyError(err, stmt);
        if (!dup) throw err;
        // Report feed ids, not our integer keys.
        const issue = dup.issues[0]!;
        if (issue.field === "trip_idx, stop_sequence" && issue.value) {
          const [idx, seq] = issue.value.split(", ");
          const [trip] = await session
            .query<{ trip_id: string }>(`select trip_id from "${this.schema}".trips where trip_idx = $1`, [Number(idx)])
            .catch(() => []);
          throw new FeedValidationError([
            {
              code: "duplicate_stop_sequence",
              file: "stop_times.txt",
              field: "stop_sequence",
              value: `${trip?.trip_id ?? idx}, ${seq}`,
              // Repeats within one run of a trip's rows were reported with their lines while loading.
              message: "duplicate (trip_id, stop_sequence), in rows of the trip that are apart in the file",
            },
          ]);
        }
        throw dup;
      }
    }
  }
}

/** A unique index that cannot be built means duplicate ids in the feed: say which. */
function duplicateKeyError(err: unknown, stmt: string): FeedValidationError | undefined {
  const e = err as { code?: string; detail?: string };
  if (e.code !== "23505") return undefined;
  const table = /on "[^"]+"\.(\w+)/.exec(stmt)?.[1] ?? "?";
  const file = table === "service_dates" ? "calendar_dates.txt" : `${table}.txt`;
  const m = /Key \(([^)]*)\)=\(([^)]*)\)/.exec(e.detail ?? "");
  return new FeedValidationError([
    { code: "duplicate_id", file, field: m?.[1], value: m?.[2], message: `duplicate ${m?.[1] ?? "key"}` },
  ]);
}

/**
 * Upper bound of one stop_times tuple in binary COPY: field count 2 + five int4 fields 5 × 8 + headsign
 * 4 + 3 bytes per UTF-16 unit + three int2 3 × 6 + float8 12 = 76, plus the headsign's bytes.
 */
export function stopTimeTupleBytes(headsign: string | null): number {
  return 76 + (headsign === null ? 0 : headsign.length * 3);
}

/** Where each stop_times column is in the file's records (-1 when the file lacks it). */
function stopTimePositions(index: readonly number[]) {
  const c = columnIndex("stop_times");
  return {
    iTrip: index[c.trip_id]!,
    iStop: index[c.stop_id]!,
    iArr: index[c.arrival_time]!,
    iDep: index[c.departure_time]!,
    iSeq: index[c.stop_sequence]!,
    iHead: index[c.stop_headsign]!,
    iPick: index[c.pickup_type]!,
    iDrop: index[c.drop_off_type]!,
    iDist: index[c.shape_dist_traveled]!,
    iTp: index[c.timepoint]!,
  };
}

/** In place of an id that no report can name (see emitStopTime). */
const NOT_REPORTED = "";

// The record path's field readers: a whole field string, undefined when the record is short.
const fastTime = (s: string | undefined) => (s === undefined ? null : timeAt(s, 0, s.length));
const fastUint = (s: string | undefined) => (s === undefined ? -1 : uintAt(s, 0, s.length));
const fastSmall = (s: string | undefined, max: number) => (s === undefined ? null : digitAt(s, 0, s.length, max));

interface FeedMeta {
  publisherName: string | null;
  publisherUrl: string | null;
  version: string | null;
  lang: string | null;
  startDate: string | null;
  endDate: string | null;
  timezone: string | null;
}

const BATCH_FLUSH_CHARS = 1 << 20;

/** Streams each file through validation into its table, keeping the ids later files reference. */
class FeedLoader {
  readonly issues = new IssueCollector();
  readonly files: FileSummary[] = [];
  readonly phases: { name: string; seconds: number }[] = [];
  readonly meta: FeedMeta = {
    publisherName: null,
    publisherUrl: null,
    version: null,
    lang: null,
    startDate: null,
    endDate: null,
    timezone: null,
  };
  maxDepartureSecs = 0;

  private agencies = new Set<string>();
  private agencyCount = 0;
  /** stop_id → stop_idx (1-based load order); stopTypes[stop_idx] = location_type. */
  private stops = new Map<string, number>();
  private stopTypes: number[] = [0];
  private routes = new Set<string>();
  private services = new Set<string>();
  private shapes = new Set<string>();
  /** trip_id → trip_idx (1-based load order). */
  private trips = new Map<string, number>();
  private frequencyTrips = new Set<string>();
  private calendar: CalendarEntry[] = [];
  private exceptions: CalendarException[] = [];
  private missingTimes = 0;
  private frequencyTripIdxs = new Set<number>();
  /** Per frequency trip: the latest end_time, and the [first, last] template times. */
  private frequencyEnds = new Map<number, number>();
  private frequencySpans = new Map<number, [number, number]>();
  /** Stops served by frequency-based trips: only their boards look at frequencies.txt. */
  private frequencyStops = new Set<number>();
  /** stop_times came grouped by trip, trips in trips.txt order, sequences strictly increasing. */
  stopTimesInTripOrder = true;
  /** Board departures as they stream by; dropped (built in SQL instead) once a time needs interpolating. */
  private board: BoardCollector | undefined = new BoardCollector();
  private lastTripIdx = 0;
  private lastSequence = -1;
  private maxSequence = -1;
  /** stop_sequence values (and their lines) of the current run of one trip's rows. */
  private readonly tripSequences: number[] = [];
  private readonly tripSequenceLines: number[] = [];

  constructor(
    private readonly session: LoadSession,
    private readonly source: FeedSource,
    private readonly schema: string,
    private readonly progress: ImportProgress | undefined,
    /** A second connection for the other files' COPY (and, after them, their indexes), if there is one. */
    private readonly aux?: LoadSession,
    /** Called once the tables stop_times references are loaded (their indexes can start). */
    private readonly beforeStopTimes: () => Promise<void> = async () => {},
  ) {}

  private pendingCopies: Promise<number>[] = [];
  private stopTimesStarted = false;

  /** Waits for the COPYs still running on the second connection (their errors surface here). */
  async settleCopies(): Promise<void> {
    const pending = this.pendingCopies;
    this.pendingCopies = [];
    for (const done of pending) await done;
  }

  async loadAll(): Promise<void> {
    for (const table of ORDER) {
      if (table === "stop_times") {
        this.stopTimesStarted = true;
        await this.beforeStopTimes();
      }
      if (!this.source.files.has(FILES[table].file)) continue;
      await this.load(table);
      this.issues.throwIfFailed();
      if (table === "stops") this.checkParents();
    }
    this.issues.throwIfFailed();
    await this.settleCopies(); // the derived data below updates those tables
    const t = performance.now();
    this.progress?.phase?.("service dates");
    await this.loadServiceDates();
    if (this.frequencyTrips.size) {
      const s = `"${this.schema}"`;
      await this.session.query(
        `update ${s}.trips t set frequency_based = true where exists (select 1 from ${s}.frequencies f where f.trip_idx = t.trip_idx)`,
      );
      // Frequency trips depart until end_time plus the template's duration: part of the board's day range.
      for (const [tripIdx, end] of this.frequencyEnds) {
        const span = this.frequencySpans.get(tripIdx);
        if (span && end + span[1] - span[0] > this.maxDepartureSecs) this.maxDepartureSecs = end + span[1] - span[0];
      }
      if (this.frequencyStops.size)
        await this.session.query(`update ${s}.stops set has_frequencies = true where stop_idx = any($1::int[])`, [
          `{${[...this.frequencyStops].join(",")}}`,
        ]);
    }
    if (this.missingTimes) await this.interpolateTimes();
    this.phases.push({ name: "derived data", seconds: (performance.now() - t) / 1000 });
  }

  private async load(table: GtfsTable): Promise<void> {
    const spec = FILES[table];
    const started = performance.now();
    let bytesRead = 0;
    this.progress?.fileStarted?.(spec.file, this.source.size(spec.file));
    const source = this.source;
    async function* counted() {
      for await (const chunk of source.open(spec.file)) {
        bytesRead += chunk.byteLength;
        yield chunk;
      }
    }
    const onRows = (n: number) => this.progress?.fileProgress?.(spec.file, n, bytesRead);
    const rows =
      table === "stop_times"
        ? await this.loadStopTimes(counted(), onRows)
        : await this.loadText(table, counted(), onRows);
    const seconds = (performance.now() - started) / 1000;
    this.files.push({ file: spec.file, rows, seconds });
    this.progress?.fileDone?.(spec.file, rows, seconds);
  }

  /** Small and medium tables: typed rows → COPY text lines in ~1 MB writes. */
  private async loadText(
    table: GtfsTable,
    chunks: AsyncIterable<Uint8Array>,
    onRows: (rows: number) => void,
  ): Promise<number> {
    // On the second connection the server finishes this COPY while we go on to the next file (one
    // statement at a time per connection: the previous file's COPY is waited for first).
    // Files after stop_times go on this connection: the other one is building indexes by then.
    const aux = this.stopTimesStarted ? undefined : this.aux;
    if (aux) await this.settleCopies();
    const sink = (aux ?? this.session).copy(`"${this.schema}".${table}`, TABLE_COLUMNS[table]);
    const convert = this.converter(table);
    let rows = 0;
    let parts: string[] = [];
    let size = 0;
    for await (const { rows: values, lines } of readTable(chunks, FILES[table], this.issues)) {
      for (let i = 0; i < values.length; i++) {
        const line = convert(values[i]!, lines[i]!);
        if (line === undefined) continue;
        parts.push(line);
        size += line.length;
        rows++;
      }
      if (size >= BATCH_FLUSH_CHARS) {
        const text = parts.join("");
        parts = [];
        size = 0;
        if (!this.issues.failed) await sink.write(text);
      }
      onRows(rows);
    }
    if (parts.length && !this.issues.failed) await sink.write(parts.join(""));
    if (aux) {
      const done = sink.end();
      done.catch(() => {}); // awaited in settleCopies()
      this.pendingCopies.push(done);
    } else await sink.end();
    return rows;
  }

  private bin = new BinaryCopyWriter();

  /**
   * stop_times: each line → binary COPY, with backpressure from the server. Plain lines are read in
   * place (stopTimeLineConverter); quoted or unusual ones go through the record path.
   */
  private async loadStopTimes(chunks: AsyncIterable<Uint8Array>, onRows: (rows: number) => void): Promise<number> {
    const spec = FILES.stop_times;
    const sink = this.session.copy(`"${this.schema}".stop_times`, TABLE_COLUMNS.stop_times, "binary", {
      create: stopTimesTableSql(this.schema),
    });
    // Rows are rarely under 32 bytes. Capped (4 M rows, 64 MB): a zip states sizes it need not keep,
    // and a bigger file grows the collector as it goes.
    this.board?.reserve(Math.min(Math.ceil((this.source.size(spec.file) ?? 0) / 32), 1 << 22));
    let rows = 0;
    const sinkFor = (index: readonly number[], columns: number): CsvLineSink => {
      const convertRecord = this.stopTimeRecordConverter(index);
      const convertLine = this.stopTimeLineConverter(index, columns, convertRecord);
      return {
        line: (text, start, end, line) => {
          if (convertLine(text, start, end, line)) rows++;
        },
        record: (fields, line) => {
          if (!isBlank(fields) && convertRecord(fields, line)) rows++;
        },
      };
    };
    for await (const _ of readRecordsInto(chunks, spec, this.issues, sinkFor)) {
      if (this.issues.failed)
        this.bin.take(); // nothing more is sent; keep validating for the report
      else for (const chunk of this.bin.take()) await sink.write(chunk);
      onRows(rows);
    }
    // A binary COPY cannot be ended half-sent: a bad file aborts here (the session is discarded).
    this.issues.throwIfFailed();
    for (const chunk of this.bin.finish()) await sink.write(chunk);
    await sink.end();
    return rows;
  }

  /** Per-table row check + COPY line. Returns undefined to skip a row (after reporting it). */
  private converter(table: GtfsTable): (row: Value[], line: number) => string | undefined {
    const file = FILES[table].file;
    const err = (line: number, code: ErrorCode, field: string, value: Value, message: string) => {
      this.issues.error({ code, file, line, field, value: value === null ? undefined : String(value), message });
      return undefined;
    };
    switch (table) {
      case "agency": {
        const c = columnIndex("agency");
        return (row, line) => {
          this.agencyCount++;
          const id = (row[c.agency_id] as string | null) ?? "";
          if (this.agencies.has(id)) return err(line, "duplicate_id", "agency_id", id, "duplicate agency_id");
          this.agencies.add(id);
          const tz = row[c.agency_timezone] as string;
          if (this.meta.timezone === null) {
            this.meta.timezone = tz;
            this.meta.publisherName ??= row[c.agency_name] as string;
            this.meta.publisherUrl ??= row[c.agency_url] as string;
          } else if (tz !== this.meta.timezone)
            this.issues.warn({
              code: "agency_timezones_differ",
              file,
              line,
              field: "agency_timezone",
              value: tz,
              message: `agencies have different time zones; times use the first one (${this.meta.timezone})`,
            });
          return copyLine(row);
        };
      }
      case "feed_info": {
        const c = columnIndex("feed_info");
        return (row) => {
          this.meta.publisherName = row[c.feed_publisher_name] as string;
          this.meta.publisherUrl = row[c.feed_publisher_url] as string;
          this.meta.version = row[c.feed_version] as string | null;
          this.meta.lang = row[c.feed_lang] as string | null;
          this.meta.startDate = row[c.feed_start_date] as string | null;
          this.meta.endDate = row[c.feed_end_date] as string | null;
          return copyLine(row);
        };
      }
      case "stops": {
        const c = columnIndex("stops");
        return (row, line) => {
          const id = row[c.stop_id] as string;
          const type = (row[c.location_type] as number | null) ?? 0;
          if (this.stops.has(id)) return err(line, "duplicate_id", "stop_id", id, "duplicate stop_id");
          const idx = this.stopTypes.length;
          this.stops.set(id, idx);
          this.stopTypes.push(type);
          const lat = row[c.stop_lat] as number | null;
          const lon = row[c.stop_lon] as number | null;
          const name = row[c.stop_name] as string | null;
          if (type <= 2) {
            if (lat === null)
              return err(line, "conditionally_required", "stop_lat", null, "required for location_type 0, 1 and 2");
            if (lon === null)
              return err(line, "conditionally_required", "stop_lon", null, "required for location_type 0, 1 and 2");
            if (name === null)
              return err(line, "conditionally_required", "stop_name", null, "required for location_type 0, 1 and 2");
          }
          const parent = row[c.parent_station] as string | null;
          if (parent !== null) this.parentRefs.push({ line, parent, type });
          else if (type >= 2)
            return err(line, "conditionally_required", "parent_station", null, "required for location_type 2, 3 and 4");
          row[c.location_type] = type;
          // geo: equirectangular (lon·cos lat, lat) so that point distance ≈ metres / 111 195 for KNN.
          const geo = lat === null || lon === null ? null : `(${lon * Math.cos((lat * Math.PI) / 180)},${lat})`;
          return `${idx}\t${copyLine(row).slice(0, -1)}\t${copyField(name === null ? "" : searchKey(name))}\t${copyField(geo)}\n`;
        };
      }
      case "routes": {
        const c = columnIndex("routes");
        return (row, line) => {
          const id = row[c.route_id] as string;
          if (this.routes.has(id)) return err(line, "duplicate_id", "route_id", id, "duplicate route_id");
          this.routes.add(id);
          const agency = row[c.agency_id] as string | null;
          if (agency === null) {
            if (this.agencyCount > 1)
              return err(
                line,
                "conditionally_required",
                "agency_id",
                null,
                "required when the feed has several agencies",
              );
            row[c.agency_id] = [...this.agencies][0] || null;
          } else if (!this.agencies.has(agency) && !(this.agencyCount === 1 && this.agencies.has("")))
            return err(line, "unknown_reference", "agency_id", agency, "unknown agency_id (not in agency.txt)");
          return copyLine(row);
        };
      }
      case "calendar": {
        const c = columnIndex("calendar");
        const days = [c.monday, c.tuesday, c.wednesday, c.thursday, c.friday, c.saturday, c.sunday];
        return (row, line) => {
          const id = row[c.service_id] as string;
          const start = row[c.start_date] as string;
          const end = row[c.end_date] as string;
          if (end < start) return err(line, "invalid_range", "end_date", end, "end_date is before start_date");
          this.services.add(id);
          this.calendar.push({
            serviceId: id,
            days: days.map((d) => row[d] === 1),
            startDate: start,
            endDate: end,
            line,
          });
          return copyLine(row);
        };
      }
      case "calendar_dates": {
        const c = columnIndex("calendar_dates");
        return (row) => {
          const id = row[c.service_id] as string;
          this.services.add(id);
          this.exceptions.push({
            serviceId: id,
            date: row[c.date] as string,
            exceptionType: row[c.exception_type] as 1 | 2,
          });
          return copyLine(row);
        };
      }
      case "shapes": {
        const c = columnIndex("shapes");
        return (row) => {
          this.shapes.add(row[c.shape_id] as string);
          return copyLine(row);
        };
      }
      case "trips": {
        const c = columnIndex("trips");
        const checkShapes = this.source.files.has("shapes.txt");
        return (row, line) => {
          const id = row[c.trip_id] as string;
          if (this.trips.has(id)) return err(line, "duplicate_id", "trip_id", id, "duplicate trip_id");
          const route = row[c.route_id] as string;
          if (!this.routes.has(route))
            return err(line, "unknown_reference", "route_id", route, "unknown route_id (not in routes.txt)");
          const service = row[c.service_id] as string;
          if (!this.services.has(service))
            return err(
              line,
              "unknown_reference",
              "service_id",
              service,
              "unknown service_id (not in calendar.txt or calendar_dates.txt)",
            );
          const shape = row[c.shape_id] as string | null;
          if (shape !== null && checkShapes && !this.shapes.has(shape))
            this.issues.warn({
              code: "unknown_shape_id",
              file,
              line,
              field: "shape_id",
              value: shape,
              message: "unknown shape_id (not in shapes.txt)",
            });
          const idx = this.trips.size + 1;
          this.trips.set(id, idx);
          return `${idx}\t${copyLine(row)}`;
        };
      }
      case "frequencies": {
        const c = columnIndex("frequencies");
        return (row, line) => {
          const trip = row[c.trip_id] as string;
          const idx = this.trips.get(trip);
          if (idx === undefined)
            return err(line, "unknown_reference", "trip_id", trip, "unknown trip_id (not in trips.txt)");
          if ((row[c.end_time] as number) <= (row[c.start_time] as number))
            return err(line, "invalid_range", "end_time", row[c.end_time] ?? null, "end_time must be after start_time");
          if (row[c.exact_times] === null) row[c.exact_times] = 0;
          this.frequencyTrips.add(trip);
          this.frequencyTripIdxs.add(idx);
          this.frequencyEnds.set(idx, Math.max(this.frequencyEnds.get(idx) ?? 0, row[c.end_time] as number));
          row[c.trip_id] = idx;
          return copyLine(row);
        };
      }
      case "stop_times":
        return () => undefined; // loaded by loadStopTimes
      case "transfers": {
        const c = columnIndex("transfers");
        return (row, line) => {
          for (const f of ["from_stop_id", "to_stop_id"] as const) {
            const v = row[c[f]] as string | null;
            if (v !== null && !this.stops.has(v))
              return err(line, "unknown_reference", f, v, "unknown stop_id (not in stops.txt)");
          }
          for (const f of ["from_route_id", "to_route_id"] as const) {
            const v = row[c[f]] as string | null;
            if (v !== null && !this.routes.has(v))
              return err(line, "unknown_reference", f, v, "unknown route_id (not in routes.txt)");
          }
          for (const f of ["from_trip_id", "to_trip_id"] as const) {
            const v = row[c[f]] as string | null;
            if (v !== null && !this.trips.has(v))
              return err(line, "unknown_reference", f, v, "unknown trip_id (not in trips.txt)");
          }
          return copyLine(row);
        };
      }
    }
  }

  private parentRefs: { line: number; parent: string; type: number }[] = [];

  private checkParents(): void {
    for (const ref of this.parentRefs) {
      if (!this.stops.has(ref.parent))
        this.issues.error({
          code: "unknown_reference",
          file: "stops.txt",
          line: ref.line,
          field: "parent_station",
          value: ref.parent,
          message: "unknown parent_station (not in stops.txt)",
        });
    }
    this.parentRefs = [];
  }

  /** The hot path (millions of rows): typed stop_times values → COPY line, with the checks. */
  private stopTimeConverter(): (row: Value[], line: number) => boolean {
    const c = columnIndex("stop_times");
    return (row, line) =>
      this.emitStopTime(
        row[c.trip_id] as string,
        row[c.stop_id] as string,
        row[c.arrival_time] as number | null,
        row[c.departure_time] as number | null,
        row[c.stop_sequence] as number,
        row[c.stop_headsign] as string | null,
        row[c.pickup_type] as number | null,
        row[c.drop_off_type] as number | null,
        row[c.shape_dist_traveled] as number | null,
        row[c.timepoint] as number | null,
        line,
      );
  }

  /**
   * `stop` is the stop_id as written, read only for reports about the stop; a caller that passes
   * knownStopIdx of a plain stop (location_type 0) triggers none and may pass NOT_REPORTED.
   */
  private emitStopTime(
    trip: string,
    stop: string,
    arrival: number | null,
    departure: number | null,
    sequence: number,
    headsign: string | null,
    pickup: number | null,
    dropOff: number | null,
    dist: number | null,
    timepoint: number | null,
    line: number,
    knownTripIdx?: number,
    knownStopIdx?: number,
  ): boolean {
    const file = "stop_times.txt";
    const issues = this.issues;
    const tripIdx = knownTripIdx ?? this.trips.get(trip);
    if (tripIdx === undefined) {
      issues.error({
        code: "unknown_reference",
        file,
        line,
        field: "trip_id",
        value: trip,
        message: "unknown trip_id (not in trips.txt)",
      });
      return false;
    }
    const stopIdx = knownStopIdx ?? this.stops.get(stop);
    if (stopIdx === undefined) {
      issues.error({
        code: "unknown_reference",
        file,
        line,
        field: "stop_id",
        value: stop,
        message: "unknown stop_id (not in stops.txt)",
      });
      return false;
    }
    if (tripIdx !== this.lastTripIdx) {
      if (tripIdx < this.lastTripIdx) this.stopTimesInTripOrder = false;
      this.lastTripIdx = tripIdx;
      this.lastSequence = -1;
      this.maxSequence = -1;
      this.tripSequences.length = 0;
      this.tripSequenceLines.length = 0;
    }
    if (sequence <= this.lastSequence) this.stopTimesInTripOrder = false;
    if (sequence <= this.maxSequence) {
      // Only a sequence not above every earlier one of this run of the trip's rows can repeat one.
      const earlier = this.tripSequences.indexOf(sequence);
      if (earlier >= 0) {
        issues.error({
          code: "duplicate_stop_sequence",
          file,
          line,
          field: "stop_sequence",
          value: `${trip}, ${sequence}`,
          message: `duplicate (trip_id, stop_sequence): also on line ${this.tripSequenceLines[earlier]}`,
        });
        return false;
      }
    }
    this.lastSequence = sequence;
    if (sequence > this.maxSequence) this.maxSequence = sequence;
    this.tripSequences.push(sequence);
    this.tripSequenceLines.push(line);
    const frequencyBased = this.frequencyTripIdxs.size > 0 && this.frequencyTripIdxs.has(tripIdx);
    if (frequencyBased) {
      this.frequencyStops.add(stopIdx);
      const t = departure ?? arrival;
      if (t !== null) {
        const span = this.frequencySpans.get(tripIdx);
        if (!span) this.frequencySpans.set(tripIdx, [t, t]);
        else {
          if (t < span[0]) span[0] = t;
          if (t > span[1]) span[1] = t;
        }
      }
    }
    const type = this.stopTypes[stopIdx]!;
    if (type !== 0)
      issues.warn({
        code: type === 1 ? "stop_time_at_station" : "stop_time_at_location",
        file,
        line,
        field: "stop_id",
        value: stop,
        message:
          type === 1
            ? "stop_times references a station (location_type 1); its departures are listed on the station"
            : `stop_times references a location_type ${type} location`,
      });
    const arr = arrival ?? departure;
    const dep = departure ?? arrival;
    if (dep === null) {
      if (timepoint === 1) {
        issues.error({
          code: "conditionally_required",
          file,
          line,
          field: "departure_time",
          message: "required for a timepoint (timepoint=1)",
        });
        return false;
      }
      this.missingTimes++;
      this.board = undefined;
    } else {
      if (dep > this.maxDepartureSecs) this.maxDepartureSecs = dep;
      if (arr! > dep)
        issues.warn({
          code: "departure_before_arrival",
          file,
          line,
          field: "departure_time",
          message: "departure_time is before arrival_time",
        });
    }
    if (this.board && dep !== null) {
      if (frequencyBased) this.board.addFrequency(stopIdx, dep, tripIdx, sequence, headsign, pickup !== 1);
      else if (pickup !== 1) this.board.add(stopIdx, dep, tripIdx, sequence, headsign);
    }
    const w = this.bin;
    w.row(10, stopTimeTupleBytes(headsign));
    w.int4(tripIdx);
    if (dep === null) {
      w.null();
      w.null();
    } else {
      w.int4(arr!);
      w.int4(dep);
    }
    w.int4(stopIdx);
    w.int4(sequence);
    if (headsign === null) w.null();
    else w.text(headsign);
    if (pickup === null) w.null();
    else w.int2(pickup);
    if (dropOff === null) w.null();
    else w.int2(dropOff);
    if (dist === null) w.null();
    else w.float8(dist);
    if (timepoint === null) w.null();
    else w.int2(timepoint);
    return true;
  }

  /**
   * Raw-record fast path for stop_times: clean, canonical fields are converted inline; anything unusual
   * (blank or padded values, odd time formats, bad numbers) goes through the generic parser, which
   * reports it precisely. Same results either way, a fraction of the allocations.
   */
  private stopTimeRecordConverter(index: readonly number[]): (f: string[], line: number) => boolean {
    const spec = FILES.stop_times;
    const typed = this.stopTimeConverter();
    const { iTrip, iStop, iArr, iDep, iSeq, iHead, iPick, iDrop, iDist, iTp } = stopTimePositions(index);
    const issues = this.issues;
    const slow = (f: string[], line: number) => {
      const row = parseRecord(spec, index, f, line, issues);
      return row ? typed(row, line) : false;
    };
    // Consecutive rows usually belong to the same trip: remember the last lookup.
    let lastTrip = "";
    let lastTripIdx: number | undefined;
    return (f, line) => {
      const trip = f[iTrip];
      const stop = f[iStop];
      if (!trip || !stop) return slow(f, line);
      if (trip !== lastTrip) {
        lastTrip = trip;
        lastTripIdx = this.trips.get(trip);
      }
      const tripIdx = lastTripIdx;
      const stopIdx = this.stops.get(stop);
      if (tripIdx === undefined || stopIdx === undefined) return slow(f, line);
      const arr = iArr < 0 ? null : fastTime(f[iArr]);
      const dep = iDep < 0 ? null : fastTime(f[iDep]);
      const seq = fastUint(f[iSeq]);
      const pickup = iPick < 0 ? null : fastSmall(f[iPick], 3);
      const dropOff = iDrop < 0 ? null : fastSmall(f[iDrop], 3);
      const tp = iTp < 0 ? null : fastSmall(f[iTp], 1);
      if (arr === -1 || dep === -1 || seq < 0 || pickup === -1 || dropOff === -1 || tp === -1) return slow(f, line);
      let headsign: string | null = null;
      if (iHead >= 0) {
        const h = f[iHead];
        if (h === undefined || h.trim() !== h) return slow(f, line);
        if (h !== "") headsign = h;
      }
      let dist: number | null = null;
      if (iDist >= 0) {
        const d = f[iDist];
        if (d === undefined || d.trim() !== d) return slow(f, line);
        if (d !== "") {
          dist = Number(d);
          if (!Number.isFinite(dist)) return slow(f, line);
        }
      }
      return this.emitStopTime(trip, stop, arr, dep, seq, headsign, pickup, dropOff, dist, tp, line, tripIdx, stopIdx);
    };
  }

  /**
   * The line path for stop_times: a plain line with the header's number of fields is read where it
   * sits in the text (one string for the stop_id, one when the trip changes, none for numbers). Any
   * field not in canonical form sends the line to the record path, so results and error reports are
   * the same either way.
   */
  private stopTimeLineConverter(
    index: readonly number[],
    columns: number,
    recordPath: (f: string[], line: number) => boolean,
  ): (text: string, start: number, end: number, line: number) => boolean {
    const { iTrip, iStop, iArr, iDep, iSeq, iHead, iPick, iDrop, iDist, iTp } = stopTimePositions(index);
    const ends = new Int32Array(columns);
    const stops = new IdLookup(this.stops);
    const slow = (text: string, start: number, end: number, line: number) => {
      const f = text.slice(start, end).split(",");
      return !isBlank(f) && recordPath(f, line);
    };
    let lastTrip = "";
    let lastTripIdx: number | undefined;
    return (t, start, end, line) => {
      if (!fieldEnds(t, start, end, ends, columns)) return slow(t, start, end, line);
      const from = (k: number) => (k === 0 ? start : ends[k - 1]! + 1);
      const tripFrom = from(iTrip);
      const tripTo = ends[iTrip]!;
      // Consecutive rows usually belong to the same trip: compare in place, look up only on a change.
      if (tripTo - tripFrom !== lastTrip.length || !t.startsWith(lastTrip, tripFrom)) {
        lastTrip = t.slice(tripFrom, tripTo);
        lastTripIdx = this.trips.get(lastTrip);
      }
      const tripIdx = lastTripIdx;
      const stopIdx = stops.get(t, from(iStop), ends[iStop]!);
      // A stop that is not a plain stop gets a report naming it: the record path has its id as a string.
      if (tripIdx === undefined || stopIdx < 0 || this.stopTypes[stopIdx] !== 0 || lastTrip === "")
        return slow(t, start, end, line);
      const arr = iArr < 0 ? null : timeAt(t, from(iArr), ends[iArr]!);
      const dep = iDep < 0 ? null : timeAt(t, from(iDep), ends[iDep]!);
      const seq = uintAt(t, from(iSeq), ends[iSeq]!);
      const pickup = iPick < 0 ? null : digitAt(t, from(iPick), ends[iPick]!, 3);
      const dropOff = iDrop < 0 ? null : digitAt(t, from(iDrop), ends[iDrop]!, 3);
      const tp = iTp < 0 ? null : digitAt(t, from(iTp), ends[iTp]!, 1);
      if (arr === -1 || dep === -1 || seq < 0 || pickup === -1 || dropOff === -1 || tp === -1)
        return slow(t, start, end, line);
      let headsign: string | null = null;
      if (iHead >= 0 && ends[iHead]! > from(iHead)) {
        headsign = t.slice(from(iHead), ends[iHead]);
        if (headsign.trim() !== headsign) return slow(t, start, end, line);
      }
      let dist: number | null = null;
      if (iDist >= 0 && ends[iDist]! > from(iDist)) {
        const d = t.slice(from(iDist), ends[iDist]);
        dist = Number(d);
        if (d.trim() !== d || !Number.isFinite(dist)) return slow(t, start, end, line);
      }
      return this.emitStopTime(
        lastTrip,
        NOT_REPORTED,
        arr,
        dep,
        seq,
        headsign,
        pickup,
        dropOff,
        dist,
        tp,
        line,
        tripIdx,
        stopIdx,
      );
    };
  }

  private async loadServiceDates(): Promise<void> {
    const resolved = resolveServiceDates(this.calendar, this.exceptions, this.issues);
    const sink = this.session.copy(`"${this.schema}".service_dates`, TABLE_COLUMNS.service_dates);
    let parts: string[] = [];
    let rows = 0;
    let min: string | null = null;
    let max: string | null = null;
    for (const [service, dates] of resolved) {
      for (const d of dates) {
        parts.push(`${copyField(service)}\t${d}\n`);
        rows++;
      }
      if (dates.length) {
        if (min === null || dates[0]! < min) min = dates[0]!;
        if (max === null || dates.at(-1)! > max) max = dates.at(-1)!;
      }
      if (parts.length > 50_000) {
        await sink.write(parts.join(""));
        parts = [];
      }
    }
    if (parts.length) await sink.write(parts.join(""));
    await sink.end();
    this.meta.startDate ??= min;
    this.meta.endDate ??= max;
    if (rows === 0)
      this.issues.warn({
        code: "no_service_dates",
        file: "calendar.txt",
        message: "no service runs on any date (calendar resolves to nothing)",
      });
    this.files.push({ file: "(service dates)", rows, seconds: 0 });
  }

  /** stop_departures: from the collected departures, or in SQL when times were interpolated there. */
  async loadBoards(): Promise<void> {
    const t = performance.now();
    let rows: number;
    if (this.board) {
      // Two COPY streams on two connections where there can be: the server's parsing of the arrays,
      // not our writing, is the larger half of the work.
      const second = await this.session.fork();
      try {
        const sinks = [this.session, ...(second ? [second] : [])].map((s) =>
          s.copy(`"${this.schema}".stop_departures`, TABLE_COLUMNS.stop_departures, "binary"),
        );
        const writers = sinks.map(() => new BinaryCopyWriter());
        const send = async (finish = false) => {
          for (let k = 0; k < sinks.length; k++)
            for (const chunk of finish ? writers[k]!.finish() : writers[k]!.take()) await sinks[k]!.write(chunk);
        };
        for (const _ of this.board.writeTo(writers)) if (writers.some((w) => w.bufferedChunks)) await send();
        await send(true);
        rows = 0;
        for (const sink of sinks) rows += await sink.end();
      } finally {
        await second?.close();
      }
      this.board = undefined; // its memory is not needed any more
    } else {
      await this.session.query(buildStopDeparturesSql(this.schema));
      const [count] = await this.session.query<{ n: string }>(
        `select count(*) as n from "${this.schema}".stop_departures`,
      );
      rows = Number(count?.n ?? 0);
    }
    // Listed like the service dates: derived, not counted as rows read from the feed.
    this.files.push({ file: "(departure boards)", rows, seconds: (performance.now() - t) / 1000 });
  }

  /**
   * Stops without times (timepoint=0) get times interpolated linearly by stop order between the
   * surrounding timed stops of the same trip, so they appear on departure boards.
   */
  private async interpolateTimes(): Promise<void> {
    const s = `"${this.schema}"`;
    await this.session.query(`
      with ordered as (
        select trip_idx, stop_sequence, departure_secs,
               row_number() over w as n,
               max(case when departure_secs is not null then stop_sequence end) over (w rows unbounded preceding) as prev_seq
        from ${s}.stop_times window w as (partition by trip_idx order by stop_sequence)
      ), known as (
        select o.trip_idx, o.stop_sequence, o.n, o.departure_secs from ordered o where o.departure_secs is not null
      ), gaps as (
        select o.trip_idx, o.stop_sequence, o.n, p.n as pn, p.departure_secs as pdep,
               (select k.n from known k where k.trip_idx = o.trip_idx and k.n > o.n order by k.n limit 1) as nn
        from ordered o join known p on p.trip_idx = o.trip_idx and p.stop_sequence = o.prev_seq
        where o.departure_secs is null
      ), filled as (
        select g.trip_idx, g.stop_sequence,
               g.pdep + round((k.departure_secs - g.pdep) * (g.n - g.pn)::numeric / (g.nn - g.pn))::int as secs
        from gaps g join known k on k.trip_idx = g.trip_idx and k.n = g.nn
      )
      update ${s}.stop_times st set arrival_secs = f.secs, departure_secs = f.secs
      from filled f where st.trip_idx = f.trip_idx and st.stop_sequence = f.stop_sequence`);
    const [left] = await this.session.query<{ n: string }>(
      `select count(*) as n from ${s}.stop_times where departure_secs is null`,
    );
    if (Number(left?.n) > 0)
      this.issues.warn({
        code: "times_not_interpolated",
        file: "stop_times.txt",
        message: `${left?.n} stop times without times could not be interpolated (no timed stop before or after)`,
      });
  }
}
