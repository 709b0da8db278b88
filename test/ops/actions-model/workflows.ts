// The repository's workflow files as GitHub reads them: parsed and converted by @actions/workflow-parser
// (GitHub's own parser, as in `npm run lint:workflows`), reusable workflows called with `uses:` loaded
// into the calling job. Only what decides whether and when a job runs is kept: triggers, `needs`, `if`,
// `concurrency`, `environment`, and the inputs and outputs that carry values between jobs.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  convertWorkflowTemplate,
  isBoolean,
  isMapping,
  isString,
  NoOperationTraceWriter,
  parseWorkflow,
  type WorkflowTemplate,
} from "@actions/workflow-parser";
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";

type WorkflowJob = WorkflowTemplate["jobs"][number];
export type EventsConfig = WorkflowTemplate["events"];

export interface Concurrency {
  group: TemplateToken;
  cancelInProgress?: TemplateToken;
  /** `single` (the default): one pending entry per group; `max`: up to 100, in order. */
  queue: "single" | "max";
}

export interface ModelJob {
  id: string;
  needs: string[];
  /** The condition as GitHub evaluates it: the parser has already added the default `success() && (…)`. */
  if: string;
  concurrency?: Concurrency;
  /** The environment name (a literal or an expression). */
  environment?: TemplateToken;
  /** Declared output names (a job's values come from its steps, which the model does not run). */
  outputNames: string[];
  call?: ReusableCall;
}

export interface ReusableCall {
  file: string;
  inputs: Map<string, TemplateToken>;
  inputDefaults: Map<string, TemplateToken>;
  jobs: ModelJob[];
  /** Outputs of the called workflow: name → `value` expression over its `jobs` context. */
  outputs: Map<string, TemplateToken>;
}

export interface ModelWorkflow {
  file: string;
  name: string;
  on: EventsConfig;
  concurrency?: Concurrency;
  jobs: ModelJob[];
}

function mappingEntries(token: TemplateToken | undefined): Array<[string, TemplateToken]> {
  if (token === undefined || !isMapping(token)) return [];
  return [...token].map((pair) => [pair.key.assertString("key").value, pair.value]);
}

function concurrencyOf(token: TemplateToken | undefined, where: string): Concurrency | undefined {
  if (token === undefined) return undefined;
  if (!isMapping(token)) return { group: token, queue: "single" };
  const entries = new Map(mappingEntries(token));
  const group = entries.get("group");
  if (group === undefined) throw new Error(`${where}: concurrency without a group`);
  const queue = entries.get("queue");
  const queueMode = queue === undefined ? "single" : queue.assertString("queue").value;
  if (queueMode !== "single" && queueMode !== "max") throw new Error(`${where}: queue: ${queueMode}`);
  return { group, cancelInProgress: entries.get("cancel-in-progress"), queue: queueMode };
}

function environmentOf(token: TemplateToken | undefined): TemplateToken | undefined {
  if (token === undefined) return undefined;
  if (isMapping(token)) return new Map(mappingEntries(token)).get("name");
  return token;
}

function convertJobs(jobs: WorkflowJob[], file: string, readCalled: (ref: string) => ModelWorkflowParts): ModelJob[] {
  return jobs.map((job) => {
    const where = `${file}: jobs.${job.id.value}`;
    const model: ModelJob = {
      id: job.id.value,
      needs: (job.needs ?? []).map((n) => n.value),
      if: job.if.expression,
      concurrency: concurrencyOf(job.concurrency, where),
      outputNames: mappingEntries(job.outputs).map(([name]) => name),
    };
    if (job.type === "job") {
      model.environment = environmentOf(job.environment);
    } else {
      const called = readCalled(job.ref.value);
      if (called.concurrency !== undefined) {
        // GitHub documents job-level concurrency on the calling job; a called workflow's own top-level
        // group is not something the model knows how GitHub applies, so it refuses rather than guesses.
        throw new Error(`${called.file}: workflow-level concurrency in a reusable workflow is not modelled`);
      }
      model.call = {
        file: called.file,
        inputs: new Map(mappingEntries(job["input-values"])),
        inputDefaults: new Map(
          mappingEntries(job["input-definitions"]).flatMap(([name, spec]) => {
            const fallback = new Map(mappingEntries(spec)).get("default");
            return fallback === undefined ? [] : [[name, fallback] as [string, TemplateToken]];
          }),
        ),
        jobs: called.jobs,
        outputs: new Map(
          mappingEntries(job.outputs).flatMap(([name, spec]) => {
            const value = new Map(mappingEntries(spec)).get("value");
            return value === undefined ? [] : [[name, value] as [string, TemplateToken]];
          }),
        ),
      };
      model.outputNames = [...model.call.outputs.keys()];
    }
    return model;
  });
}

