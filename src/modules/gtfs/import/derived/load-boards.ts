// Loads stop_departures, the departure boards' table: from the departures collected while stop_times
// streamed in (two binary COPY streams on two connections where there can be: the server's parsing of
// the arrays, not our writing, is the larger half of the work), or in SQL from stop_times when times
// were interpolated in the database, which the in-memory collection never saw.

import type { ImportConnections } from "../connections";
import { BinaryCopyWriter } from "../copy-binary";
import type { StopTimesFacts } from "../files/feed-state";
import type { FileSummary } from "../load-files";
import { buildStopDeparturesSql, STOP_DEPARTURES_COLUMNS } from "./board-table";

/** Listed in the summary like a file (not counted as rows read from the feed). */
export async function loadBoards(
  connections: ImportConnections,
  schema: string,
  stopTimes: StopTimesFacts,
): Promise<FileSummary> {
  const started = performance.now();
  const rows = await load(connections, schema, stopTimes);
  return { file: "(departure boards)", rows, seconds: (performance.now() - started) / 1000 };
}

/** Returns the rows stored. The collected departures are let go once loaded. */
async function load(connections: ImportConnections, schema: string, stopTimes: StopTimesFacts): Promise<number> {
  const main = connections.main;
  const board = stopTimes.board;
  if (!board) {
    await main.query(buildStopDeparturesSql(schema));
    const [count] = await main.query<{ n: string }>(`select count(*) as n from "${schema}".stop_departures`);
    return Number(count?.n ?? 0);
  }
  const extra = await connections.extra();
  try {
    const sinks = [main, ...(extra ? [extra] : [])].map((s) =>
      s.copy(`"${schema}".stop_departures`, STOP_DEPARTURES_COLUMNS, "binary"),
    );
    const writers = sinks.map(() => new BinaryCopyWriter());
    const send = async (finish = false) => {
      for (let k = 0; k < sinks.length; k++)
        for (const chunk of finish ? writers[k]!.finish() : writers[k]!.take()) await sinks[k]!.write(chunk);
    };
    for (const _ of board.writeTo(writers)) if (writers.some((w) => w.bufferedChunks)) await send();
    await send(true);
    let rows = 0;
    for (const sink of sinks) rows += await sink.end();
    stopTimes.board = undefined; // its memory is not needed any more
    return rows;
  } finally {
    await extra?.close();
  }
}
