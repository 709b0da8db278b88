// A model of how GitHub Actions schedules workflow runs and jobs, for replaying event sequences against the
// repository's real workflow files. GitHub cannot run here, so this is a fake at that boundary; every rule
// it applies is GitHub's documented behaviour, cited where it is applied. What a job does inside (release,
// build, deploy) is not GitHub's business and comes from the caller as a Behaviour.
//
// Sources (docs.github.com, read 2026-09):
// [concurrency] https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/control-workflow-concurrency
// [queue]       https://github.blog/changelog/2026-05-07-github-actions-concurrency-groups-now-allow-larger-queues
// [needs]       https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idneeds
// [if]          https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idif
// [status]      https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#status-check-functions
// [cancel]      https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-cancellation
// [reviews]     https://docs.github.com/en/actions/how-tos/deploy/configure-and-manage-deployments/review-deployments
// [events]      https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows
// [reusable]    https://docs.github.com/en/actions/how-tos/reuse-automations/reuse-workflows#supported-keywords-for-jobs-that-call-a-reusable-workflow
// [filters]     https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#filter-pattern-cheat-sheet
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";
import {
  asString,
  type Contexts,
  evaluate,
  isTruthy,
  type Json,
  type StatusFunctions,
  tokenValue,
} from "./expressions";
import type { Concurrency, ModelJob, ModelWorkflow } from "./workflows";

export type JobResult = "success" | "failure" | "cancelled" | "skipped";

/** Where a chain of runs started: a push or pull request (workflow_run runs inherit it), or a person. */
export interface Origin {
  event: "push" | "pull_request" | "workflow_dispatch";
  branch: string;
  /** Repository the head commit came from (pull requests from forks differ). */
  headRepository: string;
  label: string;
}

export interface JobContext {
  workflow: string;
  job: string;
  github: Json;
  inputs: Record<string, Json>;
  needs: Record<string, { result: JobResult; outputs: Record<string, string> }>;
  environment: string | undefined;
  origin: Origin;
  now: number;
}

export interface Finished {
  result: "success" | "failure";
  outputs?: Record<string, string>;
}

export interface JobWork {
  duration: number;
  /** Runs when the job ends (its side effects happen then), returning the job's result. */
  finish(): Finished;
}

/** What a job does: by `file#job`, `file#*`, or nothing (succeeds at once, no outputs). */
export type Behaviours = Record<string, (ctx: JobContext) => JobWork>;

export interface SimulatorOptions {
  repository: string;
  defaultBranch: string;
  /** Environments with required reviewers. */
  protectedEnvironments: string[];
  /**
   * GitHub's documentation does not say whether a job takes its place in its concurrency group before or
   * after its `if:` is evaluated. The model runs either way; a workflow is only correct if it is under both.
   */
  groupBeforeIf: boolean;
  behaviours: Behaviours;
}

type Holder = RunState | JobState;

export interface TraceEntry {
  at: number;
  what: "queued" | "cancelled" | "skipped" | "started" | "completed" | "waiting-approval";
  label: string;
  origin: Origin;
  group?: string;
  /** For `cancelled`: what cancelled it (by concurrency), if anything. */
  by?: { label: string; origin: Origin };
  /** For `queued`: who was ahead in the group. */
  ahead?: Array<{ label: string; origin: Origin; what: string }>;
  result?: string;
}

interface Group {
  name: string;
  mode: "single" | "max";
  running: Holder | null;
  pending: Holder[];
}

// [queue]: "support for up to 100 queued jobs or workflow runs per concurrency group".
const MAX_QUEUE = 100;

export class RunState {
  readonly kind = "run";
  status: "queued" | "in_progress" | "completed" = "queued";
  conclusion: "success" | "failure" | "cancelled" | undefined;
  cancelRequested = false;
  jobs: JobState[] = [];
  group: string | undefined;
  constructor(
    readonly id: number,
    readonly workflow: ModelWorkflow,
    readonly github: Json,
    readonly inputs: Record<string, Json>,
    readonly origin: Origin,
    readonly label: string,
  ) {}
  allJobs(): JobState[] {
    return this.jobs.flatMap((j) => [j, ...j.descendants()]);
  }
}