interface ModelWorkflowParts {
  file: string;
  concurrency?: Concurrency;
  jobs: ModelJob[];
}

async function convert(dir: string, file: string): Promise<ModelWorkflow> {
  const content = readFileSync(join(dir, file), "utf8");
  const parsed = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  if (!parsed.value) throw new Error(`${file}: ${parsed.context.errors.getErrors()[0]?.message}`);
  const provider = {
    getFileContent: async (ref: { path: string }) => {
      const path = ref.path.replace(/^\.\//, "");
      return { name: path, content: readFileSync(join(dir, "..", "..", path), "utf8") };
    },
  };
  const template = await convertWorkflowTemplate(parsed.context, parsed.value, provider, {
    fetchReusableWorkflowDepth: 1,
  });
  if (template.errors?.length) throw new Error(`${file}: ${template.errors.map((e) => e.Message).join("; ")}`);
  const root = new Map(mappingEntries(parsed.value));
  const nameToken = root.get("name");
  const readCalled = (ref: string): ModelWorkflowParts => {
    const calledFile = ref.replace(/^\.\/\.github\/workflows\//, "");
    const called = template.jobs.find((j) => j.type === "reusableWorkflowJob" && j.ref.value === ref);
    if (called === undefined || called.type !== "reusableWorkflowJob") throw new Error(`${ref}: not loaded`);
    const calledContent = readFileSync(join(dir, calledFile), "utf8");
    const calledRoot = parseWorkflow({ name: calledFile, content: calledContent }, new NoOperationTraceWriter());
    return {
      file: calledFile,
      concurrency: concurrencyOf(new Map(mappingEntries(calledRoot.value)).get("concurrency"), calledFile),
      jobs: convertJobs(called.jobs ?? [], calledFile, () => {
        throw new Error(`${calledFile}: nested reusable workflows are not modelled`);
      }),
    };
  };
  return {
    file,
    name: nameToken !== undefined && isString(nameToken) ? nameToken.value : file,
    on: template.events,
    concurrency: concurrencyOf(template.concurrency, file),
    jobs: convertJobs(template.jobs, file, readCalled),
  };
}

/** Every workflow in `<root>/.github/workflows`, keyed by file name. */
export async function loadWorkflows(root: string): Promise<Map<string, ModelWorkflow>> {
  const dir = join(root, ".github", "workflows");
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  return new Map(await Promise.all(files.map(async (f) => [f, await convert(dir, f)] as const)));
}

/** `cancel-in-progress` as written: absent = false. */
export function isLiteralFalse(token: TemplateToken | undefined): boolean {
  return token === undefined || (isBoolean(token) && !token.value);
}

/** The `if:` of each step of a job (by step id), as GitHub evaluates it (default `success() &&` added). */
export async function stepConditions(root: string, file: string, jobId: string): Promise<Map<string, string>> {
  const content = readFileSync(join(root, ".github", "workflows", file), "utf8");
  const parsed = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  const template = await convertWorkflowTemplate(parsed.context, parsed.value!);
  const job = template.jobs.find((j) => j.id.value === jobId);
  if (job === undefined || job.type !== "job") throw new Error(`${file}: no job ${jobId}`);
  return new Map(job.steps.map((step) => [step.id, step.if?.expression ?? "success()"]));
}
