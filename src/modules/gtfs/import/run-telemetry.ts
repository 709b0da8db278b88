// What an import run tells the monitoring about itself: a trace (a root span, a span per file loaded
// and per phase), and its outcome pushed to a Prometheus Pushgateway.
//
// Why push: imports run as Kubernetes Jobs whose pod is gone before the next scrape, so there is
// nothing to scrape. Prometheus documents the Pushgateway for exactly this (a service-level batch
// job's last outcome). A node_exporter textfile needs a hostPath on whichever node ran the pod, which
// the namespace's restricted Pod Security profile forbids and which no scrape ties to the Job; turning
// log lines into metrics needs a log pipeline this deployment does not assume. The served feed itself
// (version, import time, rows per file) is reported by every API replica from the database
// (feed-metrics.ts), so the push only adds what the database does not hold: runs that failed, and how
// long runs take. Pushed with POST, which replaces only the metrics it names: a failed run leaves the
// last success's timestamp in place, so "no successful import for N hours" stays answerable.
import { Gauge, Pushgateway, Registry } from "prom-client";
import type { Span, Tracing } from "../../../observability/tracing";
import { endSpan } from "../../../observability/tracing";
import type { ImportProgress, ImportSummary } from "./importer";

export const PUSH_JOB = "transportation-import";

export interface TracedProgress {
  progress: ImportProgress;
  /** Ends what is still open (the last phase) once the import finished or failed. */
  close(err?: unknown): void;
}

/** Spans for the files and phases the importer reports through its progress hooks, below `root`. */
export function tracedProgress(tracing: Tracing, root: Span | undefined, inner?: ImportProgress): TracedProgress {
  if (!root) return { progress: inner ?? {}, close() {} };
  const files = new Map<string, Span>();
  let phase: Span | undefined;
  const child = (name: string, attributes: Record<string, string | number> = {}) =>
    tracing.within(root, () => tracing.startChild(name, attributes));
  const progress: ImportProgress = {
    fileStarted(file, bytes) {
      inner?.fileStarted?.(file, bytes);
      const span = child(`load ${file}`, {
        "gtfs.file": file,
        ...(bytes === undefined ? {} : { "gtfs.bytes": bytes }),
      });
      if (span) files.set(file, span);
    },
    fileProgress: inner?.fileProgress?.bind(inner),
    fileDone(file, rows, seconds) {
      inner?.fileDone?.(file, rows, seconds);
      const span = files.get(file);
      span?.setAttribute("gtfs.rows", rows);
      endSpan(span);
      files.delete(file);
    },
    phase(name) {
      inner?.phase?.(name);
      endSpan(phase);
      phase = child(name);
    },
  };
  return {
    progress,
    close(err) {
      endSpan(phase, err);
      phase = undefined;
      for (const span of files.values()) endSpan(span, err);
      files.clear();
    },
  };
}

export interface RunReport {
  pushgateway: string;
  /** Label of the run's group on the Pushgateway (e.g. the environment); the job is always PUSH_JOB. */
  instance?: string;
}

/** Pushes the run's outcome; resolves with a warning to print when the Pushgateway could not take it. */
export async function pushImportRun(
  report: RunReport,
  outcome: { summary: ImportSummary } | { error: unknown; seconds: number },
  now = Date.now(),
): Promise<string | undefined> {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const ok = "summary" in outcome;
  gauge("gtfs_import_last_run_timestamp_seconds", "When the last import run ended (Unix seconds)").set(now / 1000);
  gauge("gtfs_import_last_run_success", "1 when the last import run activated its feed, 0 when it failed").set(
    ok ? 1 : 0,
  );
  gauge("gtfs_import_last_run_duration_seconds", "How long the last import run took").set(
    ok ? outcome.summary.seconds : outcome.seconds,
  );
  if (ok) {
    const s = outcome.summary;
    gauge("gtfs_import_last_success_timestamp_seconds", "When an import run last activated a feed (Unix seconds)").set(
      now / 1000,
    );
    gauge("gtfs_import_last_success_feed_version", "Feed version the last successful import activated").set(s.feedId);
    const rows = gauge("gtfs_import_last_success_rows", "Rows per file loaded by the last successful import", ["file"]);
    for (const f of s.files) rows.labels(f.file).set(f.rows);
  }
  const gateway = new Pushgateway(report.pushgateway, { timeout: 5000 }, registry);
  try {
    await gateway.pushAdd({
      jobName: PUSH_JOB,
      ...(report.instance ? { groupings: { instance: report.instance } } : {}),
    });
    return undefined;
  } catch (err) {
    // The URL's origin only: credentials in it stay out of the log.
    const where = URL.canParse(report.pushgateway) ? new URL(report.pushgateway).origin : "the Pushgateway";
    return `the import's metrics were not pushed to ${where}: ${(err as Error).message}`;
  }
}
