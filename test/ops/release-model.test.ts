// The release pipeline under GitHub's real scheduling rules: the repository's workflow files, read by GitHub's
// parser, replayed through a model of how GitHub runs them (test/ops/actions-model/github.ts, each rule cited
// there) for the event sequences that break pipelines in practice. The local rehearsal cannot show any of
// this: it has no concurrency groups and no approvals.
//
// Every sequence runs twice, because GitHub does not document whether a job takes its place in its
// concurrency group before or after its `if:` is evaluated; the workflows must be right either way.

import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/repo";
import { type JobState, type RunState, Simulator } from "./actions-model/github";
import {
  allInvariants,
  developReleased,
  mainUndisturbed,
  operatorRunsKept,
  releasedAndStaged,
} from "./actions-model/invariants";
import { loadWorkflows, type ModelWorkflow } from "./actions-model/workflows";
import { World } from "./actions-model/world";

const REPOSITORY = "acme/transportation-api";
let workflows: Map<string, ModelWorkflow>;

beforeAll(async () => {
  workflows = await loadWorkflows(REPO_ROOT);
});

function start(groupBeforeIf: boolean): { world: World; sim: Simulator } {
  const world = new World(REPOSITORY);
  world.seed();
  const sim = new Simulator(workflows, {
    repository: REPOSITORY,
    defaultBranch: "main",
    protectedEnvironments: ["production"],
    groupBeforeIf,
    behaviours: world.behaviours(),
  });
  world.attach(sim);
  return { world, sim };
}

/** A reviewer approves whatever waits for production, oldest first, until nothing is left to do. */
function approveEverything(sim: Simulator): void {
  for (let i = 0; i < 100; i++) {
    sim.runUntilIdle();
    const [oldest] = sim.waitingFor("production");
    if (oldest === undefined) return;
    sim.approve(oldest);
  }
  throw new Error("approvals never ended");
}

const ciRunOf = (sim: Simulator, sha: string): RunState =>
  sim.runs.find((r) => r.workflow.file === "ci.yml" && (r.github as { sha: string }).sha === sha)!;

const KEPT = { whileApprovalsWait: [], afterApprovals: [] };

const versionsIn = (world: World, environment: string) =>
  world.deployments(environment).map((d) => `${d.kind === "rollback" ? "rollback→" : ""}${d.version}`);

