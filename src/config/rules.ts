// Says what a configuration value must be, from the schema alone: the value itself is never part of
// the text, so a rule can be shown for a secret ("API_KEY: must be at least 8 characters"). TypeBox's
// own messages say "Expected union value" for an optional (nullable) setting, which tells nobody anything.
import type { TSchema } from "@sinclair/typebox";

type Schema = TSchema & {
  anyOf?: Schema[];
  const?: unknown;
  type?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  description?: string;
};

const jsType = (value: unknown) =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value === "number" ? "number" : typeof value;

function fits(schema: Schema, value: unknown): boolean {
  const type = jsType(value);
  if (schema.type === "integer") return type === "number";
  return schema.type === type;
}

function lengthRule(s: Schema): string {
  const { minLength: min, maxLength: max } = s;
  if (min !== undefined && max !== undefined) return `must be ${min} to ${max} characters long`;
  if (min === 1) return "must not be empty";
  if (min !== undefined) return `must be at least ${min} characters`;
  if (max !== undefined) return `must be at most ${max} characters`;
  return "must be text";
}

function numberRule(s: Schema): string {
  const noun = s.type === "integer" ? "a whole number" : "a number";
  let range: string;
  if (s.minimum !== undefined && s.maximum !== undefined) range = `from ${s.minimum} to ${s.maximum}`;
  else {
    const lower =
      s.minimum !== undefined
        ? `of ${s.minimum} or more`
        : s.exclusiveMinimum !== undefined
          ? `above ${s.exclusiveMinimum}`
          : undefined;
    const upper =
      s.maximum !== undefined
        ? `at most ${s.maximum}`
        : s.exclusiveMaximum !== undefined
          ? `below ${s.exclusiveMaximum}`
          : undefined;
    range = [lower, upper].filter(Boolean).join(" and ");
  }
  const unit = s.description && /^\w+$/.test(s.description) ? ` (${s.description})` : "";
  return `must be ${noun}${range ? ` ${range}` : ""}${unit}`;
}

/** What `schema` asks of a value; `value` only picks the branch of a union that was meant. */
export function describeRule(schema: TSchema, value: unknown): string {
  const s = schema as Schema;
  if (Array.isArray(s.anyOf)) {
    const variants = s.anyOf.filter((v) => v.type !== "null");
    if (variants.length > 0 && variants.every((v) => "const" in v))
      return `must be one of ${variants.map((v) => String(v.const)).join(", ")}`;
    const meant = variants.find((v) => fits(v, value)) ?? variants[0];
    return meant ? describeRule(meant, value) : "must be unset";
  }
  switch (s.type) {
    case "string":
      return lengthRule(s);
    case "integer":
    case "number":
      return numberRule(s);
    case "boolean":
      return "must be true or false";
    case "array":
      return "must be a list";
    case "object":
      return "must be a mapping";
    default:
      return "has an invalid value";
  }
}
