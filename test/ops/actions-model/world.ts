// What the jobs of this repository's workflows do, reduced to what the pipeline's guarantees depend on: a
// git history with branches and tags, semantic-release's choice of version per branch (using the project's
// own branch model, scripts/release/branches.js), images by version, and what each environment ran when.
// The GitHub side (which job runs when) is the Simulator's; this is the repository and the cluster.
import { classifyBranch } from "../../../scripts/release/branches.js";
import type { Behaviours, Finished, JobContext, Origin, Simulator } from "./github";

export type ChangeType = "feat" | "fix" | "chore";

export interface Commit {
  sha: string;
  parents: string[];
  type: ChangeType | "release" | "merge";
}

export interface Release {
  version: string;
  branch: string;
  /** The commit CI tested. */
  tested: string;
  /** The commit the tag points at (main and maintenance lines: the release commit on top of `tested`). */
  commit: string;
  origin: Origin;
}

export interface Deployment {
  at: number;
  version: string;
  kind: "deploy" | "rollback";
  origin: Origin;
}

const IMAGE = "ghcr.io/acme/transportation-api";
export const DURATIONS = { ci: 10, release: 2, image: 3, deploy: 4, rollback: 2, resolve: 1 };

function parse(version: string): { core: number[]; pre: string | undefined; n: number } {
  const [core = "", pre] = version.split("-", 2);
  const parts = pre?.split(".");
  return { core: core.split(".").map(Number), pre: parts?.[0], n: Number(parts?.[1] ?? 0) };
}

/** Semver order for the versions this model makes (x.y.z and x.y.z-id.n). */
export function compareVersions(a: string, b: string): number {
  const [pa, pb] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) if (pa.core[i] !== pb.core[i]) return pa.core[i]! - pb.core[i]!;
  if (pa.pre === undefined || pb.pre === undefined)
    return (pa.pre === undefined ? 1 : 0) - (pb.pre === undefined ? 1 : 0);
  return pa.pre === pb.pre ? pa.n - pb.n : pa.pre < pb.pre ? -1 : 1;
}

export const isStable = (version: string): boolean => !version.includes("-");

export class World {
  readonly commits = new Map<string, Commit>();
  readonly branches = new Map<string, string>();
  readonly releases: Release[] = [];
  readonly images = new Map<string, string>();
  readonly environments = new Map<string, Deployment[]>([
    ["staging", []],
    ["production", []],
  ]);
  /** Commits whose CI fails. */
  readonly red = new Set<string>();
  /** Open pull requests: every push to `head` runs their `pull_request` workflows again. */
  readonly pullRequests: Array<{ number: number; head: string; base: string }> = [];
  private sim: Simulator | undefined;
  private count = 0;

  constructor(readonly repository: string) {}

  attach(sim: Simulator): void {
    this.sim = sim;
  }

  private get simulator(): Simulator {
    if (!this.sim) throw new Error("world not attached to a simulator");
    return this.sim;
  }

  private newCommit(parents: string[], type: Commit["type"], name?: string): string {
    this.count += 1;
    const sha = name ?? `c${this.count}`;
    this.commits.set(sha, { sha, parents, type });
    return sha;
  }

  /** The starting point: `main` with one release (1.0.0), live in both environments. */
  seed(): void {
    const sha = this.newCommit([], "feat", "root");
    this.branches.set("main", sha);
    const origin: Origin = { event: "push", branch: "main", headRepository: this.repository, label: "seed" };
    this.releases.push({ version: "1.0.0", branch: "main", tested: sha, commit: sha, origin });
    this.images.set("1.0.0", "sha256:1.0.0");
    for (const history of this.environments.values()) history.push({ at: 0, version: "1.0.0", kind: "deploy", origin });
  }

  head(branch: string): string {
    const sha = this.branches.get(branch);
    if (sha === undefined) throw new Error(`no branch ${branch}`);
    return sha;
  }

  /** A branch from a commit, pushed (which runs CI on it like any push). */
  branch(name: string, from: string): void {
    this.branches.set(name, from);
    this.simulator.push(name, from, "0000000000000000000000000000000000000000");
  }

  /** A commit on `branch`, pushed; `ci: "failure"` makes its CI fail. */
  commit(branch: string, type: ChangeType, ci: "success" | "failure" = "success"): string {
    const sha = this.newCommit([this.head(branch)], type);
    if (ci === "failure") this.red.add(sha);
    this.pushed(branch, sha);
    return sha;
  }

  /** Merges `from` into `into` (a merged pull request) and pushes. */
  merge(from: string, into: string): string {
    const sha = this.newCommit([this.head(into), this.head(from)], "merge");
    this.pushed(into, sha);
    return sha;
  }

  private pushed(branch: string, sha: string): void {
    const before = this.head(branch);
    this.branches.set(branch, sha);
    this.simulator.push(branch, sha, before);
    for (const pr of this.pullRequests.filter((p) => p.head === branch)) this.simulator.pullRequest({ ...pr, sha });
  }

  /** Opens a pull request from a branch of this repository. */
  openPullRequest(number: number, head: string, base: string): void {
    this.pullRequests.push({ number, head, base });
    this.simulator.pullRequest({ number, head, base, sha: this.head(head) });
  }

