// The branch model, shared by release.config.js (plain ESM, loaded by semantic-release on Node) and the
// TypeScript tools (check-branch.ts, tests). One sanitiser, so a PR check and the release agree on names.

export const RELEASE_BRANCH = "main";
export const PRERELEASE_BRANCH = { name: "develop", channel: "next", prerelease: "beta" };
export const FEATURE_PREFIX = "feature/";
export const HOTFIX_PREFIX = "hotfix/";

/** Ids a feature branch may not take: they would share tags or a channel with develop's prereleases. */
const RESERVED_IDS = new Set([PRERELEASE_BRANCH.prerelease, PRERELEASE_BRANCH.channel, "latest"]);

const MAINTENANCE_LINE = /^(0|[1-9][0-9]*)\.((0|[1-9][0-9]*)\.)?x$/;
// Names that were meant as a maintenance line but are not one (hotfix/1.4, hotfix/v1.4.x, hotfix/01.4.x).
const LOOKS_LIKE_VERSION = /^v?[0-9]+(\.[0-9]+)*(\.x)?$/i;

/**
 * feature/<name> → the prerelease id of its versions (1.5.0-<id>.1): lower-cased, every run of characters
 * outside [0-9a-z-] becomes one "-", no leading/trailing "-"; an all-digit id gets a "feature-" prefix
 * (semver forbids leading zeros in numeric identifiers). Returns null when nothing usable is left.
 */
export function featurePrereleaseId(branch) {
  if (!branch.startsWith(FEATURE_PREFIX)) return null;
  const id = branch
    .slice(FEATURE_PREFIX.length)
    .toLowerCase()
    .replace(/[^0-9a-z-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-|-$/g, "");
  if (id === "") return null;
  return /^[0-9]+$/.test(id) ? `feature-${id}` : id;
}

/** hotfix/1.4.x → "1.4.x", hotfix/1.x → "1.x"; null for any other name (including plain hotfix/<desc>). */
export function maintenanceRange(branch) {
  if (!branch.startsWith(HOTFIX_PREFIX)) return null;
  const range = branch.slice(HOTFIX_PREFIX.length);
  return MAINTENANCE_LINE.test(range) ? range : null;
}

/** What a branch name means in the branch model. */
export function classifyBranch(branch) {
  if (branch === RELEASE_BRANCH) return { kind: "release", channel: "default" };
  if (branch === PRERELEASE_BRANCH.name)
    return { kind: "prerelease", channel: PRERELEASE_BRANCH.channel, prerelease: PRERELEASE_BRANCH.prerelease };
  if (branch.startsWith(FEATURE_PREFIX)) {
    const id = featurePrereleaseId(branch);
    if (id === null) return { kind: "invalid", reason: `${branch} has no usable prerelease id (use [0-9A-Za-z-])` };
    if (RESERVED_IDS.has(id))
      return {
        kind: "invalid",
        reason: `${branch} sanitises to "${id}", which is reserved for ${PRERELEASE_BRANCH.name}`,
      };
    return { kind: "feature", prerelease: id, channel: id };
  }
  if (branch.startsWith(HOTFIX_PREFIX)) {
    const range = maintenanceRange(branch);
    if (range) return { kind: "maintenance", range, channel: range };
    const tail = branch.slice(HOTFIX_PREFIX.length);
    if (LOOKS_LIKE_VERSION.test(tail))
      return {
        kind: "invalid",
        reason: `${branch} looks like a maintenance line but is not one: use hotfix/<major>.<minor>.x or hotfix/<major>.x (e.g. hotfix/1.4.x)`,
      };
    return { kind: "hotfix" };
  }
  return { kind: "other" };
}

/**
 * Picks, among feature branches, one owner per prerelease id. A name already in canonical form
 * (feature/<id>) wins; otherwise the alphabetically first. Returns Map<id, branch>.
 */
function featureOwners(branches) {
  const owners = new Map();
  const sorted = [...new Set(branches)].sort(); // code-unit order, as semanticReleaseBranches lists them
  for (const branch of sorted) {
    const info = classifyBranch(branch);
    if (info.kind !== "feature") continue;
    const current = owners.get(info.prerelease);
    const canonical = `${FEATURE_PREFIX}${info.prerelease}`;
    if (current === undefined || (branch === canonical && current !== canonical)) owners.set(info.prerelease, branch);
  }
  return owners;
}

/**
 * Is `branch` releasable, given the other branches on the remote? Returns { ok: true, summary } or
 * { ok: false, reason } with a one-line reason.
 */
export function checkBranch(branch, existingBranches = []) {
  const info = classifyBranch(branch);
  switch (info.kind) {
    case "invalid":
      return { ok: false, reason: info.reason };
    case "release":
      return { ok: true, summary: `${branch}: stable releases on the default channel` };
    case "prerelease":
      return {
        ok: true,
        summary: `${branch}: prereleases x.y.z-${info.prerelease}.N on the "${info.channel}" channel`,
      };
    case "maintenance":
      return {
        ok: true,
        summary: `${branch}: maintenance releases in range ${info.range} on the "${info.channel}" channel`,
      };
    case "hotfix":
      return { ok: true, summary: `${branch}: hotfix PR branch, releases a patch from ${RELEASE_BRANCH} when merged` };
    case "other":
      return { ok: true, summary: `${branch}: not a release branch (merging it releases from the target branch)` };
    default: {
      const owner = featureOwners([...existingBranches, branch]).get(info.prerelease);
      if (owner !== branch)
        return {
          ok: false,
          reason: `${branch} sanitises to prerelease id "${info.prerelease}", already used by ${owner}: rename it (e.g. ${FEATURE_PREFIX}${info.prerelease}-2)`,
        };
      return {
        ok: true,
        summary: `${branch}: prereleases x.y.z-${info.prerelease}.N on the "${info.channel}" channel`,
      };
    }
  }
}

/** Escapes a literal branch name for semantic-release's micromatch branch patterns. */
function literalPattern(branch) {
  return branch.replace(/[^A-Za-z0-9/_.-]/g, (c) => `\\${c}`);
}

/**
 * semantic-release `branches` for the given remote branch names. Feature and maintenance branches are
 * listed one by one (not as globs) so a branch that cannot be released is left out, with a reason,
 * instead of failing every release run (semantic-release validates all matching branches each run).
 */
export function semanticReleaseBranches(remoteBranches) {
  const branches = [RELEASE_BRANCH, { ...PRERELEASE_BRANCH }];
  const skipped = [];
  const owners = featureOwners(remoteBranches);
  for (const branch of [...new Set(remoteBranches)].sort()) {
    const info = classifyBranch(branch);
    if (info.kind === "maintenance") {
      branches.push({ name: literalPattern(branch), range: info.range, channel: info.channel });
    } else if (info.kind === "feature") {
      if (owners.get(info.prerelease) === branch)
        branches.push({ name: literalPattern(branch), prerelease: info.prerelease, channel: info.channel });
      else skipped.push({ branch, reason: checkBranch(branch, remoteBranches).reason });
    } else if (info.kind === "invalid") {
      skipped.push({ branch, reason: info.reason });
    }
  }
  return { branches, skipped };
}