export class JobState {
  readonly kind = "job";
  status: "waiting" | "queued" | "waiting-approval" | "running" | "completed" = "waiting";
  result: JobResult | undefined;
  outputs: Record<string, string> = {};
  group: string | undefined;
  environment: string | undefined;
  endsAt = Number.POSITIVE_INFINITY;
  finish: JobWork["finish"] | undefined;
  children: JobState[] = [];
  constructor(
    readonly run: RunState,
    readonly def: ModelJob,
    readonly file: string,
    readonly scope: () => JobState[],
    readonly inputs: Record<string, Json>,
    readonly path: string,
  ) {}
  get origin(): Origin {
    return this.run.origin;
  }
  get label(): string {
    return `${this.run.label} › ${this.path}`;
  }
  descendants(): JobState[] {
    return this.children.flatMap((c) => [c, ...c.descendants()]);
  }
}

/** [filters]: `*` matches any character but `/`, `**` any character; names are matched whole. */
export function matchesFilter(name: string, patterns: string[] | undefined): boolean {
  if (patterns === undefined) return true;
  return patterns.some((pattern) => {
    const regex = pattern
      .split("**")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", "[^/]*"))
      .join(".*");
    return new RegExp(`^${regex}$`).test(name);
  });
}

export class Simulator {
  now = 0;
  readonly runs: RunState[] = [];
  readonly trace: TraceEntry[] = [];
  private readonly groups = new Map<string, Group>();
  private nextRunId = 1;

  constructor(
    private readonly workflows: Map<string, ModelWorkflow>,
    private readonly options: SimulatorOptions,
  ) {}

  // ── events ────────────────────────────────────────────────────────────────────────────────────

  /** A push to `branch`: every workflow with a matching `on.push` filter runs ([events] push). */
  push(branch: string, sha: string, before: string): RunState[] {
    const origin: Origin = { event: "push", branch, headRepository: this.options.repository, label: `push ${branch}` };
    return this.matching("push", (on) => matchesFilter(branch, on.branches)).map((wf) =>
      this.createRun(wf, this.githubContext("push", `refs/heads/${branch}`, sha, { before, after: sha }), {}, origin),
    );
  }

  /** A pull request opened or updated: `on.pull_request` filters apply to the base branch ([events]). */
  pullRequest(pr: { number: number; head: string; base: string; sha: string; headRepository?: string }): RunState[] {
    const headRepository = pr.headRepository ?? this.options.repository;
    const origin: Origin = {
      event: "pull_request",
      branch: pr.head,
      headRepository,
      label: `PR #${pr.number} ${pr.head}→${pr.base}`,
    };
    const event = {
      number: pr.number,
      pull_request: {
        number: pr.number,
        head: { ref: pr.head, sha: pr.sha, repo: { full_name: headRepository } },
        base: { ref: pr.base },
      },
    };
    return this.matching("pull_request", (on) => matchesFilter(pr.base, on.branches)).map((wf) =>
      this.createRun(
        wf,
        { ...this.githubContext("pull_request", `refs/pull/${pr.number}/merge`, pr.sha, event), head_ref: pr.head },
        {},
        origin,
      ),
    );
  }

  /** A person runs a workflow_dispatch workflow from the default branch. */
  dispatch(file: string, inputs: Record<string, string>): RunState {
    const wf = this.workflow(file);
    if (wf.on.workflow_dispatch === undefined) throw new Error(`${file} has no workflow_dispatch trigger`);
    const origin: Origin = {
      event: "workflow_dispatch",
      branch: this.options.defaultBranch,
      headRepository: this.options.repository,
      label: `dispatch ${file}`,
    };
    const ref = `refs/heads/${this.options.defaultBranch}`;
    return this.createRun(wf, this.githubContext("workflow_dispatch", ref, "default-head", { inputs }), inputs, origin);
  }

  /**
   * "Re-run all jobs" of a finished run: the same event, commit and ref again
   * (https://docs.github.com/en/actions/how-tos/manage-workflow-runs/re-run-workflows-and-jobs: "Re-running a
   * workflow or jobs in a workflow uses the same GITHUB_SHA (commit SHA) and GITHUB_REF (Git ref) of the
   * original event"); it is a new attempt that takes its place in concurrency groups and, once completed,
   * triggers workflow_run again.
   */
  rerun(run: RunState): RunState {
    if (run.status !== "completed") throw new Error(`${run.label} has not finished`);
    const origin = { ...run.origin, label: `${run.origin.label}, re-run` };
    const github = { ...(run.github as Record<string, Json>) };
    return this.createRun(run.workflow, github, run.inputs, origin);
  }

