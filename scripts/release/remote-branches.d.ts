// Types for remote-branches.js (plain ESM, loaded by release.config.js on Node).
export declare function remoteBranchNames(remote?: string, cwd?: string): string[];
