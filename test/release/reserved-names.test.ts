// Feature branches may not take a prerelease id that develop's releases use (its id "beta" and its
// channel "next") or the default channel's npm dist-tag "latest": they would share tags or a channel
// with other releases. Every reserved id, in every spelling that sanitises to it, is refused by the
// PR check and left out of semantic-release's branches; ids that merely contain one are not.
import { describe, expect, it } from "vitest";
import { checkBranch, classifyBranch, semanticReleaseBranches } from "../../scripts/release/branches.js";

const RESERVED = ["beta", "next", "latest"];
const spellings = (id: string) => [
  `feature/${id}`,
  `feature/${id.toUpperCase()}`,
  `feature/_${id}_`,
  `feature/--${id[0]!.toUpperCase()}${id.slice(1)}--`,
];

describe("reserved prerelease ids", () => {
  for (const id of RESERVED)
    for (const branch of spellings(id))
      it(`${branch} is refused (sanitises to "${id}")`, () => {
        expect(classifyBranch(branch)).toEqual({
          kind: "invalid",
          reason: `${branch} sanitises to "${id}", which is reserved for develop`,
        });
        expect(checkBranch(branch)).toEqual({
          ok: false,
          reason: `${branch} sanitises to "${id}", which is reserved for develop`,
        });
        const { branches, skipped } = semanticReleaseBranches(["main", "develop", branch]);
        expect(branches).toEqual(["main", { name: "develop", channel: "next", prerelease: "beta" }]);
        expect(skipped).toEqual([{ branch, reason: `${branch} sanitises to "${id}", which is reserved for develop` }]);
      });

  for (const branch of ["feature/betamax", "feature/next-gen", "feature/latest-news", "feature/alpha", "feature/main"])
    it(`${branch} is not reserved`, () => {
      const id = branch.slice("feature/".length);
      expect(classifyBranch(branch)).toEqual({ kind: "feature", prerelease: id, channel: id });
      expect(checkBranch(branch).ok).toBe(true);
      expect(semanticReleaseBranches([branch]).branches).toContainEqual({ name: branch, prerelease: id, channel: id });
    });
});
