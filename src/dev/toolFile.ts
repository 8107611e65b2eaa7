/**
 * A tool of a dev folder: `tools/<name>.ts|js`, whose default export is the
 * async handler `(args, context)`, with exported `description`, `inputSchema`
 * and `outputSchema` (seed 004). The file name is the tool's name.
 */
import type { McpTool } from "../mcp/catalog.ts";
import { checkObjectSchema } from "../platform/jsonSchema.ts";
import type { FileProblem } from "./promptFile.ts";
import type { ProbeResult } from "./probeProtocol.ts";

/** A tool file loaded and checked. */
export interface DevTool {
  name: string;
  /** Absolute path (what the native worker imports). */
  file: string;
  /** Path relative to the folder. */
  rel: string;
  /** Changes whenever the file does: the worker imports the file afresh under it. */
  version: string;
  listing: McpTool;
  outputSchema?: Record<string, unknown>;
}

/** MCP tool names (2025-11-25: 1–128 of these characters). */
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const EMPTY_INPUT = { type: "object", properties: {} };

/** The tool a probed file defines, or why it cannot be served. */
export function devTool(name: string, file: string, rel: string, version: string, probed: ProbeResult): DevTool | FileProblem {
  if (!TOOL_NAME.test(name)) return { message: `"${name}" cannot be a tool name: use letters, digits, "_", "-" or "." (1–128), the file name is the tool's name` };
  if (!probed.ok) return { message: probed.message, line: probed.line, column: probed.column };
  if (!probed.hasDefault) return { message: "no default export: export the tool's handler, e.g. export default async function (args, context) { … }" };
  const p = probed;
  for (const [key, v] of [["description", p.description], ["title", p.title]] as const) {
    if (v !== undefined && typeof v !== "string") return { message: `the exported ${key} must be a string` };
  }
  if (p.annotations !== undefined && (typeof p.annotations !== "object" || p.annotations === null || Array.isArray(p.annotations))) {
    return { message: "the exported annotations must be an object (readOnlyHint, destructiveHint, …)" };
  }
  try {
    if (p.inputSchema !== undefined) checkObjectSchema("the exported inputSchema", p.inputSchema);
    if (p.outputSchema !== undefined) checkObjectSchema("the exported outputSchema", p.outputSchema);
  } catch (e) {
    return { message: (e as Error).message };
  }
  const outputSchema = p.outputSchema as Record<string, unknown> | undefined;
  return {
    name,
    file,
    rel,
    version,
    outputSchema,
    listing: {
      name,
      ...(p.title ? { title: p.title as string } : {}),
      ...(p.description ? { description: p.description as string } : {}),
      inputSchema: (p.inputSchema as Record<string, unknown> | undefined) ?? EMPTY_INPUT,
      ...(outputSchema ? { outputSchema } : {}),
      ...(p.annotations ? { annotations: p.annotations as Record<string, unknown> } : {}),
    },
  };
}
