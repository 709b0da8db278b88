// Types for branches.js (plain ESM so release.config.js can load it on Node without a TypeScript step).

export declare const RELEASE_BRANCH: string;
export declare const PRERELEASE_BRANCH: { name: string; channel: string; prerelease: string };
export declare const FEATURE_PREFIX: string;
export declare const HOTFIX_PREFIX: string;

export type BranchInfo =
  | { kind: "release"; channel: string }
  | { kind: "prerelease"; channel: string; prerelease: string }
  | { kind: "feature"; channel: string; prerelease: string }
  | { kind: "maintenance"; channel: string; range: string }
  | { kind: "hotfix" }
  | { kind: "other" }
  | { kind: "invalid"; reason: string };

export type BranchCheck = { ok: true; summary: string } | { ok: false; reason: string };

export type SemanticReleaseBranch = string | { name: string; channel?: string; prerelease?: string; range?: string };

export declare function featurePrereleaseId(branch: string): string | null;
export declare function maintenanceRange(branch: string): string | null;
export declare function classifyBranch(branch: string): BranchInfo;
export declare function checkBranch(branch: string, existingBranches?: string[]): BranchCheck;
export declare function semanticReleaseBranches(remoteBranches: string[]): {
  branches: SemanticReleaseBranch[];
  skipped: { branch: string; reason: string }[];
};
