// Each GTFS file's module on strings, without a database: the load order its dependencies give, the
// COPY lines its rows become (as many fields as its table's COPY columns), and the rules it checks,
// each reported with its code, file, line and field. (test/gtfs/import.test.ts checks the same rules
// end to end through PostgreSQL.)
import { describe, expect, it } from "vitest";
import { checkRequiredFiles, FEED_FILES } from "../../src/modules/gtfs/import/files/all";
import type { TextFeedFile } from "../../src/modules/gtfs/import/files/feed-file";
import { FeedState } from "../../src/modules/gtfs/import/files/feed-state";
import { loadOrder } from "../../src/modules/gtfs/import/files/load-order";
import { IssueCollector } from "../../src/modules/gtfs/import/issues";
import { readTable } from "../../src/modules/gtfs/import/read/reader";

const file = (name: string) => FEED_FILES.find((f) => f.name === name) as TextFeedFile;

/** Reads `csv` as `name`'s file into `state` (which later files then see); returns its COPY lines and reports. */
async function read(name: string, csv: string, state: FeedState) {
  const f = file(name);
  const issues = new IssueCollector();
  const converter = f.rows({ state, issues });
  const lines: string[] = [];
  async function* chunks() {
    yield new TextEncoder().encode(csv);
  }
  for await (const { rows, lines: at } of readTable(chunks(), f.spec, issues))
    for (const [i, row] of rows.entries()) {
      const line = converter.convert(row, at[i]!);
      if (line !== undefined) lines.push(line);
    }
  converter.finish?.();
  const report = (i: { code: string; file: string; line?: number; field?: string; value?: string }) =>
    `${i.code} ${i.file}:${i.line} [${i.field}] ${i.value ?? ""}`.trim();
  return { lines, errors: issues.errors.map(report), warnings: issues.warnings.map(report) };
}

/** A state with the ids of a small valid feed: agency A, stops s1 s2 (station st), route R, service WK, trip T. */
async function feedState(files: string[] = ["shapes.txt"]) {
  const state = new FeedState(new Set(files));
  await read(
    "agency",
    "agency_id,agency_name,agency_url,agency_timezone\nA,Transit,https://a.example,Europe/Zurich\n",
    state,
  );
  await read(
    "stops",
    "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\nst,Station,47.1,8.1,1,\ns1,One,47.2,8.2,0,st\ns2,Two,47.3,8.3,,\n",
    state,
  );
  await read("routes", "route_id,agency_id,route_type\nR,A,3\n", state);
  await read(
    "calendar",
    "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nWK,1,1,1,1,1,0,0,20240101,20241231\n",
    state,
  );
  await read("shapes", "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\nSH,47.1,8.1,1\n", state);
  await read("trips", "route_id,service_id,trip_id,shape_id\nR,WK,T,SH\n", state);
  return state;
}

describe("load order", () => {
  it("loads every file after the files it depends on, stop_times as late as they allow", () => {
    const names = FEED_FILES.map((f) => f.name);
    for (const [i, f] of FEED_FILES.entries())
      for (const dep of f.dependsOn) expect(names.indexOf(dep), `${f.name} after ${dep}`).toBeLessThan(i);
    // The order the import has always used: the tables stop_times refers to are indexed while it loads.
    expect(names).toEqual([
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
    ]);
  });

  it("derives a valid order from any listing, and refuses cycles and unknown files", () => {
    const reversed = loadOrder([...FEED_FILES].reverse()).map((f) => f.name);
    for (const f of FEED_FILES)
      for (const dep of f.dependsOn) expect(reversed.indexOf(dep)).toBeLessThan(reversed.indexOf(f.name));
    expect(() =>
      loadOrder([
        { name: "a", dependsOn: ["b"] },
        { name: "b", dependsOn: ["a"] },
      ]),
    ).toThrow("feed files depend on each other in a cycle: a, b");
    expect(() => loadOrder([{ name: "a", dependsOn: ["levels"] }])).toThrow(
      "a depends on levels, which is not a feed file",
    );
  });
});