  /** A pull request from someone's fork, whose branch is named `head`; `ci: "failure"` makes its CI fail. */
  forkPullRequest(number: number, head: string, base: string, ci: "success" | "failure"): void {
    const sha = this.newCommit([this.head(base)], "fix");
    if (ci === "failure") this.red.add(sha);
    this.simulator.pullRequest({ number, head, base, sha, headRepository: `someone/${this.repository.split("/")[1]}` });
  }

  ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const stack = [sha];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(this.commits.get(next)?.parents ?? []));
    }
    return seen;
  }

  /**
   * semantic-release on `branch` at `head`: the changes since the last release reachable from there decide
   * the bump; main and maintenance lines release x.y.z with a release commit, develop and feature branches
   * x.y.z-<id>.n as a tag on the commit itself (docs/releasing.md, branch model).
   */
  private nextRelease(branch: string, head: string): { version: string; onCommit: boolean } | null {
    const info = classifyBranch(branch);
    const reachable = this.ancestors(head);
    const tagged = this.releases.filter((r) => reachable.has(r.commit));
    const stable = tagged.filter((r) => isStable(r.version)).sort((a, b) => compareVersions(a.version, b.version));
    const last = stable.at(-1);
    const lastChannel =
      info.kind === "prerelease" || info.kind === "feature"
        ? tagged
            .filter((r) => r.branch === branch)
            .sort((a, b) => compareVersions(a.version, b.version))
            .at(-1)
        : undefined;
    const base = lastChannel ?? last;
    const since = [...reachable].filter((sha) => !(base ? this.ancestors(base.commit) : new Set()).has(sha));
    const types = since.map((sha) => this.commits.get(sha)!.type);
    if (!types.includes("feat") && !types.includes("fix")) return null;
    const [major, minor, patch] = parse(last?.version ?? "0.0.0").core as [number, number, number];
    const sinceStable = [...reachable].filter((sha) => !(last ? this.ancestors(last.commit) : new Set()).has(sha));
    const feature = sinceStable.some((sha) => this.commits.get(sha)!.type === "feat");
    if (info.kind === "maintenance") return { version: `${major}.${minor}.${patch + 1}`, onCommit: false };
    const next = feature ? `${major}.${minor + 1}.0` : `${major}.${minor}.${patch + 1}`;
    if (info.kind === "release") return { version: next, onCommit: false };
    if (info.kind === "prerelease" || info.kind === "feature") {
      const id = info.prerelease;
      const n = this.releases.filter((r) => r.version.startsWith(`${next}-${id}.`)).length + 1;
      return { version: `${next}-${id}.${n}`, onCommit: true };
    }
    return null;
  }

  deployments(environment: string): Deployment[] {
    return this.environments.get(environment)!;
  }

  live(environment: string): string {
    return this.deployments(environment).at(-1)!.version;
  }

  /** What each job of the workflows does here, by `file#job`. */
  behaviours(): Behaviours {
    const workflowRun = (ctx: JobContext) =>
      (ctx.github as { event: { workflow_run: { head_branch: string; head_sha: string } } }).event.workflow_run;
    return {
      // ci.yml: every job takes as long; `unit` fails for a red commit (the tested commit is the PR head).
      "ci.yml#*": (ctx) => {
        const github = ctx.github as { sha: string; event: { pull_request?: { head: { sha: string } } } };
        const sha = github.event.pull_request?.head.sha ?? github.sha;
        return {
          duration: DURATIONS.ci,
          finish: () => ({ result: ctx.job === "unit" && this.red.has(sha) ? "failure" : "success" }),
        };
      },
      // release.yml#release: checks out the branch; releases only if it is still at the tested commit.
      "release.yml#release": (ctx) => {
        const { head_branch: branch, head_sha: tested } = workflowRun(ctx);
        const checkedOut = this.head(branch);
        return {
          duration: DURATIONS.release,
          finish: (): Finished => {
            if (checkedOut !== tested) return { result: "success", outputs: {} };
            const next = this.nextRelease(branch, tested);
            if (next === null) return { result: "success", outputs: {} };
            // The release commit is pushed on top of what was checked out; a branch that moved refuses it.
            if (this.head(branch) !== checkedOut) return { result: "failure", outputs: {} };
            const commit = next.onCommit ? tested : this.newCommit([tested], "release");
            this.branches.set(branch, commit);
            this.releases.push({ version: next.version, branch, tested, commit, origin: ctx.origin });
            return {
              result: "success",
              outputs: { released: "true", version: next.version, tag: `v${next.version}`, commit },
            };
          },
        };
      },
      "release.yml#image": (ctx) => {
        const version = String(ctx.needs.release?.outputs.version);
        return {
          duration: DURATIONS.image,
          finish: () => {
            this.images.set(version, `sha256:${version}`);
            return { result: "success", outputs: { image: IMAGE, digest: `sha256:${version}` } };
          },
        };
      },
      "deploy-environment.yml#deploy": (ctx) => ({
        duration: DURATIONS.deploy,
        finish: () => {
          const environment = String(ctx.inputs.environment);
          if (ctx.environment !== environment) throw new Error(`deploy to ${environment} ran in ${ctx.environment}`);
          const version = String(ctx.inputs.version);
          this.deployments(environment).push({ at: ctx.now, version, kind: "deploy", origin: ctx.origin });
          return { result: "success", outputs: { result: "deployed", revision: "1" } };
        },
      }),
      "rollback.yml#rollback": (ctx) => ({
        duration: DURATIONS.rollback,
        finish: () => {
          const history = this.deployments(String(ctx.inputs.environment));
          const previous = history.at(-2)?.version ?? history.at(-1)!.version;
          history.push({ at: ctx.now, version: previous, kind: "rollback", origin: ctx.origin });
          return { result: "success" };
        },
      }),
      "promote.yml#resolve": (ctx) => ({
        duration: DURATIONS.resolve,
        finish: () => {
          const digest = this.images.get(String(ctx.inputs.version));
          if (digest === undefined) return { result: "failure" };
          const release = this.releases.find((r) => r.version === ctx.inputs.version)!;
          return { result: "success", outputs: { image: IMAGE, digest, commit: release.commit } };
        },
      }),
    };
  }
}
