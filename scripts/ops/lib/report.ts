// Output for people and for the workflow: log groups, error annotations, step outputs and the job
// summary go through @actions/core inside GitHub Actions and become plain text on a laptop.
import * as core from "@actions/core";

export const inActions = (): boolean => process.env.GITHUB_ACTIONS === "true";

export function info(message: string): void {
  if (inActions()) core.info(message);
  else console.log(message);
}

export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (inActions()) return core.group(name, fn);
  console.log(`\n── ${name}`);
  return fn();
}

export function errorAnnotation(message: string, title: string): void {
  if (inActions()) core.error(message, { title });
  else console.error(`ERROR ${title}: ${message}`);
}

export function warning(message: string, title: string): void {
  if (inActions()) core.warning(message, { title });
  else console.error(`WARNING ${title}: ${message}`);
}

export function notice(message: string): void {
  if (inActions()) core.notice(message);
  else console.log(`NOTE ${message}`);
}

/** Keeps a value out of the workflow log (GitHub replaces it with ***). */
export function mask(value: string): void {
  if (inActions() && value.trim() !== "") core.setSecret(value);
}

export function setOutput(name: string, value: string | number | boolean): void {
  if (process.env.GITHUB_OUTPUT) core.setOutput(name, String(value));
  else console.log(`output ${name}=${value}`);
}

export interface Summary {
  title: string;
  /** Key facts as a two-column table (what, value). */
  facts: Array<[string, string]>;
  /** Free text sections: heading → preformatted body (e.g. rollout history). */
  sections?: Array<[string, string]>;
}

export function summaryMarkdown(summary: Summary): string {
  const esc = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");
  const lines = [`### ${summary.title}`, "", "| | |", "|---|---|"];
  for (const [k, v] of summary.facts) lines.push(`| ${esc(k)} | ${esc(v)} |`);
  for (const [heading, body] of summary.sections ?? []) {
    lines.push("", `**${heading}**`, "", "```", body.trimEnd(), "```");
  }
  return `${lines.join("\n")}\n`;
}

export async function writeSummary(summary: Summary): Promise<void> {
  const md = summaryMarkdown(summary);
  if (process.env.GITHUB_STEP_SUMMARY) {
    await core.summary.addRaw(md).write();
    return;
  }
  console.log(`\n── summary\n${summary.title}`);
  for (const [k, v] of summary.facts) console.log(`  ${k}: ${v}`);
}