for (const groupBeforeIf of [false, true]) {
  describe(`release pipeline under GitHub's rules (concurrency group taken ${groupBeforeIf ? "before" : "after"} if:)`, () => {
    // Each sequence is judged twice: while production approvals still wait (nothing else may wait for them),
    // and once every approval was given.
    it("two quick merges to main: the second release carries both, through staging to production", () => {
      const { world, sim } = start(groupBeforeIf);
      world.commit("main", "feat");
      sim.advance(1);
      world.commit("main", "fix");
      sim.runUntilIdle();
      const whileApprovalsWait = releasedAndStaged(world, sim);
      approveEverything(sim);
      expect({ whileApprovalsWait, afterApprovals: allInvariants(world, sim) }).toEqual(KEPT);
      expect(world.live("production")).toBe(world.releases.at(-1)!.version);
    });

    it("a develop push with an open develop→main pull request: develop's release is not lost, main is not held up", () => {
      const { world, sim } = start(groupBeforeIf);
      world.branch("develop", world.head("main"));
      sim.runUntilIdle();
      world.openPullRequest(7, "develop", "main");
      sim.runUntilIdle();
      world.commit("develop", "feat");
      sim.advance(3);
      world.commit("main", "fix"); // a hotfix PR merged meanwhile: its staging deploy meets develop's
      sim.advance(2);
      world.commit("develop", "fix"); // CI for the push and for the pull request run side by side
      sim.runUntilIdle();
      const whileApprovalsWait = [
        ...developReleased(world, sim),
        ...releasedAndStaged(world, sim),
        ...mainUndisturbed(sim),
      ];
      world.merge("develop", "main");
      approveEverything(sim);
      expect({ whileApprovalsWait, afterApprovals: allInvariants(world, sim) }).toEqual(KEPT);
    });

    it("a failed CI run between two good ones, re-run and red again after the second: the second is released", () => {
      const { world, sim } = start(groupBeforeIf);
      world.commit("main", "feat");
      sim.advance(12);
      const red = world.commit("main", "fix", "failure");
      sim.advance(12);
      world.commit("main", "fix");
      sim.advance(1);
      sim.rerun(ciRunOf(sim, red)); // someone retries the red run; it finishes after the green one
      sim.runUntilIdle();
      const whileApprovalsWait = releasedAndStaged(world, sim);
      approveEverything(sim);
      expect({ whileApprovalsWait, afterApprovals: allInvariants(world, sim) }).toEqual(KEPT);
    });

    it("a production approval left waiting while two more main releases merge: they still release and reach staging", () => {
      const { world, sim } = start(groupBeforeIf);
      world.branch("develop", world.head("main"));
      world.commit("main", "feat");
      sim.runUntilIdle();
      expect(sim.waitingFor("production")).toHaveLength(1);
      world.commit("main", "fix");
      sim.runUntilIdle();
      world.openPullRequest(8, "main", "develop"); // the usual back-merge: its CI run is a pull request's, on main
      world.commit("main", "fix");
      sim.runUntilIdle();
      const whileApprovalsWait = releasedAndStaged(world, sim);
      approveEverything(sim);
      expect({ whileApprovalsWait, afterApprovals: allInvariants(world, sim) }).toEqual(KEPT);
      // The newest release superseded the middle one while it waited; production stayed in order.
      const [first, , third] = world.releases.slice(1).map((r) => r.version);
      expect(versionsIn(world, "production")).toEqual(["1.0.0", first, third]);
    });

    it("a staging rollback dispatched during a deploy waits its turn; the main deploy waiting there still goes out", () => {
      const { world, sim } = start(groupBeforeIf);
      world.branch("develop", world.head("main"));
      sim.runUntilIdle();
      world.commit("develop", "feat");
      sim.advance(1);
      world.commit("main", "feat");
      sim.advance(16); // develop's staging deploy runs, main's waits behind it
      const rollback = sim.dispatch("rollback.yml", { environment: "staging", revision: "", reason: "smoke test red" });
      sim.runUntilIdle();
      const whileApprovalsWait = [...releasedAndStaged(world, sim), ...operatorRunsKept(sim)];
      approveEverything(sim);
      expect({ whileApprovalsWait, afterApprovals: allInvariants(world, sim) }).toEqual(KEPT);
      expect(rollback.allJobs().map((j: JobState) => j.result)).toEqual(["success"]);
    });

    it("a hotfix release during a main release: promoted to production in its turn, main keeps its order", () => {
      const { world, sim } = start(groupBeforeIf);
      world.commit("main", "feat"); // 1.1.0: main has moved past 1.0.x, so hotfix/1.0.x may release
      approveEverything(sim);
      world.branch("hotfix/1.0.x", "root");
      world.commit("main", "feat");
      sim.runUntilIdle(); // main's release waits for its production approval
      world.commit("hotfix/1.0.x", "fix");
      sim.runUntilIdle();
      const hotfix = world.releases.find((r) => r.branch === "hotfix/1.0.x")!;
      expect(hotfix.version).toBe("1.0.1");
      const promote = sim.dispatch("promote.yml", { version: hotfix.version, environment: "production" });
      world.commit("main", "fix");
      sim.runUntilIdle();
      const whileApprovalsWait = releasedAndStaged(world, sim);
      approveEverything(sim);
      expect({ whileApprovalsWait, afterApprovals: allInvariants(world, sim) }).toEqual(KEPT);
      expect(promote.conclusion).toBe("success");
      expect(versionsIn(world, "production")).toContain("1.0.1");
    });
    it("deploys each branch's releases where the branch table says, and releases only main in the `release` environment", () => {
      const { world, sim } = start(groupBeforeIf);
      world.commit("main", "feat");
      approveEverything(sim);
      world.branch("develop", world.head("main"));
      world.branch("feature/login", world.head("main"));
      world.branch("hotfix/1.0.x", "root");
      world.commit("develop", "feat");
      world.commit("feature/login", "feat");
      world.commit("hotfix/1.0.x", "fix");
      approveEverything(sim);
      const where = (branch: string) => {
        const versions = world.releases
          .filter((r) => r.branch === branch && r.origin.label !== "seed")
          .map((r) => r.version);
        expect(versions, branch).toHaveLength(1);
        return ["staging", "production"].filter((env) =>
          world.deployments(env).some((d) => d.kind === "deploy" && versions.includes(d.version)),
        );
      };
      expect(where("main")).toEqual(["staging", "production"]);
      expect(where("develop")).toEqual(["staging"]);
      expect(where("feature/login")).toEqual([]);
      expect(where("hotfix/1.0.x")).toEqual([]);
      // RELEASE_TOKEN's environment: main's release job runs in `release`, no other branch's does.
      const releaseJobs = sim.runs
        .flatMap((r) => r.allJobs())
        .filter((j) => j.file === "release.yml" && j.def.id === "release" && j.result === "success");
      expect(Object.fromEntries(releaseJobs.map((j) => [j.origin.branch, j.environment ?? "(none)"]))).toEqual({
        main: "release",
        develop: "(none)",
        "feature/login": "(none)",
        "hotfix/1.0.x": "(none)",
      });
      expect([...world.images.keys()].sort()).toEqual(
        ["1.0.0", "1.0.1", "1.1.0", "1.2.0-beta.1", "1.2.0-login.1"].sort(),
      );
    });
  });
}
