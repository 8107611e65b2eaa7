/**
 * Shapes a call's outcome into an MCP tool result. A plain output: `content` always
 * (strings as is, other values as JSON), `structuredContent` when the output is an
 * object or an output schema exists (then validated). A rich output (built with the
 * mcp.* helpers): the tool's own blocks, structuredContent and isError, each block
 * checked, a bad one a tool error naming its index and field. Failures are `isError`.
 */
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import type { CallToolResult } from "../mcp/catalog.ts";
import { contentBlockProblem, summarizeBlock, type ContentBlock } from "../mcp/contentBlock.ts";
import type { CallOutcome } from "./protocol.ts";

const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
const validators = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  let v = validators.get(schema);
  if (!v) validators.set(schema, (v = ajv.compile(schema)));
  return v;
}

/** A shaped outcome; `rich`: the result is the tool's own, built with the mcp.* helpers and valid. */
export interface ShapedResult {
  result: CallToolResult;
  rich: boolean;
}

function errorResult(message: string): ShapedResult {
  return { result: { content: [{ type: "text", text: message }], isError: true }, rich: false };
}

/** Why a value does not match the output schema, or null. */
function schemaMismatch(value: unknown, schema: Record<string, unknown>): string | null {
  const validate = validatorFor(schema);
  if (validate(value)) return null;
  const e = validate.errors?.[0];
  return `The tool's output does not match its output schema: ${e?.instancePath || "/"} ${e?.message ?? ""}`.trim();
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const RESULT_FIELDS = ["content", "structuredContent", "isError", "_meta"];

/** Why a rich output is not a valid tool result, naming the field (e.g. "content[2].mimeType is required for image"), or null. */
function resultProblem(out: unknown): string | null {
  if (!isObject(out)) return "the result must be an object {content, structuredContent?, isError?}";
  for (const k of Object.keys(out)) if (!RESULT_FIELDS.includes(k)) return `${k} is not a field of a tool result (${RESULT_FIELDS.join(", ")})`;
  if (!Array.isArray(out.content)) return "content must be an array of content blocks";
  for (let i = 0; i < out.content.length; i++) {
    const problem = contentBlockProblem(out.content[i], `content[${i}]`);
    if (problem) return problem;
  }
  if (out.structuredContent !== undefined && !isObject(out.structuredContent)) return "structuredContent must be an object";
  if (out.isError !== undefined && typeof out.isError !== "boolean") return "isError must be true or false";
  if (out._meta !== undefined && !isObject(out._meta)) return "_meta must be an object";
  return null;
}

/** The MCP result for an outcome, given the tool's output schema (if any). */
export function shapeResult(outcome: CallOutcome, outputSchema?: Record<string, unknown> | null, subject: "tool" | "script" = "tool"): ShapedResult {
  if (!outcome.ok) return errorResult(outcome.error?.message ?? `The ${subject} failed`);
  const out = outcome.output;
  if (outcome.rich) {
    const problem = resultProblem(out);
    if (problem) return errorResult(`The ${subject}'s result is not valid MCP content: ${problem}`);
    const result = out as CallToolResult;
    // a result the tool marks as an error answers with its own blocks; the schema speaks of successes
    if (outputSchema && !result.isError) {
      if (result.structuredContent === undefined) return errorResult("The tool declares an output schema, but its result has no structuredContent: pass it to mcp.result({ content, structuredContent })");
      const mismatch = schemaMismatch(result.structuredContent, outputSchema);
      if (mismatch) return errorResult(mismatch);
    }
    return { result, rich: true };
  }
  if (outputSchema) {
    if (out === undefined) return errorResult("The tool returned no value, but it declares an output schema");
    const mismatch = schemaMismatch(out, outputSchema);
    if (mismatch) return errorResult(mismatch);
  }
  const text = out === undefined ? "" : typeof out === "string" ? out : JSON.stringify(out);
  const result: CallToolResult = { content: [{ type: "text", text }] };
  if (isObject(out)) result.structuredContent = out;
  return { result, rich: false };
}

/**
 * What the call log keeps of a call's output: a plain output as is; a rich result with
 * each block's binary data summarized as `{type, mimeType, bytes}` (never the base64);
 * nothing of a rich output that was refused (its message is the call's error).
 */
export function loggedOutput(outcome: CallOutcome, shaped: ShapedResult): unknown {
  if (!outcome.ok) return undefined;
  if (!outcome.rich) return outcome.output;
  if (!shaped.rich) return undefined;
  return { ...shaped.result, content: shaped.result.content.map((b) => summarizeBlock(b as ContentBlock)) };
}
