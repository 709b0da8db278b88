// Subcommand parsing for the single CLI entrypoint (npm scripts, the container, Kubernetes Jobs).
export interface Command {
  name: string;
  summary: string;
  usage: string;
}

export const COMMANDS: Command[] = [
  { name: "serve", summary: "run the HTTP API (default)", usage: "serve [--migrate]" },
  { name: "migrate", summary: "apply database migrations and exit", usage: "migrate" },
  {
    name: "import",
    summary:
      "import a GTFS feed as a new version and serve it; --rollback serves the previous version; --refresh imports GTFS_FEED_URL if it changed",
    usage: "import <feed|url> | --rollback [version] | --refresh",
  },
];

export function usage(): string {
  const lines = COMMANDS.map((c) => `  ${c.usage.padEnd(28)} ${c.summary}`);
  return `usage: transportation-api <command> [options]\n\ncommands:\n${lines.join("\n")}\n`;
}

export interface ParsedArgs {
  command: string;
  rest: string[];
  flags: Set<string>;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const [first, ...rest] = argv;
  const command = !first || first.startsWith("-") ? "serve" : first;
  const all = !first || first.startsWith("-") ? argv : rest;
  return {
    command,
    rest: all.filter((a) => !a.startsWith("--")),
    flags: new Set(all.filter((a) => a.startsWith("--"))),
  };
}
