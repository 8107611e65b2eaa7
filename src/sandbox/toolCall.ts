/**
 * Running a stored tool in the pool: compile (cached per version), limits from
 * the tool and the configuration, then shape the outcome as an MCP result.
 */
import type { CancelSignal } from "../mcp/cancellation.ts";
import { compileTool } from "./compile.ts";
import { shapeResult, type ShapedResult } from "./output.ts";
import type { CallRequest, SandboxPool } from "./pool.ts";
import type { CallOutcome, EgressRules, ToolContext } from "./protocol.ts";

/** The parts of a tool the sandbox needs. */
export interface RunnableTool {
  id: string;
  orgId: string;
  version: number;
  language: "js" | "ts";
  source: string;
  outputSchema: Record<string, unknown> | null;
  timeoutMs: number | null;
}

/** Per-call settings. */
export interface ToolCallOptions {
  input: unknown;
  context: ToolContext;
  egress: EgressRules;
  /** Default and ceiling for timeouts (DZX_TOOL_TIMEOUT_MS, DZX_TOOL_TIMEOUT_MAX_MS). */
  defaultTimeoutMs: number;
  maxTimeoutMs: number;
  signal?: CancelSignal;
  onProgress?: CallRequest["onProgress"];
  onLog?: CallRequest["onLog"];
  onAsk?: CallRequest["onAsk"];
}

/** A call's outcome and its MCP shape (`rich`: the tool's own result, built with the mcp.* helpers). */
export interface ToolCallResult extends ShapedResult {
  outcome: CallOutcome;
}

/** Runs a tool once. */
export async function callTool(pool: SandboxPool, tool: RunnableTool, opts: ToolCallOptions): Promise<ToolCallResult> {
  let code: string;
  try {
    code = compileTool(tool.source, tool.language, `${tool.id}:${tool.version}`);
  } catch (e) {
    const outcome: CallOutcome = { ok: false, error: { message: `The tool failed to compile: ${(e as Error).message}` }, logs: [], durationMs: 0 };
    return { outcome, ...shapeResult(outcome) };
  }
  const outcome = await pool.run({
    orgId: tool.orgId,
    codeKey: `${tool.id}:${tool.version}`,
    code,
    kind: "module",
    input: opts.input,
    context: opts.context,
    egress: opts.egress,
    limits: { timeoutMs: Math.min(tool.timeoutMs ?? opts.defaultTimeoutMs, opts.maxTimeoutMs) },
    signal: opts.signal,
    onProgress: opts.onProgress,
    onLog: opts.onLog,
    onAsk: opts.onAsk,
  });
  return { outcome, ...shapeResult(outcome, tool.outputSchema) };
}

/** Loads a source in the sandbox without running it; returns the reason it cannot run, or null. */
export async function checkInSandbox(pool: SandboxPool, orgId: string, source: string, language: "js" | "ts"): Promise<string | null> {
  const code = compileTool(source, language);
  const outcome = await pool.run({ orgId, codeKey: null, code, kind: "check", limits: { timeoutMs: 5000 } });
  return outcome.ok ? null : (outcome.error?.message ?? "The tool cannot be loaded");
}
