// A GTFS feed imported through the container's CLI (`import <feed>`), then every /v1 endpoint over HTTP
// with and without the API key. Expectations come from the fixture feed itself (sample-gtfs-feed's zip).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort, type ServerProcess, startPostgres, startRedis } from "../support/processes";
import { REPO_ROOT } from "../support/repo";
import {
  API_KEY,
  type CommandResult,
  type Container,
  e2eSuite,
  get,
  type ImageUnderTest,
  imageUnderTest,
  runOnce,
  startService,
} from "./support/docker";

const suite = e2eSuite();

const FEED_ZIP = join(REPO_ROOT, "node_modules/sample-gtfs-feed/gtfs.zip");

/** The fixture's tables as rows of strings (its CSV has no quoted fields). */
function readFeed(): Record<string, Record<string, string>[]> {
  const files = unzipSync(readFileSync(FEED_ZIP));
  const tables: Record<string, Record<string, string>[]> = {};
  for (const [name, bytes] of Object.entries(files)) {
    const [header, ...lines] = new TextDecoder()
      .decode(bytes)
      .replace(/^\uFEFF/, "")
      .split(/\r?\n/);
    const columns = (header ?? "").split(",");
    tables[name.replace(/\.txt$/, "")] = lines
      .filter((l) => l.trim() !== "")
      .map((l) => Object.fromEntries(l.split(",").map((v, i) => [columns[i], v])));
  }
  return tables;
}

/** A date (YYYY-MM-DD) on which `serviceId` runs by calendar.txt and is not removed by calendar_dates.txt. */
function serviceDate(feed: ReturnType<typeof readFeed>, serviceId: string): string {
  const cal = feed.calendar?.find((c) => c.service_id === serviceId);
  if (!cal) throw new Error(`no calendar for ${serviceId}`);
  const removed = new Set(
    (feed.calendar_dates ?? [])
      .filter((d) => d.service_id === serviceId && d.exception_type === "2")
      .map((d) => d.date),
  );
  const days = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
  const ymd = (s: string) => Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6, 8)));
  for (let t = ymd(cal.start_date!); t <= ymd(cal.end_date!); t += 86_400_000) {
    const date = new Date(t);
    const compact = date.toISOString().slice(0, 10).replaceAll("-", "");
    if (cal[days[date.getUTCDay()]!] === "1" && !removed.has(compact)) return date.toISOString().slice(0, 10);
  }
  throw new Error(`${serviceId} never runs`);
}

