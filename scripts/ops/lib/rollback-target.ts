// Which revision a rollback goes to, judged by the gate verdicts on record (gate-verdict.ts).
// - No revision given ("the previous one"): the newest revision, other than the live one, that passed
//   its readiness gate. Revision numbers follow the order in which templates were last made live, so
//   this is the release that served before the live one — never one that failed and was undone.
//   Revisions without a verdict (deployed before verdicts were recorded, or by hand with kubectl) are
//   not picked on their own: nothing says they ever served. The refusal lists them, to be named.
// - A revision given: refused when it failed its gate, unless forced; accepted without a verdict (the
//   gate after the rollback decides); always accepted when it is the live one (nothing changes).
import { describeVerdict, revisionLabel } from "./gate-verdict";
import type { Revision } from "./rollout";

export type TargetChoice = { target: Revision; notes: string[] } | { refusal: string };

export function chooseRollbackTarget(
  revisions: Revision[],
  liveRevision: number,
  requested: number | undefined,
  force: boolean,
): TargetChoice {
  const sorted = [...revisions].sort((a, b) => a.revision - b.revision);
  if (requested !== undefined) return chooseGiven(sorted, liveRevision, requested, force);

  const others = sorted.filter((r) => r.revision !== liveRevision);
  if (others.length === 0) {
    return { refusal: `revision ${liveRevision} is the only one in the history; nothing to roll back to` };
  }
  const target = others.filter((r) => r.verdict === "passed").pop();
  const passedOver = others.filter((r) => !target || r.revision > target.revision);
  const notes = passedOver.map((r) => `passing over ${revisionLabel(r)}: ${describeVerdict(r)}`);
  if (target) return { target, notes };

  const live = sorted.find((r) => r.revision === liveRevision);
  const failed = others.some((r) => r.verdict === "failed");
  return {
    refusal:
      `no revision other than the live one (${live ? revisionLabel(live) : `revision ${liveRevision}`}) ` +
      `passed its readiness gate: ${passedOver.map((r) => `${revisionLabel(r)} ${verdictWord(r)}`).join(", ")}. ` +
      `Name one with --to-revision${failed ? " (one that failed also needs --force)" : ""}`,
  };
}

function chooseGiven(sorted: Revision[], liveRevision: number, requested: number, force: boolean): TargetChoice {
  const target = sorted.find((r) => r.revision === requested);
  if (!target) {
    const known = sorted.map((r) => r.revision).join(", ") || "none";
    return { refusal: `revision ${requested} is not in the rollout history (revisions: ${known})` };
  }
  if (target.revision === liveRevision) return { target, notes: [] };
  if (target.verdict === "failed" && !force) {
    return { refusal: `${revisionLabel(target)} ${describeVerdict(target)}; add --force to roll back to it anyway` };
  }
  if (target.verdict === "failed") {
    return { target, notes: [`forced: ${revisionLabel(target)} ${describeVerdict(target)}`] };
  }
  if (target.verdict === undefined) {
    return {
      target,
      notes: [`${revisionLabel(target)} has no readiness gate on record; the gate after the rollback decides`],
    };
  }
  return { target, notes: [] };
}

const verdictWord = (r: Revision): string =>
  r.verdict === "failed" ? "failed" : r.verdict === "passed" ? "passed" : "has no gate on record";
