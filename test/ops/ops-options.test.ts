// How the ops commands read their options (flag, then workflow input, then default), and the texts
// they show for revisions and kubectl's failures: the parts of deploy, rollback and verify that decide
// without a cluster.
import { afterEach, describe, expect, it } from "vitest";
import { describeVerdict, revisionLabel, verdictTable } from "../../scripts/ops/lib/gate-verdict";
import { firstErrorLine, Kubectl, KubectlError } from "../../scripts/ops/lib/kubectl";
import {
  numberOption,
  type OptionSpec,
  parseFlags,
  readOptions,
  revisionOption,
  UsageError,
  usage,
} from "../../scripts/ops/lib/options";
import { type Revision, versionOfImage } from "../../scripts/ops/lib/rollout";

const specs: OptionSpec[] = [
  { name: "tag", description: "image tag to deploy", required: true },
  { name: "namespace", description: "Kubernetes namespace", default: "transportation-system" },
  { name: "port-forward", description: "reach the Service through port-forward", boolean: true },
  { name: "url", description: "base URL" },
];

const usageError = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error("no UsageError");
};

describe("ops command options", () => {
  // @actions/core reads a workflow input from INPUT_<NAME upper-cased, spaces as _> (actions/toolkit
  // packages/core/src/core.ts, getInput); a step sets them in `env:`.
  const inputs = ["INPUT_TAG", "INPUT_NAMESPACE", "INPUT_URL", "INPUT_PORT-FORWARD"];
  afterEach(() => {
    for (const name of inputs) delete process.env[name];
  });

  it("reads --name value, --name=value and a boolean flag without a value", () => {
    expect(parseFlags(["--tag", "1.2.3", "--url=http://x:1/a=b", "--port-forward"], specs)).toEqual({
      tag: "1.2.3",
      url: "http://x:1/a=b",
      "port-forward": "true",
    });
    expect(parseFlags(["--port-forward=false"], specs)).toEqual({ "port-forward": "false" });
    expect(parseFlags([], specs)).toEqual({});
  });

  it("refuses a bare argument, an unknown option and a value that is missing", () => {
    expect(usageError(() => parseFlags(["1.2.3"], specs))).toBe('unexpected argument "1.2.3"');
    expect(usageError(() => parseFlags(["--tag", "1", "--nope"], specs))).toBe("unknown option --nope");
    expect(usageError(() => parseFlags(["--nope=1"], specs))).toBe("unknown option --nope");
    expect(usageError(() => parseFlags(["--tag"], specs))).toBe("--tag needs a value");
  });

  it("takes the flag over the workflow input over the default, and an empty input as none", () => {
    expect(readOptions(["--tag", "1.0.0"], specs)).toEqual({
      tag: "1.0.0",
      namespace: "transportation-system",
      "port-forward": undefined,
      url: undefined,
    });
    process.env.INPUT_TAG = "2.0.0";
    process.env.INPUT_NAMESPACE = "staging";
    process.env.INPUT_URL = "";
    expect(readOptions([], specs)).toMatchObject({ tag: "2.0.0", namespace: "staging", url: undefined });
    expect(readOptions(["--tag=3.0.0", "--namespace", "prod"], specs)).toMatchObject({
      tag: "3.0.0",
      namespace: "prod",
    });
  });

  it("refuses a required option that is missing or empty, naming it and what it is for", () => {
    expect(usageError(() => readOptions([], specs))).toBe("missing --tag (image tag to deploy)");
    expect(usageError(() => readOptions(["--tag="], specs))).toBe("missing --tag (image tag to deploy)");
  });

  it("prints usage with each option's form, default or requirement", () => {
    expect(usage("deploy", "Deploy a release.", specs)).toBe(
      [
        "usage: bun scripts/ops/deploy.ts [options]",
        "",
        "Deploy a release.",
        "",
        `  ${"--tag <value>".padEnd(30)} image tag to deploy (required)`,
        `  ${"--namespace <value>".padEnd(30)} Kubernetes namespace (default: transportation-system)`,
        `  ${"--port-forward".padEnd(30)} reach the Service through port-forward`,
        `  ${"--url <value>".padEnd(30)} base URL`,
      ].join("\n"),
    );
  });

  it("reads non-negative numbers, and revision numbers as kubectl prints them", () => {
    expect(numberOption({ n: "2.5" }, "n")).toBe(2.5);
    expect(numberOption({ n: "0" }, "n")).toBe(0);
    for (const raw of [undefined, "", "-1", "x", "Infinity"])
      expect(usageError(() => numberOption({ n: raw }, "n"))).toBe(
        `--n must be a non-negative number, got "${raw ?? ""}"`,
      );
    expect(revisionOption({ r: "12" }, "r")).toBe(12);
    expect(revisionOption({ r: "120" }, "r")).toBe(120);
    expect(revisionOption({ r: "" }, "r")).toBeUndefined();
    expect(revisionOption({}, "r")).toBeUndefined();
    for (const raw of ["0", "01", "1.5", "3x", "x3", "-2"])
      expect(usageError(() => revisionOption({ r: raw }, "r"))).toBe(`--r must be a revision number, got "${raw}"`);
  });
});