  /** Jobs waiting for a reviewer of `environment` ([reviews]: status "Waiting"). */
  waitingFor(environment: string): JobState[] {
    return this.runs
      .flatMap((r) => r.allJobs())
      .filter((j) => j.status === "waiting-approval" && j.environment === environment);
  }

  /** A reviewer approves: the job proceeds ([reviews]). */
  approve(job: JobState): void {
    if (job.status !== "waiting-approval") throw new Error(`${job.label} is not waiting for approval`);
    this.begin(job);
    this.settle();
  }

  /** A reviewer rejects: "If a job is rejected, the workflow will fail" ([reviews]). */
  reject(job: JobState): void {
    if (job.status !== "waiting-approval") throw new Error(`${job.label} is not waiting for approval`);
    this.complete(job, "failure");
    this.settle();
  }

  /** Lets `duration` pass, ending jobs in the order they finish. */
  advance(duration: number): void {
    const until = this.now + duration;
    this.settle();
    for (;;) {
      const next = this.runs
        .flatMap((r) => r.allJobs())
        .filter((j) => j.status === "running" && j.finish !== undefined && j.endsAt <= until)
        .sort((a, b) => a.endsAt - b.endsAt || a.run.id - b.run.id)[0];
      if (next === undefined) break;
      this.now = next.endsAt;
      const finish = next.finish!;
      next.finish = undefined;
      const { result, outputs = {} } = finish();
      for (const name of Object.keys(outputs)) {
        if (!next.def.outputNames.includes(name)) throw new Error(`${next.label}: no output named ${name} declared`);
      }
      next.outputs = outputs;
      this.complete(next, result);
      this.settle();
    }
    this.now = until;
  }

  /** Runs until nothing is left but jobs waiting for a reviewer (and what queues behind them). */
  runUntilIdle(): void {
    for (let i = 0; i < 10_000; i++) {
      const running = this.runs.flatMap((r) => r.allJobs()).filter((j) => j.finish !== undefined);
      if (running.length === 0) return;
      this.advance(Math.max(1, Math.min(...running.map((j) => j.endsAt)) - this.now));
    }
    throw new Error("the model did not come to rest");
  }

  // ── runs ──────────────────────────────────────────────────────────────────────────────────────

  private workflow(file: string): ModelWorkflow {
    const wf = this.workflows.get(file);
    if (wf === undefined) throw new Error(`no workflow ${file}`);
    return wf;
  }

  private matching(event: "push" | "pull_request", filter: (on: { branches?: string[] }) => boolean): ModelWorkflow[] {
    return [...this.workflows.values()].filter((wf) => {
      const on = wf.on[event] as { branches?: string[] } | undefined;
      return on !== undefined && filter(on);
    });
  }