describe("feed files", () => {
  it("turn a row into a COPY line with one field per COPY column of their table", async () => {
    const state = await feedState();
    const samples: Record<string, string> = {
      feed_info: "feed_publisher_name,feed_publisher_url,feed_lang,feed_version\nP,https://p.example,en,v1\n",
      calendar_dates: "service_id,date,exception_type\nWK,20240704,2\n",
      frequencies: "trip_id,start_time,end_time,headway_secs\nT,06:00:00,09:00:00,600\n",
      transfers: "from_stop_id,to_stop_id,transfer_type\ns1,s2,2\n",
    };
    for (const f of FEED_FILES) {
      if (f.copy === "binary") continue;
      const csv =
        samples[f.name] ??
        {
          agency: "agency_id,agency_name,agency_url,agency_timezone\nB,Other,https://b.example,Europe/Zurich\n",
          stops: "stop_id,stop_name,stop_lat,stop_lon\ns9,Nine,47,8\n",
          routes: "route_id,agency_id,route_type\nR2,A,3\n",
          calendar:
            "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nSA,0,0,0,0,0,1,0,20240101,20241231\n",
          shapes: "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\nSH2,47,8,1\n",
          trips: "route_id,service_id,trip_id\nR,WK,T2\n",
        }[f.name]!;
      const { lines, errors } = await read(f.name, csv, state);
      expect(errors, f.name).toEqual([]);
      expect(lines, f.name).toHaveLength(1);
      expect(lines[0]!.trimEnd().split("\t"), f.name).toHaveLength(f.table.copyColumns.length);
    }
  });

  it("give stops and trips dense integer keys in file order, and derive a stop's search name and point", async () => {
    const state = await feedState();
    expect([...state.stops]).toEqual([
      ["st", 1],
      ["s1", 2],
      ["s2", 3],
    ]);
    expect(state.stopTypes).toEqual([0, 1, 0, 0]);
    const { lines } = await read("trips", "route_id,service_id,trip_id\nR,WK,T2\n", state);
    expect(lines[0]!.startsWith("2\t")).toBe(true);
    const stop = await read(
      "stops",
      "stop_id,stop_name,stop_lat,stop_lon\nz,Zürich Straße,60,10\n",
      new FeedState(new Set()),
    );
    expect(stop.lines[0]!.trimEnd().split("\t").slice(-2)).toEqual([
      "zurich strasse",
      `(${10 * Math.cos(Math.PI / 3)},60)`,
    ]);
  });

  it.each([
    [
      "agency",
      "duplicate_id agency.txt:2 [agency_id] A",
      "agency_id,agency_name,agency_url,agency_timezone\nA,Again,https://a.example,Europe/Zurich\n",
    ],
    ["stops", "duplicate_id stops.txt:2 [stop_id] s1", "stop_id,stop_name,stop_lat,stop_lon\ns1,Again,47,8\n"],
    ["stops", "conditionally_required stops.txt:2 [stop_lat]", "stop_id,stop_name,stop_lon\ns5,No latitude,8\n"],
    ["stops", "conditionally_required stops.txt:2 [parent_station]", "stop_id,stop_name,location_type\nn1,Node,3\n"],
    ["routes", "unknown_reference routes.txt:2 [agency_id] Z", "route_id,agency_id,route_type\nR9,Z,3\n"],
    ["routes", "duplicate_id routes.txt:2 [route_id] R", "route_id,route_type\nR,3\n"],
    [
      "calendar",
      "invalid_range calendar.txt:2 [end_date] 2024-01-01",
      "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nX,1,1,1,1,1,1,1,20240201,20240101\n",
    ],
    ["trips", "unknown_reference trips.txt:2 [route_id] Q", "route_id,service_id,trip_id\nQ,WK,T3\n"],
    ["trips", "unknown_reference trips.txt:2 [service_id] SUN", "route_id,service_id,trip_id\nR,SUN,T3\n"],
    ["trips", "duplicate_id trips.txt:2 [trip_id] T", "route_id,service_id,trip_id\nR,WK,T\n"],
    [
      "frequencies",
      "unknown_reference frequencies.txt:2 [trip_id] ghost",
      "trip_id,start_time,end_time,headway_secs\nghost,06:00:00,07:00:00,60\n",
    ],
    [
      "frequencies",
      "invalid_range frequencies.txt:2 [end_time] 25200",
      "trip_id,start_time,end_time,headway_secs\nT,07:00:00,07:00:00,60\n",
    ],
    [
      "transfers",
      "unknown_reference transfers.txt:2 [to_stop_id] s7",
      "from_stop_id,to_stop_id,transfer_type\ns1,s7,0\n",
    ],
    [
      "transfers",
      "unknown_reference transfers.txt:2 [to_route_id] R8",
      "from_route_id,to_route_id,transfer_type\nR,R8,0\n",
    ],
    [
      "transfers",
      "unknown_reference transfers.txt:2 [from_trip_id] T0",
      "from_trip_id,to_trip_id,transfer_type\nT0,T,0\n",
    ],
  ])("%s: refuses a row, reporting %s", async (name, error, csv) => {
    const { lines, errors } = await read(name, csv, await feedState());
    expect(errors).toEqual([error]);
    expect(lines).toEqual([]);
  });

  it("check parent stations once the whole file is in, where the parent may come after the child", async () => {
    const { lines, errors } = await read(
      "stops",
      "stop_id,stop_name,stop_lat,stop_lon,parent_station\np1,Platform,47,8,st\nst,Station,47,8,\np2,Platform,47,8,nowhere\n",
      new FeedState(new Set()),
    );
    expect(lines).toHaveLength(3);
    expect(errors).toEqual(["unknown_reference stops.txt:4 [parent_station] nowhere"]);
  });

  it("fill in a route's agency when the feed has one, and require it when it has several", async () => {
    const state = await feedState();
    expect((await read("routes", "route_id,route_type\nR2,3\n", state)).lines[0]!.split("\t")[1]).toBe("A");
    await read(
      "agency",
      "agency_id,agency_name,agency_url,agency_timezone\nB,Other,https://b.example,Europe/Zurich\n",
      state,
    );
    expect((await read("routes", "route_id,route_type\nR3,3\n", state)).errors).toEqual([
      "conditionally_required routes.txt:2 [agency_id]",
    ]);
  });

  it("warn once, naming its line, when one of several agencies has no agency_id, and load them all", async () => {
    const header = "agency_id,agency_name,agency_url,agency_timezone\n";
    const row = (id: string, name: string) => `${id},${name},https://${name}.example,Europe/Zurich\n`;
    const cases: [string, string[]][] = [
      [row("", "first") + row("B", "second") + row("C", "third"), ["agency_id_missing agency.txt:2 [agency_id]"]],
      [row("A", "first") + row("B", "second") + row("", "third"), ["agency_id_missing agency.txt:4 [agency_id]"]],
      [row("", "only"), []],
      // The second row repeats the first's (missing) id and is refused: the third is the second agency.
      [row("", "first") + row("", "again") + row("C", "third"), ["agency_id_missing agency.txt:2 [agency_id]"]],
      [row("A", "first") + row("B", "second"), []],
    ];
    for (const [csv, warnings] of cases) {
      const agency = await read("agency", header + csv, new FeedState(new Set()));
      const loaded = csv.split("\n").length - 1 - agency.errors.length;
      expect([agency.lines.length, agency.warnings], csv).toEqual([loaded, warnings]);
    }
  });

  it("warn, and load the row, for another agency time zone and an unknown shape", async () => {
    const state = await feedState();
    const agency = await read(
      "agency",
      "agency_id,agency_name,agency_url,agency_timezone\nB,Other,https://b.example,Europe/Berlin\n",
      state,
    );
    expect([agency.lines.length, agency.warnings]).toEqual([
      1,
      ["agency_timezones_differ agency.txt:2 [agency_timezone] Europe/Berlin"],
    ]);
    const trips = await read("trips", "route_id,service_id,trip_id,shape_id\nR,WK,T4,NOPE\n", state);
    expect([trips.lines.length, trips.warnings]).toEqual([1, ["unknown_shape_id trips.txt:2 [shape_id] NOPE"]]);
    // Without shapes.txt, shape_ids cannot be checked.
    const unchecked = await read("trips", "route_id,service_id,trip_id,shape_id\nR,WK,T4,NOPE\n", await feedState([]));
    expect(unchecked.warnings).toEqual([]);
  });

  it("require the required files, and calendar.txt or calendar_dates.txt", () => {
    const report = (present: string[]) => {
      const issues = new IssueCollector();
      checkRequiredFiles(new Set(present), issues);
      return issues.errors.map((i) => `${i.code} ${i.file}`);
    };
    const required = ["agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt"];
    expect(report([...required, "calendar_dates.txt"])).toEqual([]);
    expect(report(required.filter((f) => f !== "stops.txt").concat("calendar.txt"))).toEqual([
      "missing_file stops.txt",
    ]);
    expect(report(required)).toEqual(["missing_file calendar.txt"]);
  });
});
