// `import <feed>`: loads a feed as a new version, switches to it, prints a summary. A progress bar on a
// terminal, plain lines otherwise (CI logs, Kubernetes Jobs).
import { databaseTarget } from "../../../config/load";
import { publicLocation } from "../../../lib/public-url";
import { endSpan } from "../../../observability/tracing";
import type { Runtime } from "../../../runtime";
import { runRefresh } from "../refresh/command";
import { rollbackFeed } from "./catalogue";
import { type ImportProgress, type ImportSummary, importFeed } from "./importer";
import { formatIssue } from "./issues";
import { pushImportRun, tracedProgress } from "./run-telemetry";

export const IMPORT_USAGE =
  "import <feed.zip|folder|http(s)://url> | import --rollback [version] | import --refresh (from GTFS_FEED_URL)";

export async function runImport(
  runtime: Runtime,
  args: string[],
  flags: ReadonlySet<string> = new Set(),
  out: NodeJS.WriteStream = process.stderr,
): Promise<ImportSummary | undefined> {
  const target = databaseTarget(runtime.config);
  const connectionString = target.kind === "postgres" ? target.url : undefined;
  // Scheduled refresh (src/modules/gtfs/refresh): downloads when changed, then imports through here.
  if (flags.has("--refresh")) return runRefresh(runtime, (location) => runImport(runtime, [location], new Set(), out));
  if (flags.has("--rollback")) {
    const version = args[0] === undefined ? undefined : Number(args[0]);
    if (version !== undefined && !Number.isInteger(version)) throw new Error(`not a feed version: ${args[0]}`);
    const served = await rollbackFeed({ database: runtime.database, connectionString }, version);
    process.stdout.write(`now serving feed version ${served}\n`);
    return undefined;
  }
  const location = args[0];
  if (!location) throw new Error(`missing feed location\nusage: ${IMPORT_USAGE}`);
  const { tracing } = runtime;
  const started = performance.now();
  const root = tracing.startRoot("gtfs import", { "gtfs.source": publicLocation(location) });
  const traced = tracedProgress(tracing, root, out.isTTY ? ttyProgress(out) : lineProgress(out));
  const report = async (outcome: Parameters<typeof pushImportRun>[1]) => {
    const pushgateway = runtime.config.metrics.pushgateway;
    if (!pushgateway) return;
    const warning = await pushImportRun(
      { pushgateway, instance: runtime.config.metrics.instance ?? undefined },
      outcome,
    );
    if (warning) runtime.logger.warn(warning);
  };
  let summary: ImportSummary;
  try {
    const run = () =>
      importFeed({
        location,
        database: runtime.database,
        connectionString,
        keepVersions: runtime.config.gtfs.keep_versions,
        progress: traced.progress,
        sourceOptions: {
          onDownload: out.isTTY
            ? (bytes, total) => out.write(`\r\x1b[2Kdownloading ${mb(bytes)}${total ? ` of ${mb(total)}` : ""}`)
            : undefined,
        },
      });
    summary = await (root ? tracing.within(root, run) : run());
  } catch (err) {
    traced.close(err);
    endSpan(root, err);
    await report({ error: err, seconds: (performance.now() - started) / 1000 });
    throw err;
  }
  traced.close();
  root?.setAttribute("gtfs.feed_version", summary.feedId);
  endSpan(root);
  await report({ summary });
  process.stdout.write(formatSummary(summary));
  return summary;
}

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

function ttyProgress(out: NodeJS.WriteStream): ImportProgress {
  let size: number | undefined;
  let last = 0;
  return {
    fileStarted(_file, bytes) {
      size = bytes;
    },
    fileProgress(file, rows, bytesRead) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const width = 30;
      const frac = size ? Math.min(1, bytesRead / size) : 0;
      const bar = "█".repeat(Math.round(frac * width)).padEnd(width, "░");
      out.write(
        `\r\x1b[2K${file.padEnd(20)} ${bar} ${(frac * 100).toFixed(0).padStart(3)}%  ${rows.toLocaleString("en")} rows`,
      );
    },
    fileDone(file, rows, seconds) {
      out.write(`\r\x1b[2K${file.padEnd(20)} ${rows.toLocaleString("en")} rows in ${seconds.toFixed(2)} s\n`);
    },
    phase(name) {
      out.write(`${name}…\n`);
    },
  };
}

function lineProgress(out: NodeJS.WriteStream): ImportProgress {
  let last = Date.now();
  return {
    fileProgress(file, rows) {
      const now = Date.now();
      if (now - last < 5000) return; // a line every 5 s on long files
      last = now;
      out.write(`${file}: ${rows} rows so far\n`);
    },
    fileDone(file, rows, seconds) {
      out.write(`${file}: ${rows} rows in ${seconds.toFixed(2)} s\n`);
    },
    phase(name) {
      out.write(`${name}\n`);
    },
  };
}

export function formatSummary(s: ImportSummary): string {
  const rate = (rows: number, secs: number) => (secs > 0 ? Math.round(rows / secs).toLocaleString("en") : "-");
  const lines = [
    `imported feed version ${s.feedId} (${s.schema}) from ${s.source}`,
    `${"file".padEnd(20)} ${"rows".padStart(12)} ${"seconds".padStart(9)} ${"rows/s".padStart(12)}`,
  ];
  for (const f of s.files)
    lines.push(
      `${f.file.padEnd(20)} ${f.rows.toLocaleString("en").padStart(12)} ${f.seconds.toFixed(2).padStart(9)} ${rate(f.rows, f.seconds).padStart(12)}`,
    );
  for (const p of s.phases)
    lines.push(`${`(${p.name})`.padEnd(20)} ${"".padStart(12)} ${p.seconds.toFixed(2).padStart(9)}`);
  lines.push(
    `${"total".padEnd(20)} ${s.totalRows.toLocaleString("en").padStart(12)} ${s.seconds.toFixed(2).padStart(9)} ${rate(s.totalRows, s.seconds).padStart(12)}`,
  );
  if (s.pruned.length) lines.push(`pruned old versions: ${s.pruned.join(", ")}`);
  if (s.pruneError !== undefined)
    lines.push(`warning: old versions were not pruned (${s.pruneError}); the next import retries`);
  for (const w of s.warnings) {
    lines.push(`warning ${w.code} (${w.count}×): ${w.message}`);
    for (const e of w.examples.slice(0, 3)) lines.push(`  e.g. ${formatIssue(e)}`);
  }
  return `${lines.join("\n")}\n`;
}
