// What the release pipeline promises, checked against a replayed history. Each check returns the broken
// promises as sentences (empty = kept), so a failing test says what went wrong and to which commit.
import type { Origin, Simulator } from "./github";
import { compareVersions, isStable, type World } from "./world";

const isMain = (o: Origin) => o.event === "push" && o.branch === "main";
/** Work that must never cancel or hold up main: develop, feature branches, any pull request. */
const isOtherWork = (o: Origin) =>
  o.event === "pull_request" || (o.event === "push" && (o.branch === "develop" || o.branch.startsWith("feature/")));

/** Commits of `branch` whose push CI run concluded `success`. */
function greenCommits(sim: Simulator, branch: string): string[] {
  return sim.runs
    .filter((r) => r.workflow.file === "ci.yml" && r.origin.event === "push" && r.origin.branch === branch)
    .filter((r) => r.conclusion === "success")
    .map((r) => String((r.github as { sha: string }).sha));
}

const mainReleases = (world: World) => world.releases.filter((r) => r.branch === "main" && r.origin.label !== "seed");

/** Every green main commit is in a release, and every main release reached staging. */
export function releasedAndStaged(world: World, sim: Simulator): string[] {
  const problems: string[] = [];
  const releases = mainReleases(world);
  for (const sha of greenCommits(sim, "main")) {
    if (!releases.some((r) => world.ancestors(r.commit).has(sha))) {
      problems.push(`main commit ${sha} passed CI but is in no release`);
    }
  }
  const staged = new Set(
    world
      .deployments("staging")
      .filter((d) => d.kind === "deploy")
      .map((d) => d.version),
  );
  for (const r of releases)
    if (!staged.has(r.version)) problems.push(`main release ${r.version} never reached staging`);
  return problems;
}

/**
 * develop's head, once green, is released (unless an earlier release already contains it) and that
 * prerelease reached staging (docs/pipeline.md, branch table).
 */
export function developReleased(world: World, sim: Simulator): string[] {
  const head = world.branches.get("develop");
  if (head === undefined || !greenCommits(sim, "develop").includes(head)) return [];
  const release = world.releases.find((r) => world.ancestors(r.commit).has(head));
  if (release === undefined) return [`develop's head ${head} passed CI but was not released`];
  if (release.branch !== "develop") return [];
  const staged = world.deployments("staging").some((d) => d.kind === "deploy" && d.version === release.version);
  return staged ? [] : [`develop release ${release.version} never reached staging`];
}

/** Production gets main's releases in order, each one or a later one (after every approval was given). */
export function productionInOrder(world: World): string[] {
  const problems: string[] = [];
  const releases = mainReleases(world);
  const deployed = world
    .deployments("production")
    .filter((d) => d.kind === "deploy" && isStable(d.version) && releases.some((r) => r.version === d.version));
  for (let i = 1; i < deployed.length; i++) {
    if (compareVersions(deployed[i]!.version, deployed[i - 1]!.version) <= 0) {
      problems.push(`production went from ${deployed[i - 1]!.version} back to ${deployed[i]!.version}`);
    }
  }
  for (const r of releases) {
    if (!deployed.some((d) => compareVersions(d.version, r.version) >= 0)) {
      problems.push(`main release ${r.version} never reached production, nor did a later one`);
    }
  }
  return problems;
}

/**
 * Nothing from develop, a feature branch or a pull request cancels main's runs or jobs, or holds a place
 * ahead of them. The one exception is physical: staging is one environment shared with develop, so main's
 * staging deploy may wait for the one develop deploy already running or queued there.
 */
export function mainUndisturbed(sim: Simulator): string[] {
  const problems: string[] = [];
  for (const entry of sim.trace) {
    if (!isMain(entry.origin)) continue;
    if (entry.what === "cancelled" && entry.by && isOtherWork(entry.by.origin)) {
      problems.push(`${entry.label} was cancelled by ${entry.by.label} (group ${entry.group})`);
    }
    if (entry.what === "queued") {
      const others = (entry.ahead ?? []).filter((a) => isOtherWork(a.origin));
      const sharedStaging = entry.group === "deploy-staging" && others.length <= 1;
      if (others.length > 0 && !sharedStaging) {
        problems.push(`${entry.label} waited behind ${others.map((o) => o.label).join(", ")} (group ${entry.group})`);
      }
    }
  }
  return problems;
}

/** A rollback or promotion somebody asked for runs (it may wait its turn), or fails visibly; never vanishes. */
export function operatorRunsKept(sim: Simulator): string[] {
  return sim.runs
    .filter((r) => r.origin.event === "workflow_dispatch")
    .flatMap((r) =>
      r
        .allJobs()
        .filter((j) => j.result === "cancelled" || j.result === "skipped")
        .map((j) => `${j.label} was ${j.result} (group ${j.group ?? "none"})`),
    );
}

/**
 * A job that ends up skipped holds no group another run uses. If GitHub takes the group before evaluating
 * `if:`, a skipped job in a shared group would still cancel or delay whatever waits there; so every group
 * must be one only the runs that really need it can compute. (Nothing to check when `if:` comes first.)
 */
export function skippedJobsKeepToThemselves(sim: Simulator): string[] {
  const users = new Map<string, Set<number>>();
  const jobs = sim.runs.flatMap((r) => r.allJobs());
  for (const job of jobs) {
    if (job.group !== undefined) users.set(job.group, (users.get(job.group) ?? new Set()).add(job.run.id));
  }
  return jobs
    .filter((j) => j.result === "skipped" && j.group !== undefined && users.get(j.group)!.size > 1)
    .map((j) => `${j.label} was skipped, but took a place in group ${j.group}, which other runs use`);
}

/** Every check that must hold once the history has played out and every approval was given. */
export function allInvariants(world: World, sim: Simulator): string[] {
  return [
    ...releasedAndStaged(world, sim),
    ...developReleased(world, sim),
    ...productionInOrder(world),
    ...mainUndisturbed(sim),
    ...operatorRunsKept(sim),
    ...skippedJobsKeepToThemselves(sim),
  ];
}
