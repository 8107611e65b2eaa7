/**
 * What goes into the sandbox pool: one call to run, and the pool's settings.
 */
import type { CancelSignal } from "../mcp/cancellation.ts";
import type { CallLimits } from "./limits.ts";
import type { BridgeAnswer, EgressRules, LogLine, RunMessage, ToolContext } from "./protocol.ts";

/** One call to run. */
export interface CallRequest {
  orgId: string;
  /** Cache key of the code (tool id + version), or null. */
  codeKey: string | null;
  code: string;
  kind: RunMessage["kind"];
  input?: unknown;
  context?: Partial<ToolContext>;
  limits?: Partial<CallLimits>;
  egress?: EgressRules;
  toolNames?: string[];
  signal?: CancelSignal;
  onProgress?(progress: number, total?: number, message?: string): void;
  /** Told of each console line as the call writes it (set: the worker sends them live). */
  onLog?(line: LogLine): void;
  /** Answers `tools.<name>(input)` from CODE-mode scripts. */
  onBridge?(name: string, input: unknown): Promise<BridgeAnswer>;
}

/** Pool settings. */
export interface PoolOptions {
  size: number;
  /** Hard memory ceiling per worker's QuickJS heap (the per-call limit). */
  memoryBytes: number;
  perOrgQueue: number;
  totalQueue: number;
  defaults?: Partial<CallLimits>;
  /** Niceness of the worker threads (Linux; default 0). Above 0 tool code cannot starve the main thread, but any busy process starves the tools (bench/RESULTS.md). */
  nice?: number;
  /** Told each time a worker is terminated and replaced, with the reason (for the log). */
  onReplaced?(reason: string): void;
  /** Told when a terminated worker is found still running (see SandboxPool.stuckThreads). */
  onStuck?(tid: number, stuckThreads: number): void;
  /** An org's calls are refused while this many threads stuck in its calls still run (default: the pool's size). */
  maxStuckPerOrg?: number;
  /** Calls a busy worker of short calls may hold queued behind its running one (default 8; 0 keeps every waiting call in the pool's fair queue). */
  queueDepth?: number;
  /** A worker counts as running short calls while they take this long or less, ms (default SHORT_CALL_MS). */
  shortCallMs?: number;
  /** A short call running this long has overrun: the calls queued behind it may move to an idle worker, ms (default OVERRUN_MS). */
  overrunMs?: number;
  /**
   * Trusted native mode (`dzx dev` only): `code` is a module file path run
   * directly in the worker, with only `env` visible as process.env.
   */
  native?: { env: Record<string, string> };
}
