/**
 * Per-call limits of the sandbox and their defaults (SPEC "The sandbox").
 */
import { DEFAULT_JSON_DEPTH, textTooDeep, tooDeepMessage } from "../jsonDepth.ts";

/** Limits applied to one call. */
export interface CallLimits {
  /** Wall-clock budget in ms (DZX_TOOL_TIMEOUT_MS, per-tool override, capped). */
  timeoutMs: number;
  /** Heap available to the call's JS, in bytes. */
  memoryBytes: number;
  /** Native stack for the interpreter, in bytes (bounds recursion). */
  stackBytes: number;
  /** Largest JSON-encoded output, in bytes. */
  outputBytes: number;
  /** Deepest nesting of the output and of what tools.* is passed (DZX_MAX_JSON_DEPTH). */
  jsonDepth: number;
  /** Total console output kept, in bytes; the rest is dropped with a marker. */
  logBytes: number;
  /** Timers pending at once. */
  maxTimers: number;
  /** fetch requests per call. */
  maxFetches: number;
  /** Largest fetch response body, in bytes. */
  fetchBodyBytes: number;
}

/** Defaults: 30 s, 64 MiB, 1 MiB output (issue #3). */
export const DEFAULT_LIMITS: CallLimits = {
  timeoutMs: 30_000,
  memoryBytes: 64 * 1024 * 1024,
  stackBytes: 512 * 1024,
  outputBytes: 1024 * 1024,
  jsonDepth: DEFAULT_JSON_DEPTH,
  logBytes: 64 * 1024,
  maxTimers: 1000,
  maxFetches: 50,
  fetchBodyBytes: 5 * 1024 * 1024,
};

/** Why a result's JSON text may not leave the sandbox (too large, nested too deep), or null. */
export function outputProblem(text: string, limits: Pick<CallLimits, "outputBytes" | "jsonDepth">): { message: string; limit: "output" } | null {
  if (Buffer.byteLength(text) > limits.outputBytes) return { message: `Output limit exceeded: the result is larger than ${limits.outputBytes} bytes`, limit: "output" };
  if (textTooDeep(text, limits.jsonDepth)) return { message: `Output limit exceeded: ${tooDeepMessage("the result", limits.jsonDepth)}`, limit: "output" };
  return null;
}

/** The names errors use for each breached limit. */
export type LimitName = "timeout" | "memory" | "stack" | "output" | "timers" | "fetches";
