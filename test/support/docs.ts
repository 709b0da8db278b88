// The commands the documentation tells an operator to run, read from the Markdown itself, so tests run
// them as written: a doc that drifts from what works fails its test.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./repo";

/**
 * The fenced code blocks (of one info string, e.g. "bash") in the section under `heading` — the text of
 * a `#`-heading line without its hashes — up to the next heading of the same or a higher level.
 */
export function docBlocks(file: string, heading: string, lang = "bash"): string[] {
  const lines = readFileSync(join(REPO_ROOT, file), "utf8").split("\n");
  const start = lines.findIndex((l) => /^#+ /.test(l) && l.replace(/^#+ /, "").trim() === heading);
  if (start === -1) throw new Error(`${file}: no heading "${heading}"`);
  const level = /^#+/.exec(lines[start]!)![0].length;
  const blocks: string[] = [];
  let current: string[] | undefined;
  for (const line of lines.slice(start + 1)) {
    if (current === undefined) {
      const m = /^#+ /.exec(line);
      if (m && m[0].trim().length <= level) break;
      if (line.trim() === `\`\`\`${lang}`) current = [];
    } else if (line.trim() === "```") {
      blocks.push(current.join("\n"));
      current = undefined;
    } else current.push(line);
  }
  if (blocks.length === 0) throw new Error(`${file}: no \`\`\`${lang} block under "${heading}"`);
  return blocks;
}

/** Every fenced block of the file with its info string, for checks that apply to all of them. */
export function allDocBlocks(file: string): { lang: string; text: string }[] {
  const out: { lang: string; text: string }[] = [];
  let current: { lang: string; lines: string[] } | undefined;
  for (const line of readFileSync(join(REPO_ROOT, file), "utf8").split("\n")) {
    const fence = /^\s*```(\S*)\s*$/.exec(line);
    if (!current && fence) current = { lang: fence[1] ?? "", lines: [] };
    else if (current && fence && fence[1] === "") {
      out.push({ lang: current.lang, text: current.lines.join("\n") });
      current = undefined;
    } else current?.lines.push(line);
  }
  return out;
}
