/**
 * Shapes a call's outcome into an MCP tool result: `content` always (strings as
 * is, other values as JSON), `structuredContent` when the output is an object or
 * an output schema exists (then validated), `isError` for failures.
 */
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import type { CallToolResult } from "../mcp/catalog.ts";
import type { CallOutcome } from "./protocol.ts";

const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
const validators = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  let v = validators.get(schema);
  if (!v) validators.set(schema, (v = ajv.compile(schema)));
  return v;
}

function errorResult(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/** The MCP result for an outcome, given the tool's output schema (if any). */
export function shapeResult(outcome: CallOutcome, outputSchema?: Record<string, unknown> | null): CallToolResult {
  if (!outcome.ok) return errorResult(outcome.error?.message ?? "The tool failed");
  const out = outcome.output;
  const isObject = typeof out === "object" && out !== null && !Array.isArray(out);
  if (outputSchema) {
    if (out === undefined) return errorResult("The tool returned no value, but it declares an output schema");
    const validate = validatorFor(outputSchema);
    if (!validate(out)) {
      const e = validate.errors?.[0];
      return errorResult(`The tool's output does not match its output schema: ${e?.instancePath || "/"} ${e?.message ?? ""}`.trim());
    }
  }
  const text = out === undefined ? "" : typeof out === "string" ? out : JSON.stringify(out);
  const result: CallToolResult = { content: [{ type: "text", text }] };
  if (isObject) result.structuredContent = out as Record<string, unknown>;
  return result;
}
