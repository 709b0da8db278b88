// semantic-release plugin used only by `npm run release:preview` (release.config.js adds it, right after the
// notes generator, when RELEASE_PREVIEW_FILE is set): records each release it is asked about, with its raw
// Markdown notes, as JSON lines. Besides the next release, semantic-release also generates notes for
// existing releases it adds to a channel, so the preview picks the entry for the announced next version.
import { appendFileSync } from "node:fs";

export function generateNotes(_pluginConfig, { nextRelease, lastRelease, branch, env }) {
  const file = env.RELEASE_PREVIEW_FILE;
  if (!file) return undefined;
  const preview = {
    version: nextRelease.version,
    gitTag: nextRelease.gitTag,
    channel: nextRelease.channel ?? null,
    type: nextRelease.type,
    branch: branch.name,
    branchType: branch.type,
    lastVersion: lastRelease?.version ?? null,
    notes: nextRelease.notes ?? "",
  };
  appendFileSync(file, `${JSON.stringify(preview)}\n`);
  return undefined;
}
