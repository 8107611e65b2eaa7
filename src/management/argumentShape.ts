/**
 * The top level of an operation's arguments, checked by name before by value (issue 15.9): an
 * argument the operation does not take is named along with the ones it does, and a missing one
 * is named with the shape it expects (`dwizi.tools.create needs "tool": {name, slug?, source, …}`),
 * which "Expected required property" never told a caller who forgot the wrapper.
 */
import type { TObject, TSchema } from "@sinclair/typebox";
import { DomainError } from "../platform/domainError.ts";

type Schema = TSchema & {
  type?: unknown;
  const?: unknown;
  items?: Schema;
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
};

/** One line showing what a value of this schema looks like: `{name, slug?}`, `[string]`, `"7d" | "30d"`. */
export function shapeOf(schema: Schema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.anyOf) return schema.anyOf.map(shapeOf).join(" | ");
  if (schema.type === "object") {
    if (!schema.properties) return "{…}";
    const required = new Set(schema.required ?? []);
    return `{${Object.keys(schema.properties).map((k) => (required.has(k) ? k : `${k}?`)).join(", ")}}`;
  }
  if (schema.type === "array") return schema.items ? `[${shapeOf(schema.items)}]` : "[…]";
  return typeof schema.type === "string" ? schema.type : "any JSON value";
}

const quoted = (names: string[]) => names.map((n) => `"${n}"`).join(", ");

/** Throws VALIDATION_ERROR when `args` lacks a required top-level argument or has one `op` does not declare. */
export function checkArgumentNames(opName: string, schema: TObject, args: Record<string, unknown>): void {
  const properties = schema.properties as Record<string, Schema>;
  const accepted = Object.keys(properties);
  const unknown = Object.keys(args).filter((k) => !Object.hasOwn(properties, k));
  const missing = (schema.required ?? []).filter((k) => args[k] === undefined);
  if (!unknown.length && !missing.length) return;
  const parts: string[] = [];
  if (missing.length) parts.push(`${opName} needs ${missing.map((k) => `"${k}": ${shapeOf(properties[k]!)}`).join(", ")}`);
  // the fields of the one missing wrapper, given at the top level (`{name, source}` for `{tool: {name, source}}`)
  const wrapper = missing.length === 1 ? properties[missing[0]!]?.properties : undefined;
  if (unknown.length && wrapper && unknown.every((k) => Object.hasOwn(wrapper, k))) {
    parts.push(`${quoted(unknown)} belong inside "${missing[0]}"`);
  } else if (unknown.length) {
    const takes = accepted.length ? `it accepts: ${accepted.join(", ")}` : "it takes no arguments";
    parts.push(`${parts.length ? "unknown" : "Unknown"} argument${unknown.length > 1 ? "s" : ""} ${quoted(unknown)} for ${opName}; ${takes}`);
  }
  const path = missing[0] ?? unknown[0]!;
  throw new DomainError("VALIDATION_ERROR", parts.join("; "), { path, ...(unknown.length ? { unknown, accepted } : {}), ...(missing.length ? { missing } : {}) });
}
