// Deterministic synthetic GTFS feed for tests and benchmarks: a grid city with stations (parent +
// platforms), routes with patterns of stops, weekday/Saturday/Sunday services with exceptions, trips
// running past midnight, a few frequency-based routes and shapes. Same options → same bytes.
//
//   bun scripts/gtfs/generate.ts --size small|large [--out DIR] [--zip]
//   bun scripts/gtfs/generate.ts --routes 200 --trips 100 --stops-per-trip 25 --out DIR
import { createWriteStream, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { zipSync } from "fflate";

export interface GeneratorOptions {
  /** Routes (each runs both directions). */
  routes: number;
  /** Weekday trips per route and direction; Saturday and Sunday run fewer. */
  trips: number;
  stopsPerTrip: number;
  /** Stops (boarding locations) in the city grid; every 10th gets a parent station with two platforms. */
  stops: number;
  seed: number;
}

export const SIZES: Record<string, GeneratorOptions> = {
  // ≈ 2,000 stop_times: fast enough for CI under both test runners.
  small: { routes: 4, trips: 10, stopsPerTrip: 12, stops: 120, seed: 1 },
  // ≈ 2.1 million stop_times: the benchmark feed.
  large: { routes: 200, trips: 100, stopsPerTrip: 25, stops: 6000, seed: 1 },
};

/** mulberry32: tiny, fast, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STREETS = [
  "Ahornstraße",
  "Bahnhofplatz",
  "Cäcilienweg",
  "Dorfstraße",
  "Élysée",
  "Friedhof",
  "Gärtnerei",
  "Hauptstraße",
  "Île Verte",
  "Jägerstraße",
  "Königsallee",
  "Lindenallee",
  "Mühlenweg",
  "Nordring",
  "Österreicher Platz",
  "Parkstraße",
  "Quellenweg",
  "Rathaus",
  "São Bento",
  "Tiergarten",
  "Überseering",
  "Vogelsang",
  "Waldfriedhof",
  "Zoo",
];

function hms(secs: number): string {
  const h = Math.floor(secs / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const s = secs % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

function csv(value: string | number): string {
  const s = String(value);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

class Writer {
  private parts: string[] = [];
  private size = 0;
  rows = 0;
  private readonly stream;
  constructor(path: string, header: string) {
    this.stream = createWriteStream(path);
    this.parts.push(`${header}\n`);
  }
  async row(fields: (string | number)[]): Promise<void> {
    const line = `${fields.map(csv).join(",")}\n`;
    this.parts.push(line);
    this.size += line.length;
    this.rows++;
    if (this.size > 1 << 20) await this.flush();
  }
  private async flush(): Promise<void> {
    const chunk = this.parts.join("");
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(chunk)) await new Promise<void>((r) => this.stream.once("drain", () => r()));
  }
  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((r) => this.stream.end(r));
  }
}

export interface GeneratedFeed {
  dir: string;
  rows: Record<string, number>;
}

export async function generateFeed(outDir: string, o: GeneratorOptions): Promise<GeneratedFeed> {
  mkdirSync(outDir, { recursive: true });
  const rand = rng(o.seed);
  const open = (name: string, header: string) => new Writer(join(outDir, name), header);
  const rows: Record<string, number> = {};

  const agency = open("agency.txt", "agency_id,agency_name,agency_url,agency_timezone,agency_lang");
  await agency.row(["SYN", "Synthetic Verkehrsbetriebe", "https://syn.example.org/", "Europe/Berlin", "de"]);

  const feedInfo = open(
    "feed_info.txt",
    "feed_publisher_name,feed_publisher_url,feed_lang,feed_start_date,feed_end_date,feed_version",
  );
  await feedInfo.row([
    "Synthetic Publisher",
    "https://syn.example.org/",
    "de",
    "20240101",
    "20251231",
    `syn-${o.seed}`,
  ]);

  // Stops on a jittered grid around Berlin; every 10th stop is a station with two platforms.
  const stops = open("stops.txt", "stop_id,stop_code,stop_name,stop_lat,stop_lon,location_type,parent_station");
  const side = Math.ceil(Math.sqrt(o.stops));
  const boarding: { id: string; lat: number; lon: number }[] = [];
  for (let i = 0; i < o.stops; i++) {
    const lat = 52.4 + (Math.floor(i / side) / side) * 0.25 + rand() * 0.001;
    const lon = 13.2 + ((i % side) / side) * 0.4 + rand() * 0.001;
    const name = `${STREETS[i % STREETS.length]} ${Math.floor(i / STREETS.length) + 1}`;
    if (i % 10 === 0) {
      const station = `st${i}`;
      await stops.row([station, "", `${name} (Bhf)`, lat.toFixed(6), lon.toFixed(6), 1, ""]);
      for (const p of [1, 2]) {
        const id = `s${i}p${p}`;
        await stops.row([
          id,
          `${i}${p}`,
          `${name} Gleis ${p}`,
          (lat + p * 1e-4).toFixed(6),
          lon.toFixed(6),
          0,
          station,
        ]);
        boarding.push({ id, lat, lon });
      }
    } else {
      await stops.row([`s${i}`, String(i), name, lat.toFixed(6), lon.toFixed(6), 0, ""]);
      boarding.push({ id: `s${i}`, lat, lon });
    }
  }

  const calendar = open(
    "calendar.txt",
    "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date",
  );
  await calendar.row(["WD", 1, 1, 1, 1, 1, 0, 0, "20240101", "20251231"]);
  await calendar.row(["SA", 0, 0, 0, 0, 0, 1, 0, "20240101", "20251231"]);
  await calendar.row(["SU", 0, 0, 0, 0, 0, 0, 1, "20240101", "20251231"]);
  const dates = open("calendar_dates.txt", "service_id,date,exception_type");
  for (const holiday of ["20241003", "20241225", "20241226", "20250101", "20250501"]) {
    await dates.row(["WD", holiday, 2]);
    await dates.row(["SU", holiday, 1]);
  }

  const routes = open("routes.txt", "route_id,agency_id,route_short_name,route_long_name,route_type,route_color");
  const trips = open("trips.txt", "route_id,service_id,trip_id,trip_headsign,direction_id,shape_id");
  const stopTimes = open(
    "stop_times.txt",
    "trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type",
  );
  const shapes = open("shapes.txt", "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence");
  const frequencies = open("frequencies.txt", "trip_id,start_time,end_time,headway_secs,exact_times");
  const services: [string, number][] = [
    ["WD", o.trips],
    ["SA", Math.max(1, Math.round(o.trips * 0.6))],
    ["SU", Math.max(1, Math.round(o.trips * 0.5))],
  ];

  for (let r = 0; r < o.routes; r++) {
    const routeId = `r${r}`;
    const type = r % 7 === 0 ? 0 : 3;
    await routes.row([routeId, "SYN", String(r + 1), `Linie ${r + 1}`, type, type === 0 ? "CC0000" : "0044AA"]);
    // A pattern: a walk through the grid starting at a pseudo-random stop.
    const pattern: number[] = [];
    let at = Math.floor(rand() * boarding.length);
    for (let k = 0; k < o.stopsPerTrip; k++) {
      pattern.push(at);
      at = (at + 1 + Math.floor(rand() * 3) + (rand() < 0.5 ? side : 0)) % boarding.length;
    }
    const hops = pattern.map(() => 60 + Math.floor(rand() * 120));
    const frequencyRoute = r % 25 === Math.min(24, o.routes - 1);
    for (const dir of [0, 1]) {
      const seq = dir === 0 ? pattern : [...pattern].reverse();
      const shapeId = `${routeId}-${dir}`;
      for (let k = 0; k < seq.length; k++) {
        const s = boarding[seq[k]!]!;
        await shapes.row([shapeId, s.lat.toFixed(6), s.lon.toFixed(6), k + 1]);
      }
      const headsign = boarding[seq.at(-1)!]!.id;
      for (const [service, count] of services) {
        // Service day 05:00 → 25:00 (the last trips run past midnight).
        const span = 20 * 3600;
        const headway = Math.floor(span / count);
        const trips1 = frequencyRoute ? 1 : count;
        for (let t = 0; t < trips1; t++) {
          const tripId = `${routeId}-${service}-${dir}-${t}`;
          await trips.row([routeId, service, tripId, `Richtung ${headsign}`, dir, shapeId]);
          let time = frequencyRoute ? 0 : 5 * 3600 + t * headway + dir * 137;
          for (let k = 0; k < seq.length; k++) {
            const arrival = time;
            const dwell = k === 0 || k === seq.length - 1 ? 0 : 30;
            await stopTimes.row([
              tripId,
              hms(arrival),
              hms(arrival + dwell),
              boarding[seq[k]!]!.id,
              k + 1,
              k === seq.length - 1 ? 1 : 0,
              k === 0 ? 1 : 0,
            ]);
            time = arrival + dwell + hops[dir === 0 ? k : seq.length - 1 - k]!;
          }
          if (frequencyRoute)
            await frequencies.row([tripId, hms(5 * 3600), hms(25 * 3600), headway, service === "WD" ? 1 : 0]);
        }
      }
    }
  }

  for (const [name, w] of Object.entries({
    agency,
    feed_info: feedInfo,
    stops,
    calendar,
    calendar_dates: dates,
    routes,
    trips,
    stop_times: stopTimes,
    shapes,
    frequencies,
  })) {
    await w.close();
    rows[name] = w.rows;
  }
  return { dir: outDir, rows };
}

/** Zips a generated folder (small feeds; the benchmark reads folders). */
export function zipFolder(dir: string, zipPath: string): void {
  const files: Record<string, Uint8Array> = {};
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".txt"))) files[name] = readFileSync(join(dir, name));
  writeFileSync(zipPath, zipSync(files));
}

function parseArgs(argv: string[]): { options: GeneratorOptions; out: string; zip: boolean } {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const size = get("--size") ?? "small";
  const base = SIZES[size];
  if (!base) throw new Error(`unknown --size ${size} (small, large)`);
  const num = (flag: string, fallback: number) => (get(flag) ? Number(get(flag)) : fallback);
  const options: GeneratorOptions = {
    routes: num("--routes", base.routes),
    trips: num("--trips", base.trips),
    stopsPerTrip: num("--stops-per-trip", base.stopsPerTrip),
    stops: num("--stops", base.stops),
    seed: num("--seed", base.seed),
  };
  return { options, out: resolve(get("--out") ?? `data/gtfs-synthetic-${size}`), zip: argv.includes("--zip") };
}

if (import.meta.main) {
  const { options, out, zip } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const feed = await generateFeed(out, options);
  if (zip) zipFolder(out, `${out}.zip`);
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`generated ${out}${zip ? ` (+ ${out}.zip)` : ""} in ${secs} s`);
  for (const [name, n] of Object.entries(feed.rows)) console.log(`  ${name.padEnd(16)} ${n}`);
}