  private githubContext(eventName: string, ref: string, sha: string, event: Json): Record<string, Json> {
    return {
      event_name: eventName,
      ref,
      ref_name: ref.replace(/^refs\/heads\//, ""),
      sha,
      repository: this.options.repository,
      repository_owner: this.options.repository.split("/")[0]!,
      event,
    };
  }

  private createRun(wf: ModelWorkflow, github: Record<string, Json>, inputs: Record<string, Json>, origin: Origin) {
    const id = this.nextRunId++;
    // A re-run keeps its run id and counts attempts; a new run gets the next id.
    const attempt = github.run_attempt === undefined ? 1 : Number(github.run_attempt) + 1;
    const context = {
      run_id: String(id),
      run_number: String(id),
      ...github,
      run_attempt: String(attempt),
      workflow: wf.name,
    };
    const run = new RunState(id, wf, context, inputs, origin, `${wf.name} #${id} (${origin.label})`);
    this.runs.push(run);
    run.jobs = this.instantiate(run, wf.jobs, wf.file, inputs, "", () => run.jobs);
    if (wf.concurrency) {
      // [concurrency] workflow level: the whole run is one member of the group, decided before any job.
      this.join(run, wf.concurrency, { github: context, inputs });
    } else {
      this.startRun(run);
    }
    this.settle();
    return run;
  }

  private instantiate(
    run: RunState,
    jobs: ModelJob[],
    file: string,
    inputs: Record<string, Json>,
    prefix: string,
    scope: () => JobState[],
  ): JobState[] {
    return jobs.map((def) => new JobState(run, def, file, scope, inputs, `${prefix}${def.id}`));
  }

  private startRun(run: RunState): void {
    run.status = "in_progress";
    this.record("started", run);
  }

  private completeRun(run: RunState): void {
    run.status = "completed";
    const results = run.jobs.map((j) => j.result);
    run.conclusion = run.cancelRequested
      ? "cancelled"
      : results.includes("failure")
        ? "failure"
        : results.includes("cancelled")
          ? "cancelled"
          : "success";
    this.record("completed", run, { result: run.conclusion });
    this.release(run);
    this.workflowRunCompleted(run);
  }

  /**
   * [events] workflow_run: "A workflow run is triggered regardless of the conclusion of the previous
   * workflow"; `branches` filters on the triggering run's head branch; the run uses the default branch
   * (GITHUB_REF = default branch, GITHUB_SHA = its last commit).
   */
  private workflowRunCompleted(done: RunState): void {
    const ctx = done.github as Record<string, Json>;
    const headBranch = ctx.event_name === "pull_request" ? String(ctx.head_ref) : String(ctx.ref_name);
    for (const wf of this.workflows.values()) {
      const on = wf.on.workflow_run;
      if (on === undefined || !(on.workflows ?? []).includes(done.workflow.name)) continue;
      if (on.types !== undefined && !on.types.includes("completed")) continue;
      if (!matchesFilter(headBranch, on.branches)) continue;
      const payload = {
        workflow_run: {
          name: done.workflow.name,
          conclusion: done.conclusion ?? null,
          event: String(ctx.event_name),
          head_branch: headBranch,
          head_sha: String(ctx.sha),
          head_repository: { full_name: done.origin.headRepository },
        },
      };
      const ref = `refs/heads/${this.options.defaultBranch}`;
      this.createRun(wf, this.githubContext("workflow_run", ref, "default-head", payload), {}, done.origin);
    }
  }

  private cancelRun(run: RunState, by: Holder | undefined): void {
    if (run.status === "completed") return;
    this.record("cancelled", run, { by });
    if (run.status === "queued") {
      this.removePending(run);
      run.cancelRequested = true;
      for (const job of run.allJobs()) {
        job.status = "completed";
        job.result = "cancelled";
      }
      this.completeRun(run);
      return;
    }
    // [cancel] "the server re-evaluates if conditions for all currently running jobs. If the condition
    // evaluates to true, the job will not get canceled"; jobs not yet started are judged with cancelled() = true.
    run.cancelRequested = true;
    for (const job of run.allJobs()) {
      if (job.status === "queued" || job.status === "waiting-approval" || job.status === "running") {
        if (!this.condition(job)) this.cancelJob(job, undefined);
      }
    }
  }

  // ── jobs ──────────────────────────────────────────────────────────────────────────────────────

  /** Repeats until no job can change state without time passing or a person acting. */
  settle(): void {
    for (let changed = true; changed; ) {
      changed = false;
      for (const run of this.runs.filter((r) => r.status === "in_progress")) {
        for (const job of run.allJobs()) {
          if (job.status === "waiting" && this.needsDone(job)) {
            this.ready(job);
            changed = true;
          } else if (job.status === "running" && job.def.call && job.children.every((c) => c.status === "completed")) {
            this.completeCaller(job);
            changed = true;
          }
        }
        if (run.jobs.every((j) => j.status === "completed")) {
          this.completeRun(run);
          changed = true;
        }
      }
    }
  }

  private siblings(job: JobState): Map<string, JobState> {
    return new Map(job.scope().map((j) => [j.def.id, j]));
  }

  private needsDone(job: JobState): boolean {
    const siblings = this.siblings(job);
    return job.def.needs.every((n) => siblings.get(n)?.status === "completed");
  }

  /** Every job this one depends on, directly or through others (within its workflow). */
  private ancestors(job: JobState): JobState[] {
    const siblings = this.siblings(job);
    const seen = new Map<string, JobState>();
    const visit = (j: JobState) => {
      for (const n of j.def.needs) {
        const dep = siblings.get(n);
        if (dep && !seen.has(n)) {
          seen.set(n, dep);
          visit(dep);
        }
      }
    };
    visit(job);
    return [...seen.values()];
  }

  private contexts(job: JobState): Contexts {
    const siblings = this.siblings(job);
    const needs: Record<string, Json> = {};
    for (const n of job.def.needs) {
      const dep = siblings.get(n)!;
      needs[n] = { result: dep.result ?? null, outputs: dep.outputs };
    }
    return { github: job.run.github, inputs: job.inputs, vars: {}, needs };
  }

  private status(job: JobState): StatusFunctions {
    const ancestors = this.ancestors(job);
    return {
      // [needs] "If a job fails or is skipped, all jobs that need it are skipped unless the jobs use a
      // conditional expression that causes the job to continue" — so success() asks every ancestor.
      success: ancestors.every((a) => a.result === "success"),
      failure: ancestors.some((a) => a.result === "failure"),
      cancelled: job.run.cancelRequested,
    };
  }

  /** [if] [status]: the parser has already added the default `success() &&` where no status function is used. */
  private condition(job: JobState): boolean {
    return isTruthy(tokenValueOf(job.def.if, this.contexts(job), this.status(job)));
  }

  private ready(job: JobState): void {
    const concurrency = job.def.concurrency;
    if (concurrency && this.options.groupBeforeIf) {
      this.join(job, concurrency, this.contexts(job));
      return;
    }
    if (!this.condition(job)) {
      this.complete(job, "skipped");
      return;
    }
    if (concurrency) this.join(job, concurrency, this.contexts(job));
    else this.acquired(job);
  }

  /** The job holds its group (or has none): what is left before it runs is its `if` and its environment. */
  private acquired(job: JobState): void {
    if (job.status === "completed") return;
    if (this.options.groupBeforeIf && job.def.concurrency && !this.condition(job)) {
      this.complete(job, "skipped");
      return;
    }
    job.environment = job.def.environment
      ? asString(tokenValueOf(job.def.environment, this.contexts(job))) || undefined
      : undefined;
    if (job.environment && this.options.protectedEnvironments.includes(job.environment)) {
      // [reviews] "Jobs that reference an environment configured with required reviewers will wait for an
      // approval before starting"; a job waiting this way has already taken its place in its concurrency
      // group and keeps it (the docs do not say so; it is what users report, e.g.
      // github.com/hypothesis/lms/pull/4533, github.com/elizaOS/eliza/issues/18092 — the cautious reading).
      job.status = "waiting-approval";
      this.record("waiting-approval", job);
      return;
    }
    this.begin(job);
  }

  private begin(job: JobState): void {
    job.status = "running";
    this.record("started", job);
    const call = job.def.call;
    if (call) {
      // [reusable] The called workflow's jobs run as part of the caller's run, with its inputs.
      const contexts = this.contexts(job);
      const inputs: Record<string, Json> = {};
      for (const [name, token] of call.inputDefaults) inputs[name] = asString(tokenValueOf(token, contexts));
      for (const [name, token] of call.inputs) inputs[name] = asString(tokenValueOf(token, contexts));
      job.children = this.instantiate(job.run, call.jobs, call.file, inputs, `${job.path}/`, () => job.children);
      return;
    }
    const key = `${job.file}#${job.def.id}`;
    const behaviour = this.options.behaviours[key] ?? this.options.behaviours[`${job.file}#*`];
    const contexts = this.contexts(job);
    const work: JobWork = behaviour
      ? behaviour({
          workflow: job.file,
          job: job.def.id,
          github: job.run.github,
          inputs: job.inputs,
          needs: (contexts.needs ?? {}) as JobContext["needs"],
          environment: job.environment,
          origin: job.origin,
          now: this.now,
        })
      : { duration: 1, finish: () => ({ result: "success" }) };
    job.endsAt = this.now + work.duration;
    job.finish = work.finish;
  }

  private completeCaller(job: JobState): void {
    const results = job.children.map((c) => c.result);
    const jobs: Record<string, Json> = {};
    for (const c of job.children) jobs[c.def.id] = { result: c.result ?? null, outputs: c.outputs };
    for (const [name, token] of job.def.call!.outputs) {
      job.outputs[name] = asString(tokenValueOf(token, { ...this.contexts(job), jobs }));
    }
    this.complete(
      job,
      results.includes("failure") ? "failure" : results.includes("cancelled") ? "cancelled" : "success",
    );
  }

  private cancelJob(job: JobState, by: Holder | undefined): void {
    if (job.status === "completed") return;
    this.record("cancelled", job, { by });
    for (const child of job.children) this.cancelJob(child, by);
    this.complete(job, "cancelled");
  }

  private complete(job: JobState, result: JobResult): void {
    if (job.status === "queued") this.removePending(job);
    job.status = "completed";
    job.result = result;
    job.finish = undefined;
    for (const child of job.children) {
      if (child.status !== "completed") this.cancelJob(child, undefined);
    }
    this.record(result === "skipped" ? "skipped" : "completed", job, { result });
    this.release(job);
  }

  // ── concurrency ───────────────────────────────────────────────────────────────────────────────

  /**
   * [concurrency] "there can be at most one running job or workflow in a concurrency group at any time";
   * a newcomer waits as `pending`; "By default, any existing pending job or workflow in the same concurrency
   * group will be canceled and the new queued job or workflow will take its place"; with `queue: max` "Up to
   * 100 jobs or workflow runs can be pending … When the queue is full, any additional jobs or workflow runs
   * are canceled" and [queue] they are processed "sequentially"; "Jobs or workflow runs in the same
   * concurrency group are processed in first-in, first-out order according to when they started waiting".
   * `cancel-in-progress: true` also cancels the running member. Group names are case-insensitive.
   */
  private join(holder: Holder, concurrency: Concurrency, contexts: Contexts): void {
    const name = asString(tokenValueOf(concurrency.group, contexts)).toLowerCase();
    const cancelInProgress =
      concurrency.cancelInProgress !== undefined && isTruthy(tokenValueOf(concurrency.cancelInProgress, contexts));
    if (concurrency.queue === "max" && cancelInProgress) {
      throw new Error(`${holder.label}: queue: max with cancel-in-progress: true is a validation error on GitHub`);
    }
    let group = this.groups.get(name);
    if (group === undefined) {
      group = { name, mode: concurrency.queue, running: null, pending: [] };
      this.groups.set(name, group);
    } else if (group.mode !== concurrency.queue) {
      // The docs describe each mode for a group, not a group whose members disagree.
      throw new Error(`group ${name}: members with queue: ${group.mode} and queue: ${concurrency.queue}`);
    }
    holder.group = name;
    if (cancelInProgress && group.running) this.cancelHolder(group.running, holder);
    if (group.running === null) {
      this.take(group, holder);
      return;
    }
    if (group.mode === "single") {
      for (const older of [...group.pending]) this.cancelHolder(older, holder);
    } else if (group.pending.length >= MAX_QUEUE) {
      this.cancelHolder(holder, undefined);
      return;
    }
    const ahead = [group.running, ...group.pending].map((h) => ({ label: h.label, origin: h.origin, what: h.status }));
    group.pending.push(holder);
    holder.status = "queued";
    this.record("queued", holder, { ahead });
  }

  private take(group: Group, holder: Holder): void {
    group.running = holder;
    if (holder.kind === "run") this.startRun(holder);
    else this.acquired(holder);
  }

  private release(holder: Holder): void {
    const group = holder.group === undefined ? undefined : this.groups.get(holder.group);
    if (group?.running !== holder) return;
    group.running = null;
    const next = group.pending.shift();
    if (next) this.take(group, next);
  }

  private removePending(holder: Holder): void {
    const group = holder.group === undefined ? undefined : this.groups.get(holder.group);
    if (group) group.pending = group.pending.filter((h) => h !== holder);
  }

  private cancelHolder(holder: Holder, by: Holder | undefined): void {
    if (holder.kind === "run") this.cancelRun(holder, by);
    else this.cancelJob(holder, by);
  }

  private record(
    what: TraceEntry["what"],
    holder: Holder,
    extra: { by?: Holder; ahead?: TraceEntry["ahead"]; result?: string } = {},
  ): void {
    this.trace.push({
      at: this.now,
      what,
      label: holder.label,
      origin: holder.origin,
      group: holder.group,
      by: extra.by ? { label: extra.by.label, origin: extra.by.origin } : undefined,
      ahead: extra.ahead,
      result: extra.result,
    });
  }
}

/** A job's `if` is kept as expression text; everything else as the parser's token. */
function tokenValueOf(token: TemplateToken | string, contexts: Contexts, status?: StatusFunctions) {
  return typeof token === "string" ? evaluate(token, contexts, status) : tokenValue(token, contexts, status);
}
