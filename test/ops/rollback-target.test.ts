// The choice of a rollback target from the revisions and their gate verdicts, without a cluster.
import { describe, expect, it } from "vitest";
import { chooseRollbackTarget } from "../../scripts/ops/lib/rollback-target";
import type { GateVerdict, Revision } from "../../scripts/ops/lib/rollout";

const rev = (revision: number, tag: string, verdict?: GateVerdict): Revision => ({
  revision,
  image: `ghcr.io/acme/transportation-api:${tag}`,
  changeCause: `deploy ${tag}`,
  replicaSet: `transportation-api-${tag.replaceAll(".", "")}`,
  verdict,
  verdictNote: verdict ? `2026-05-01T10:00:00.000Z deploy ${tag}: …` : undefined,
});
const targetOf = (choice: ReturnType<typeof chooseRollbackTarget>) =>
  "target" in choice ? choice.target.revision : choice.refusal;

describe("chooseRollbackTarget", () => {
  // History after 1.0.0, 1.1.0 passed; 1.2.0 failed and was undone (1.1.0 renumbered to 4).
  const history = [rev(1, "1.0.0", "passed"), rev(3, "1.2.0", "failed"), rev(4, "1.1.0", "passed")];

  it("takes the newest other revision that passed, whatever order the revisions come in", () => {
    expect(targetOf(chooseRollbackTarget([...history].reverse(), 4, undefined, false))).toBe(1);
    const choice = chooseRollbackTarget(history, 4, undefined, false);
    expect("target" in choice && choice.notes).toEqual([
      "passing over revision 3 (ghcr.io/acme/transportation-api:1.2.0): failed its readiness gate (2026-05-01T10:00:00.000Z deploy 1.2.0: …)",
    ]);
  });

  it("does not pick a revision without a verdict on its own, even when it is the only other one", () => {
    const choice = chooseRollbackTarget([rev(1, "1.0.0"), rev(2, "1.1.0", "passed")], 2, undefined, false);
    expect(targetOf(choice)).toBe(
      "no revision other than the live one (revision 2 (ghcr.io/acme/transportation-api:1.1.0)) passed its readiness gate: revision 1 (ghcr.io/acme/transportation-api:1.0.0) has no gate on record. Name one with --to-revision",
    );
    expect(targetOf(chooseRollbackTarget([rev(1, "1.0.0")], 1, 1, false))).toBe(1);
  });

  it("keeps kubectl's answer when the live revision is the only one", () => {
    expect(targetOf(chooseRollbackTarget([rev(1, "1.0.0", "passed")], 1, undefined, false))).toBe(
      "revision 1 is the only one in the history; nothing to roll back to",
    );
  });

  it("refuses a named revision that failed unless forced, and never refuses the live one", () => {
    expect(targetOf(chooseRollbackTarget(history, 4, 3, false))).toMatch(
      /^revision 3 \(.*:1\.2\.0\) failed its readiness gate \(.*\); add --force to roll back to it anyway$/,
    );
    expect(targetOf(chooseRollbackTarget(history, 4, 3, true))).toBe(3);
    expect(targetOf(chooseRollbackTarget(history, 3, 3, false))).toBe(3);
    expect(targetOf(chooseRollbackTarget(history, 4, 2, false))).toBe(
      "revision 2 is not in the rollout history (revisions: 1, 3, 4)",
    );
  });

  it("says which refusal needs --force, and names a live revision that is not in the list by number", () => {
    const noneGood = chooseRollbackTarget([rev(1, "1.0.0", "failed"), rev(2, "1.1.0")], 2, undefined, false);
    expect(targetOf(noneGood)).toBe(
      "no revision other than the live one (revision 2 (ghcr.io/acme/transportation-api:1.1.0)) passed its readiness gate: revision 1 (ghcr.io/acme/transportation-api:1.0.0) failed. Name one with --to-revision (one that failed also needs --force)",
    );
    expect(targetOf(chooseRollbackTarget([rev(1, "1.0.0")], 5, undefined, false))).toBe(
      "no revision other than the live one (revision 5) passed its readiness gate: revision 1 (ghcr.io/acme/transportation-api:1.0.0) has no gate on record. Name one with --to-revision",
    );
    expect(targetOf(chooseRollbackTarget([], 5, 2, false))).toBe(
      "revision 2 is not in the rollout history (revisions: none)",
    );
  });

  it("notes a forced choice and one without a verdict, and nothing for one that passed", () => {
    const notes = (choice: ReturnType<typeof chooseRollbackTarget>) => ("target" in choice ? choice.notes : choice);
    expect(notes(chooseRollbackTarget(history, 4, 3, true))).toEqual([
      "forced: revision 3 (ghcr.io/acme/transportation-api:1.2.0) failed its readiness gate (2026-05-01T10:00:00.000Z deploy 1.2.0: …)",
    ]);
    expect(notes(chooseRollbackTarget([rev(1, "1.0.0"), rev(2, "1.1.0", "passed")], 2, 1, false))).toEqual([
      "revision 1 (ghcr.io/acme/transportation-api:1.0.0) has no readiness gate on record; the gate after the rollback decides",
    ]);
    expect(notes(chooseRollbackTarget(history, 4, 1, false))).toEqual([]);
    expect(notes(chooseRollbackTarget(history, 4, 1, true))).toEqual([]);
    expect(notes(chooseRollbackTarget(history, 3, 3, true))).toEqual([]);
  });

  it("orders the revisions by number whatever order they come in, and lists every one it passed over", () => {
    expect(
      targetOf(
        chooseRollbackTarget(
          [rev(3, "1.2.0"), rev(2, "1.1.0", "passed"), rev(1, "1.0.0", "passed")],
          3,
          undefined,
          false,
        ),
      ),
    ).toBe(2);
    expect(
      targetOf(
        chooseRollbackTarget([rev(2, "1.1.0"), rev(1, "1.0.0", "failed"), rev(3, "1.2.0")], 3, undefined, false),
      ),
    ).toBe(
      "no revision other than the live one (revision 3 (ghcr.io/acme/transportation-api:1.2.0)) passed its readiness gate: revision 1 (ghcr.io/acme/transportation-api:1.0.0) failed, revision 2 (ghcr.io/acme/transportation-api:1.1.0) has no gate on record. Name one with --to-revision (one that failed also needs --force)",
    );
  });
});
