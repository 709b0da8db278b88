// The "index" step: each table's indexes and ANALYZE (as its module declares them), built once its rows
// are in, on the second connection where there is one. The tables loaded before stop_times are indexed
// while stop_times loads; stop_times and the derived tables while the main connection loads the
// departure boards. A unique index that cannot be built means duplicate ids: reported as a feed error.
import type { ImportConnections } from "./connections";
import { stopDeparturesTable } from "./derived/board-table";
import type { FeedTable } from "./files/feed-file";
import type { FeedState } from "./files/feed-state";
import { FeedValidationError } from "./issues";
import type { LoadSession } from "./load-session";

export class IndexBuilder {
  private early: Promise<void> | undefined;
  private deferred: string[] = [];
  private readonly started = new Set<FeedTable>();

  /** `tables`: the version's tables but the departure boards', in the order they are filled. */
  constructor(
    private readonly connections: ImportConnections,
    private readonly schema: string,
    private readonly state: FeedState,
    private readonly tables: readonly FeedTable[],
  ) {}

  /**
   * Starts on the tables loaded before stop_times, once `copied` (their COPYs on the second
   * connection) settles; without a second connection, they wait for finish().
   */
  startReferenceTables(tables: readonly FeedTable[], copied: () => Promise<void>): void {
    for (const t of tables) this.started.add(t);
    const stmts = [...this.indexSql(tables), ...this.analyzeSql(tables)];
    const second = this.connections.second;
    if (!second) {
      this.deferred = stmts;
      return;
    }
    this.early = copied().then(() => this.run(second, stmts));
    this.early.catch(() => {}); // awaited in finish(); a failed load closes the connection instead
  }

  /**
   * The rest: `loadBoards` on the main connection, then the boards table's index and ANALYZE there,
   * beside the other tables' on the second.
   */
  async finish(loadBoards: () => Promise<void>): Promise<void> {
    const tables = this.tables.filter((t) => !this.started.has(t));
    const boards = stopDeparturesTable;
    const rest = [...this.deferred, ...this.indexSql(tables), ...this.analyzeSql(tables)];
    const main = this.connections.main;
    const withBoards = async () => {
      await loadBoards();
      await this.run(main, [...this.indexSql([boards]), ...this.analyzeSql([boards])]);
    };
    await this.early;
    const second = this.connections.second;
    if (second) await Promise.all([withBoards(), this.run(second, rest)]);
    else {
      await withBoards();
      await this.run(main, rest);
    }
  }

  private indexSql(tables: readonly FeedTable[]): string[] {
    return tables.flatMap((t) => t.indexes?.(`"${this.schema}"`, this.state) ?? []);
  }

  // ANALYZE needs no index, so it runs beside the builds; only the columns queries filter or join on.
  private analyzeSql(tables: readonly FeedTable[]): string[] {
    const s = `"${this.schema}"`;
    return tables.flatMap((t) =>
      t.analyze === undefined
        ? []
        : [`analyze ${s}.${t.name}${t.analyze === true ? "" : ` (${t.analyze.join(", ")})`}`],
    );
  }

  private async run(session: LoadSession, stmts: string[]): Promise<void> {
    for (const stmt of stmts) {
      try {
        await session.query(stmt);
      } catch (err) {
        throw (await this.duplicateKeyError(session, err, stmt)) ?? err;
      }
    }
  }

  /** A unique index that cannot be built means duplicate ids in the feed: say which, by feed ids. */
  private async duplicateKeyError(
    session: LoadSession,
    err: unknown,
    stmt: string,
  ): Promise<FeedValidationError | undefined> {
    const e = err as { code?: string; detail?: string };
    if (e.code !== "23505") return undefined;
    const table = /on "[^"]+"\.(\w+)/.exec(stmt)?.[1] ?? "?";
    const m = /Key \(([^)]*)\)=\(([^)]*)\)/.exec(e.detail ?? "");
    if (m?.[1] === "trip_idx, stop_sequence" && m[2]) {
      const [idx, seq] = m[2].split(", ");
      const [trip] = await session
        .query<{ trip_id: string }>(`select trip_id from "${this.schema}".trips where trip_idx = $1`, [Number(idx)])
        .catch(() => []);
      return new FeedValidationError([
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
    const file = table === "service_dates" ? "calendar_dates.txt" : `${table}.txt`;
    return new FeedValidationError([
      { code: "duplicate_id", file, field: m?.[1], value: m?.[2], message: `duplicate ${m?.[1] ?? "key"}` },
    ]);
  }
}
