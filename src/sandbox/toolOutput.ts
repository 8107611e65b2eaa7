/**
 * What a tool returned, as it crosses out of the sandbox code: the JSON text of the
 * value, or, for a result built with the `mcp.*` helpers, that text behind RICH_MARK.
 * Only the sandbox's own encoder sets the mark (prelude "mcp": it knows which objects
 * the helpers made), and no JSON text begins with it, so a plain value never passes
 * for a rich result: `{content: "hi"}` stays structured output.
 */
import { textTooDeep } from "../jsonDepth.ts";
import { outputProblem, type CallLimits } from "./limits.ts";
import type { CallError } from "./callError.ts";
import type { CallOutcome } from "./protocol.ts";

/** Prefix of a rich result's text. */
export const RICH_MARK = "\u0001";

/** A value as the text sandbox code decodes (the answer to `tools.<name>()`): JSON, marked when rich. */
export function outputText(value: unknown, rich?: boolean): string {
  const json = JSON.stringify(value ?? null);
  return rich ? RICH_MARK + json : json;
}

/** The path below a value of its longest string (".data", ".resource.blob"), for naming what made a result too large. */
function longestString(v: unknown, depth = 0): { path: string; length: number } {
  if (typeof v === "string") return { path: "", length: v.length };
  let best = { path: "", length: -1 };
  if (typeof v !== "object" || v === null || depth > 3) return best;
  for (const [k, x] of Object.entries(v)) {
    const inner = longestString(x, depth + 1);
    if (inner.length > best.length) best = { path: Array.isArray(v) ? `[${k}]${inner.path}` : `.${k}${inner.path}`, length: inner.length };
  }
  return best;
}

/**
 * For a rich result past the output limit: the block (and its field) that takes it past,
 * e.g. "content[2].data"; null when the text is not one (then the generic message stands).
 */
function oversizedBlock(json: string, limits: Pick<CallLimits, "outputBytes" | "jsonDepth">): CallError | null {
  if (Buffer.byteLength(json) <= limits.outputBytes || textTooDeep(json, limits.jsonDepth)) return null;
  let result: { content?: unknown; structuredContent?: unknown };
  try {
    result = JSON.parse(json);
  } catch {
    return null;
  }
  const past = (what: string) => ({ message: `Output limit exceeded: ${what} takes the result past the output limit (${limits.outputBytes} bytes)`, limit: "output" as const });
  let total = 0;
  const content = Array.isArray(result.content) ? result.content : [];
  for (let i = 0; i < content.length; i++) {
    total += Buffer.byteLength(JSON.stringify(content[i]) ?? "");
    if (total > limits.outputBytes) return past(`content[${i}]${longestString(content[i]).path}`);
  }
  return result.structuredContent === undefined ? null : past(`structuredContent${longestString(result.structuredContent).path}`);
}

/** The outcome of a call whose value the sandbox encoded to `text` (undefined: it returned undefined), held to the output limits. */
export function readOutput(text: string | undefined, limits: Pick<CallLimits, "outputBytes" | "jsonDepth">): Pick<CallOutcome, "ok" | "output" | "rich" | "error"> {
  if (text === undefined) return { ok: true, output: undefined };
  const rich = text.startsWith(RICH_MARK);
  const json = rich ? text.slice(RICH_MARK.length) : text;
  const problem = outputProblem(json, limits);
  if (problem) return { ok: false, error: (rich && oversizedBlock(json, limits)) || problem };
  return rich ? { ok: true, output: JSON.parse(json), rich: true } : { ok: true, output: JSON.parse(json) };
}