const rev = (revision: number, verdict?: Revision["verdict"], note?: string, image?: string): Revision => ({
  revision,
  image,
  changeCause: undefined,
  replicaSet: `transportation-api-${revision}`,
  verdict,
  verdictNote: note,
});

describe("revisions as the ops commands show them", () => {
  it("describes a revision's gate verdict, with the note of a failure", () => {
    expect(describeVerdict(rev(1, "passed", "a note"))).toBe("passed its readiness gate");
    expect(describeVerdict(rev(1, "failed", "timed out"))).toBe("failed its readiness gate (timed out)");
    expect(describeVerdict(rev(1, "failed"))).toBe("failed its readiness gate");
    expect(describeVerdict(rev(1))).toBe("no readiness gate on record");
    expect(revisionLabel(rev(3, undefined, undefined, "img:1.0.0"))).toBe("revision 3 (img:1.0.0)");
    expect(revisionLabel(rev(3))).toBe("revision 3 (image unknown)");
  });

  it("tabulates revisions with their verdicts and marks the live one", () => {
    const table = verdictTable([rev(9, "passed", "", "img:1.0.0"), rev(10, "failed", "", "img:1.1.0"), rev(11)], 10);
    expect(table).toBe(
      [
        "REVISION  GATE     IMAGE",
        "9         passed   img:1.0.0",
        "10        failed   img:1.1.0  (live)",
        "11        -        ?",
      ].join("\n"),
    );
    expect(verdictTable([rev(123456789, "passed", "", "i")], undefined).split("\n")).toEqual([
      "REVISION   GATE     IMAGE",
      "123456789  passed   i",
    ]);
  });
});

describe("kubectl's answers", () => {
  it("scopes every call to the namespace, and to the context when one is given", () => {
    expect(new Kubectl({ namespace: "ns" }).scoped(["get", "pods"])).toEqual(["get", "pods", "--namespace", "ns"]);
    expect(new Kubectl({ namespace: "ns", context: "" }).scoped(["get"])).toEqual(["get", "--namespace", "ns"]);
    expect(new Kubectl({ namespace: "ns", context: "kind" }).scoped(["get"])).toEqual([
      "get",
      "--namespace",
      "ns",
      "--context",
      "kind",
    ]);
  });

  it("explains a failure with kubectl's own error line, else the last line of its errors", () => {
    const r = (stderr: string, stdout = "") => ({ code: 1, stdout, stderr });
    expect(firstErrorLine(r('Warning: x\n  Error from server (NotFound): deployments "a" not found  \nmore\n'))).toBe(
      'Error from server (NotFound): deployments "a" not found',
    );
    expect(firstErrorLine(r("W1\n", "  error: unable to read\n"))).toBe("error: unable to read");
    expect(firstErrorLine(r("first\n  last one  \n\n"))).toBe("last one");
    expect(firstErrorLine(r("W0101 see Error from server above\nlast\n"))).toBe("last");
    expect(firstErrorLine(r("ERROR: upper case counts\n"))).toBe("ERROR: upper case counts");
    expect(firstErrorLine(r("", "an error: not at the start\n"))).toBe("");
    expect(new KubectlError(["get", "x"], r("", "")).message).toBe("kubectl get x exited with 1");
    expect(new KubectlError(["get", "x"], r("boom\n")).message).toBe("boom");
  });
});

describe("the version an image runs", () => {
  it("is its tag when the tag is a whole semantic version, v or not", () => {
    expect(versionOfImage("transportation-api:1.4.0")).toBe("1.4.0");
    expect(versionOfImage("ghcr.io/acme/transportation-api:v10.20.30")).toBe("10.20.30");
    expect(versionOfImage("ghcr.io/acme/transportation-api:1.2.3-dev")).toBe("1.2.3-dev");
    expect(versionOfImage("ghcr.io/acme/transportation-api:build-1.2.3")).toBeUndefined();
    expect(versionOfImage("ghcr.io/acme/transportation-api:1.2.3foo")).toBeUndefined();
    expect(versionOfImage("registry.local/1.2.3")).toBeUndefined(); // a repository, not a tag
    expect(versionOfImage(undefined)).toBeUndefined();
  });
});
