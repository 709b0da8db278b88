// GitHub Actions expressions, evaluated by GitHub's own evaluator (@actions/expressions, the package the
// workflow parser and the language server use), so `&&`/`||` returning operands, loose `==`, case-insensitive
// property access and format() behave as on GitHub. Only the status functions are supplied here: they are
// not part of that package because their answer depends on the run, which the model owns.
import { data, Evaluator, Lexer, Parser } from "@actions/expressions";
import { truthy } from "@actions/expressions/result";
import { isBasicExpression, isBoolean, isMapping, isNumber, isString } from "@actions/workflow-parser";
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The contexts an expression may read; whatever is absent evaluates to null, as on GitHub. */
export interface Contexts {
  github?: Json;
  inputs?: Json;
  vars?: Json;
  needs?: Json;
  jobs?: Json;
  steps?: Json;
  secrets?: Json;
}

/**
 * The job-level meaning of the status functions (https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#status-check-functions):
 * success() — every job this one depends on, directly or through others, succeeded; failure() — one of them
 * failed ("if you have a chain of dependent jobs, failure() returns true if any ancestor job fails");
 * cancelled() — "the workflow was canceled"; always() — true.
 */
export interface StatusFunctions {
  success: boolean;
  failure: boolean;
  cancelled: boolean;
}

const CONTEXT_NAMES = ["github", "inputs", "vars", "needs", "jobs", "secrets", "env", "steps", "matrix", "strategy"];
const STATUS_NAMES = ["success", "failure", "cancelled", "always"] as const;

function statusFunctions(status: StatusFunctions | undefined) {
  return new Map(
    STATUS_NAMES.map((name) => [
      name,
      {
        name,
        minArgs: 0,
        maxArgs: 0,
        call: () => {
          if (status === undefined) throw new Error(`${name}() is only allowed in an if: condition`);
          return new data.BooleanData(name === "always" ? true : status[name]);
        },
      },
    ]),
  );
}

function toData(contexts: Contexts): data.Dictionary {
  const dict = new data.Dictionary();
  for (const [key, value] of Object.entries(contexts)) {
    if (value !== undefined) dict.add(key, JSON.parse(JSON.stringify(value), data.reviver) as data.ExpressionData);
  }
  return dict;
}

/** Evaluates one expression (the text inside `${{ }}`, or an `if:` condition). */
export function evaluate(expression: string, contexts: Contexts, status?: StatusFunctions): data.ExpressionData {
  const functions = statusFunctions(status);
  const { tokens } = new Lexer(expression).lex();
  const tree = new Parser(
    tokens,
    CONTEXT_NAMES,
    STATUS_NAMES.map((name) => ({ name, minArgs: 0, maxArgs: 0 })),
  ).parse();
  return new Evaluator(tree, toData(contexts), functions).evaluate();
}

export const isTruthy = (value: data.ExpressionData): boolean => truthy(value);

/** A value as GitHub turns it into a string (a concurrency group, an input, an environment name). */
export const asString = (value: data.ExpressionData): string => value.coerceString();

/**
 * The value of a workflow token: the parser turns `a-${{ b }}` into the expression `format('a-{0}', b)`,
 * so a token is either a literal or one expression.
 */
export function tokenValue(token: TemplateToken, contexts: Contexts, status?: StatusFunctions): data.ExpressionData {
  if (isBasicExpression(token)) return evaluate(token.expression, contexts, status);
  if (isString(token)) return new data.StringData(token.value);
  if (isBoolean(token)) return new data.BooleanData(token.value);
  if (isNumber(token)) return new data.NumberData(token.value);
  if (isMapping(token)) {
    const dict = new data.Dictionary();
    for (const pair of token) dict.add(pair.key.assertString("mapping key").value, tokenValue(pair.value, contexts));
    return dict;
  }
  return new data.Null();
}
