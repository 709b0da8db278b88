// The `import --refresh` command: one line saying what happened ("unchanged: …" or, after the
// import's own summary, "refreshed: …"). Exit 0 either way; a failure throws with one line.
import type { Runtime } from "../../../runtime";
import type { ImportSummary } from "../import/importer";
import { refreshFeed } from "./refresh";

export async function runRefresh(
  runtime: Runtime,
  importFeed: (location: string) => Promise<ImportSummary | undefined>,
): Promise<undefined> {
  const result = await refreshFeed({
    database: runtime.database,
    url: runtime.config.gtfs.feed_url,
    headers: runtime.config.gtfs.feed_headers,
    async importFeed(location) {
      const summary = await importFeed(location);
      if (!summary) throw new Error("the import reported no feed version");
      return { feedId: summary.feedId };
    },
  });
  if (result.kind === "unchanged") process.stdout.write(`unchanged: ${result.reason}\n`);
  else
    process.stdout.write(
      `refreshed: now serving feed version ${result.feedId} (${result.bytes} bytes, sha256 ${result.sha256.slice(0, 12)})\n`,
    );
  return undefined;
}