suite("a GTFS feed imported and served by the image", () => {
  const feed = readFeed();
  let image: ImageUnderTest;
  let postgres: ServerProcess;
  let redis: ServerProcess;
  let api: Container;
  let imported: CommandResult;

  beforeAll(async () => {
    [image, postgres, redis] = await Promise.all([imageUnderTest(), startPostgres(), startRedis()]);
    const env = { DATABASE_URL: postgres.url, REDIS_URL: redis.url, API_KEY };
    const migrate = await runOnce(image.ref, { args: ["migrate"], env });
    if (migrate.code !== 0) throw new Error(`migrate failed: ${migrate.stderr}`);
    imported = await runOnce(image.ref, {
      args: ["import", "/feeds/gtfs.zip"],
      env,
      mounts: { [FEED_ZIP]: "/feeds/gtfs.zip" },
    });
    api = await startService(image.ref, await freePort(), { env });
  }, 1_800_000);

  afterAll(async () => {
    await api?.remove();
    await Promise.allSettled([postgres?.destroy(), redis?.destroy()]);
  }, 120_000);

  const v1 = async (path: string) => {
    const response = await get(`${api.url}${path}`, { "x-api-key": API_KEY });
    expect(response.status, `${path}: ${response.body}`).toBe(200);
    return response.json().data;
  };

  it("imports the fixture feed through the container's CLI", async () => {
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/imported feed version \d+/);
    const [active] = await v1("/v1/feeds");
    expect(active.active).toBe(true);
    expect(active.feed_version).toBe(feed.feed_info?.[0]?.feed_version);
    for (const table of ["agency", "routes", "stops", "trips", "stop_times"])
      expect(active.row_counts[`${table}.txt`], table).toBe(feed[table]?.length);
  });

  it("lists agencies and routes, and serves one route", async () => {
    const agencies = await v1("/v1/agencies");
    expect(agencies.map((a: { agency_id: string }) => a.agency_id).sort()).toEqual(
      feed.agency!.map((a) => a.agency_id).sort(),
    );
    const routes = await v1("/v1/routes");
    expect(routes.map((r: { route_id: string }) => r.route_id).sort()).toEqual(
      feed.routes!.map((r) => r.route_id).sort(),
    );
    const fixture = feed.routes![1]!;
    const route = await v1(`/v1/routes/${encodeURIComponent(fixture.route_id!)}`);
    expect(route).toMatchObject({
      route_id: fixture.route_id,
      route_short_name: fixture.route_short_name,
      route_long_name: fixture.route_long_name,
      trip_count: feed.trips!.filter((t) => t.route_id === fixture.route_id).length,
    });
  });

  it("finds stops by name and by position, and serves a station with its children", async () => {
    const station = feed.stops!.find((s) => s.location_type === "1" && !s.parent_station)!;
    const found = await v1(`/v1/stops?q=${encodeURIComponent(station.stop_name!.split(" ")[0]!)}`);
    expect(found.map((s: { stop_id: string }) => s.stop_id)).toContain(station.stop_id);

    const nearby = await v1(`/v1/stops/nearby?lat=${station.stop_lat}&lon=${station.stop_lon}&radius=1000`);
    expect(nearby[0]).toMatchObject({ stop_id: station.stop_id, distance_m: 0 });

    const one = await v1(`/v1/stops/${encodeURIComponent(station.stop_id!)}`);
    expect(one.stop_name).toBe(station.stop_name);
    expect(one.children.map((c: { stop_id: string }) => c.stop_id).sort()).toEqual(
      feed
        .stops!.filter((s) => s.parent_station === station.stop_id)
        .map((s) => s.stop_id)
        .sort(),
    );
  });

  it("serves a departure board and a trip on a service date", async () => {
    const trip = feed.trips!.find((t) => feed.frequencies?.every((f) => f.trip_id !== t.trip_id) && t.service_id)!;
    const date = serviceDate(feed, trip.service_id!);
    const stopTimes = feed
      .stop_times!.filter((s) => s.trip_id === trip.trip_id)
      .sort((a, b) => Number(a.stop_sequence) - Number(b.stop_sequence));
    const first = stopTimes.find((s) => s.departure_time)!;

    const board = await v1(
      `/v1/stops/${encodeURIComponent(first.stop_id!)}/departures?at=${date}T00:00:00&window=1440&limit=500`,
    );
    expect(board.departures).toContainEqual(
      expect.objectContaining({ trip_id: trip.trip_id, service_date: date, departure_time: first.departure_time }),
    );

    const served = await v1(`/v1/trips/${encodeURIComponent(trip.trip_id!)}?date=${date}`);
    expect(served.service_date).toBe(date);
    expect(served.stop_times.map((s: { stop_id: string }) => s.stop_id)).toEqual(stopTimes.map((s) => s.stop_id));
  });

  it("answers every /v1 endpoint 401 without the key and the same with X-API-Key or Bearer", async () => {
    const station = feed.stops!.find((s) => s.location_type === "1")!;
    const trip = feed.trips![0]!;
    const date = serviceDate(feed, trip.service_id!);
    const paths = [
      "/v1/feeds",
      "/v1/agencies",
      "/v1/routes",
      `/v1/routes/${feed.routes![0]!.route_id}`,
      "/v1/stops?q=a",
      `/v1/stops/nearby?lat=${station.stop_lat}&lon=${station.stop_lon}`,
      `/v1/stops/${station.stop_id}`,
      // A fixed `at`: the default (now) would differ between the two requests compared below.
      `/v1/stops/${station.stop_id}/departures?at=${date}T00:00:00&window=1440`,
      `/v1/trips/${trip.trip_id}?date=${date}`,
    ];
    for (const path of paths) {
      const anonymous = await get(`${api.url}${path}`);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.json().error.code, path).toBe("UNAUTHORIZED");
      const wrong = await get(`${api.url}${path}`, { "x-api-key": `${API_KEY}x` });
      expect(wrong.status, path).toBe(401);
      const keyed = await get(`${api.url}${path}`, { "x-api-key": API_KEY });
      expect(keyed.status, `${path}: ${keyed.body}`).toBe(200);
      const bearer = await get(`${api.url}${path}`, { authorization: `Bearer ${API_KEY}` });
      expect(bearer.status, path).toBe(200);
      expect(bearer.json()).toEqual(keyed.json());
    }
    const missing = await get(`${api.url}/v1/stops/no-such-stop`, { "x-api-key": API_KEY });
    expect(missing.status).toBe(404);
    expect(missing.json().error.code).toMatch(/NOT_FOUND/);
  });
});
