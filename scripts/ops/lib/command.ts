// Entry-point wrapper for the ops commands: --help, usage errors (exit 2), unexpected errors as an
// annotation (exit 1), and the command's own exit code otherwise.
import { type OptionSpec, type Options, readOptions, UsageError, usage } from "./options";
import { errorAnnotation } from "./report";

export async function runCommand(
  name: string,
  summary: string,
  specs: OptionSpec[],
  body: (options: Options) => Promise<number>,
): Promise<never> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage(name, summary, specs));
    process.exit(0);
  }
  let code: number;
  try {
    code = await body(readOptions(argv, specs));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${name}: ${err.message}\n\n${usage(name, summary, specs)}`);
      process.exit(2);
    }
    errorAnnotation((err as Error).message, `${name} failed`);
    code = 1;
  }
  process.exit(code);
}
