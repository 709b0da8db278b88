// Inputs for the ops commands. The same value can come from a command-line flag (a laptop), from
// `core.getInput` (a workflow step sets INPUT_<NAME> in `env:`, never by interpolating into `run:`),
// or from a default. Flags win, so a person can override a workflow's value when re-running by hand.
import * as core from "@actions/core";

export interface OptionSpec {
  name: string;
  description: string;
  default?: string;
  required?: boolean;
  /** A flag without a value (`--port-forward`), read as "true". */
  boolean?: boolean;
}

export type Options = Record<string, string | undefined>;

export class UsageError extends Error {}

export function parseFlags(argv: string[], specs: OptionSpec[]): Options {
  const known = new Map(specs.map((s) => [s.name, s]));
  const flags: Options = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const spec = known.get(name);
    if (!spec) throw new UsageError(`unknown option --${name}`);
    if (eq !== -1) flags[name] = arg.slice(eq + 1);
    else if (spec.boolean) flags[name] = "true";
    else {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags[name] = value;
    }
  }
  return flags;
}

/** Resolves every option: flag, then workflow input, then default; checks required ones. */
export function readOptions(argv: string[], specs: OptionSpec[]): Options {
  const flags = parseFlags(argv, specs);
  const options: Options = {};
  for (const spec of specs) {
    const fromInput = core.getInput(spec.name);
    const value = flags[spec.name] ?? (fromInput === "" ? undefined : fromInput) ?? spec.default;
    if (spec.required && (value === undefined || value === "")) {
      throw new UsageError(`missing --${spec.name} (${spec.description})`);
    }
    options[spec.name] = value;
  }
  return options;
}

export function usage(command: string, summary: string, specs: OptionSpec[]): string {
  const lines = specs.map((s) => {
    const flag = s.boolean ? `--${s.name}` : `--${s.name} <value>`;
    const extra = s.required ? " (required)" : s.default ? ` (default: ${s.default})` : "";
    return `  ${flag.padEnd(30)} ${s.description}${extra}`;
  });
  return [`usage: bun scripts/ops/${command}.ts [options]`, "", summary, "", ...lines].join("\n");
}

export function numberOption(options: Options, name: string): number {
  const raw = options[name];
  const value = Number(raw);
  if (raw === undefined || raw === "" || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`--${name} must be a non-negative number, got "${raw ?? ""}"`);
  }
  return value;
}

/** A revision number as kubectl prints it (positive integer), or undefined when empty. */
export function revisionOption(options: Options, name: string): number | undefined {
  const raw = options[name];
  if (raw === undefined || raw === "") return undefined;
  if (!/^[1-9][0-9]*$/.test(raw)) throw new UsageError(`--${name} must be a revision number, got "${raw}"`);
  return Number(raw);
}
