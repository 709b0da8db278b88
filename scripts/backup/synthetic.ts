// A deterministic transit-shaped data set made inside PostgreSQL with generate_series: routes, stops
// (serial key) and stop_times with a foreign key and an index. Used by the backup benchmark and the
// deploy tests; same row count → same rows.
import pg from "pg";

export async function loadSyntheticTransitData(url: string, stopTimes: number): Promise<void> {
  if (!Number.isInteger(stopTimes) || stopTimes < 1) throw new Error(`stop_times rows must be a positive integer`);
  const stops = Math.max(100, Math.floor(stopTimes / 40));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      create table routes (route_id text primary key, route_short_name text not null, route_type int not null);
      create table stops (stop_id serial primary key, stop_name text not null, stop_lat numeric(9,6), stop_lon numeric(9,6));
      create table stop_times (trip_id text not null, stop_sequence int not null,
        stop_id int not null references stops(stop_id), arrival_time interval, departure_time interval,
        primary key (trip_id, stop_sequence));
      create index stop_times_stop on stop_times(stop_id);`);
    await client.query(
      "insert into routes select 'R' || g, (g % 90)::text, g % 4 from generate_series(1, greatest(10, $1::int / 500)) g",
      [stopTimes],
    );
    await client.query(
      `insert into stops (stop_name, stop_lat, stop_lon)
         select 'Stop ' || g || ' ' || md5(g::text), 40 + g / 100000.0, -73 - g / 100000.0
         from generate_series(1, $1::int) g`,
      [stops],
    );
    await client.query(
      `insert into stop_times
         select 'T' || (g / 25), g % 25, 1 + (g * 7) % $2::int,
           make_interval(secs => 18000 + (g % 2000) * 30), make_interval(secs => 18030 + (g % 2000) * 30)
         from generate_series(0, $1::int - 1) g`,
      [stopTimes, stops],
    );
    await client.query("analyze");
  } finally {
    await client.end();
  }
}
