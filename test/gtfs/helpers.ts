// Shared set-up for the GTFS suites: a real app on a fresh PostgreSQL database, an importer bound to
// it, and compact views of departure boards for exact assertions.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { Cache } from "../../src/cache/cache";
import { type ImportSummary, importFeed } from "../../src/modules/gtfs/import/importer";
import { REPO_ROOT } from "../support/repo";
import { createTestDatabase, type TestDatabase } from "../support/services";
import { createTestApp, type TestApp } from "../support/test-app";

/** Per-test and per-hook timeout: imports and servers outlast bun test's 5 s default on a busy machine. */
export const SLOW = 120_000;

export const EDGE = join(REPO_ROOT, "test/fixtures/gtfs/edge");
export const DATES_ONLY = join(REPO_ROOT, "test/fixtures/gtfs/dates-only");
export const SAMPLE_ZIP = join(REPO_ROOT, "node_modules/sample-gtfs-feed/gtfs.zip");
export const SAMPLE_DIR = join(REPO_ROOT, "node_modules/sample-gtfs-feed/gtfs");

export interface GtfsEnv {
  app: TestApp;
  db?: TestDatabase;
  import(location: string, keepVersions?: number): Promise<ImportSummary>;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
  get(path: string): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

/** App + importer on PostgreSQL (a fresh database), or on embedded PGlite with `embedded: true`. */
export async function gtfsEnv(
  options: {
    embedded?: boolean;
    cache?: Cache;
    /** More environment, e.g. GTFS-Realtime source URLs. */
    env?: Record<string, string>;
    configure?: NonNullable<Parameters<typeof createTestApp>[1]>["configure"];
    realtime?: NonNullable<Parameters<typeof createTestApp>[1]>["realtime"];
  } = {},
): Promise<GtfsEnv> {
  const db = options.embedded ? undefined : await createTestDatabase("gtfs");
  const app = await createTestApp(
    { ...(db ? { DATABASE_URL: db.url } : {}), ...options.env },
    { cache: options.cache, configure: options.configure, realtime: options.realtime },
  );
  return {
    app,
    db,
    import: (location, keepVersions = 2) =>
      importFeed({ location, database: app.database, connectionString: db?.url, keepVersions }),
    async get(path) {
      const res = await app.fetch(path);
      return { status: res.status, body: await res.json(), headers: res.headers };
    },
    async close() {
      await app.close();
      await db?.drop();
    },
  };
}

/**
 * The GtfsEnv of one describe block: opened before its tests with `feeds` imported in order, closed
 * after them. The returned object stands for it, so tests use it like the env itself.
 */
export function suiteGtfsEnv(feeds: string[] = [], options: Parameters<typeof gtfsEnv>[0] = {}): GtfsEnv {
  let env: GtfsEnv | undefined;
  beforeAll(async () => {
    env = await gtfsEnv(options);
    for (const feed of feeds) await env.import(feed);
  }, SLOW);
  afterAll(async () => {
    await env?.close();
  }, SLOW);
  const current = (): GtfsEnv => {
    if (!env) throw new Error("suiteGtfsEnv: used outside the tests of the describe block that declared it");
    return env;
  };
  return {
    get app() {
      return current().app;
    },
    get db() {
      return current().db;
    },
    import: (location, keepVersions) => current().import(location, keepVersions),
    get: (path) => current().get(path),
    close: () => current().close(),
  };
}

export interface BoardLine {
  trip: string;
  stop: string;
  date: string;
  time: string;
  at: string;
}

/** Departures reduced to what the assertions compare. */
export async function board(env: GtfsEnv, stopId: string, at: string, window = 60): Promise<BoardLine[]> {
  const res = await env.get(
    `/v1/stops/${encodeURIComponent(stopId)}/departures?at=${encodeURIComponent(at)}&window=${window}`,
  );
  if (res.status !== 200) throw new Error(`board ${stopId} ${at}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.departures.map((d: Record<string, string>) => ({
    trip: d.trip_id,
    stop: d.stop_id,
    date: d.service_date,
    time: d.departure_time,
    at: d.departure,
  }));
}

/** A copy of a fixture folder with some files replaced or removed, for broken-feed tests. */
export function mutatedFeed(
  base: string,
  changes: Record<string, string | null | ((text: string) => string)>,
): {
  dir: string;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), "gtfs-broken-"));
  cpSync(base, dir, { recursive: true });
  for (const [file, change] of Object.entries(changes)) {
    const path = join(dir, file);
    if (change === null) rmSync(path);
    else writeFileSync(path, typeof change === "function" ? change(readFileSync(path, "utf8")) : change);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
