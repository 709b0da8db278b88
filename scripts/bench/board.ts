// bench:http's board part: a cached departure board of about 17 kB (a station, 70 departures) from the
// running service, against its limit — Bun.serve alone answering the same bytes (bun-serve-answer.ts),
// the two side by side. One scenario per way a client asks: plain, with Accept-Encoding (gzip, br),
// and revalidating with If-None-Match; each one's reference answers what the service answered to it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateFeed } from "../gtfs/generate";
import { BUN, type Process, startServer, type Target, warm } from "./lib/side-by-side";

/** Dense enough that a station's day has well over 70 departures; small enough to import in seconds. */
const FEED = { routes: 12, trips: 20, stopsPerTrip: 20, stops: 100, seed: 1 };
const DEPARTURES = 70;

export interface Answer {
  status: number;
  headers: [string, string][];
  body: Buffer;
}

/** One request as a client sends it, with the raw bytes of the answer (no decompression). */
export function capture(url: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const kept: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i]!;
          if (!/^(date|content-length|transfer-encoding|connection|keep-alive)$/i.test(name))
            kept.push([name, res.rawHeaders[i + 1]!]);
        }
        resolve({ status: res.statusCode ?? 0, headers: kept, body: Buffer.concat(chunks) });
      });
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

export interface BoardScenario {
  name: string;
  service: Target;
  reference: Target;
  answer: Answer;
  /** For the plain board: Bun.serve doing only the work every answer needs (bun-serve-answer.ts). */
  required?: Target;
  /** The same, in a process holding the service's modules and as many bytes of live heap as it does. */
  requiredWithHeap?: Target & { heapBytes: number };
}

/**
 * Imports the benchmark feed into the running service's database and picks a station whose board has
 * 70 departures. Returns the scenarios the service supports (an encoding it does not apply, or an
 * If-None-Match it answers with 200, is left out and said so).
 */
export async function boardScenarios(
  service: Process,
  env: { databaseUrl: string; apiKey: string; serviceHeap?: () => Promise<number> },
): Promise<{ scenarios: BoardScenario[]; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), "tapi-bench-feed-"));
  const answerDir = mkdtempSync(join(tmpdir(), "tapi-bench-answers-"));
  const cleanup = () => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(answerDir, { recursive: true, force: true });
  };
  await generateFeed(dir, FEED);
  const imported = spawnSync(BUN, ["src/main.ts", "import", dir], {
    env: { ...process.env, DATABASE_URL: env.databaseUrl, LOG_LEVEL: "warn" },
    encoding: "utf8",
  });
  if (imported.status !== 0) throw new Error(`import failed:\n${imported.stdout}${imported.stderr}`);

  const base = `http://127.0.0.1:${service.port}`;
  const key = { "x-api-key": env.apiKey };
  // A weekday morning in the feed's validity, as an explicit instant: the same board, so cached.
  const at = encodeURIComponent("2025-03-04T06:00:00+01:00");
  let url: string | undefined;
  for (let i = 0; i < FEED.stops && !url; i += 10) {
    const candidate = `${base}/v1/stops/st${i}/departures?at=${at}&window=1440&limit=${DEPARTURES}`;
    const res = await fetch(candidate, { headers: key });
    if (res.ok && (await res.json()).data.departures.length === DEPARTURES) url = candidate;
  }
  if (!url) throw new Error(`no station of the benchmark feed has ${DEPARTURES} departures`);

  const plain = await capture(url, key);
  if (plain.status !== 200) throw new Error(`the board answered ${plain.status}: ${plain.body.toString()}`);
  const etag = plain.headers.find(([name]) => name.toLowerCase() === "etag")?.[1];
  const wanted: { name: string; headers: Record<string, string>; applies: (a: Answer) => boolean }[] = [
    { name: "board", headers: key, applies: () => true },
    {
      name: "board, Accept-Encoding: gzip",
      headers: { ...key, "accept-encoding": "gzip" },
      applies: (a) => a.headers.some(([n, v]) => n.toLowerCase() === "content-encoding" && v === "gzip"),
    },
    {
      name: "board, Accept-Encoding: br",
      headers: { ...key, "accept-encoding": "br" },
      applies: (a) => a.headers.some(([n, v]) => n.toLowerCase() === "content-encoding" && v === "br"),
    },
    {
      name: "board, If-None-Match (304)",
      headers: { ...key, "if-none-match": etag ?? '"none"' },
      applies: (a) => a.status === 304,
    },
  ];
  const scenarios: BoardScenario[] = [];
  for (const [i, w] of wanted.entries()) {
    const target: Target = { process: service, url, headers: w.headers };
    await warm(target);
    const answer = await capture(url, w.headers);
    if (!w.applies(answer)) {
      console.log(`(${w.name}: not measured, the service answered ${answer.status} without it)`);
      continue;
    }
    const file = join(answerDir, `${i}.json`);
    writeFileSync(
      file,
      JSON.stringify({ status: answer.status, headers: answer.headers, body: answer.body.toString("base64") }),
    );
    const ref = await startServer(`Bun.serve answering the ${w.name} bytes`, ["scripts/bench/bun-serve-answer.ts"], {
      ANSWER_FILE: file,
    });
    const reference: Target = { process: ref, url: `http://127.0.0.1:${ref.port}/`, headers: w.headers };
    await warm(reference);
    let required: Target | undefined;
    let requiredWithHeap: BoardScenario["requiredWithHeap"];
    if (i === 0) {
      const req = await startServer(
        "Bun.serve + key digest, request id, access line",
        ["scripts/bench/bun-serve-answer.ts"],
        {
          ANSWER_FILE: file,
          REQUIRED: "1",
        },
      );
      required = { process: req, url: `http://127.0.0.1:${req.port}/`, headers: w.headers };
      await warm(required);
      // The service's heap once it has served the board: what the limit's twin is given to hold.
      const heapBytes = await env.serviceHeap?.();
      if (heapBytes) {
        const heavy = await startServer(
          "Bun.serve + that work, with the service's modules and heap",
          ["scripts/bench/bun-serve-answer.ts"],
          { ANSWER_FILE: file, REQUIRED: "1", HEAP_BYTES: String(heapBytes) },
        );
        requiredWithHeap = { process: heavy, url: `http://127.0.0.1:${heavy.port}/`, headers: w.headers, heapBytes };
        await warm(requiredWithHeap);
      }
    }
    scenarios.push({ name: w.name, service: target, reference, answer, required, requiredWithHeap });
  }
  return { scenarios, cleanup };
}
