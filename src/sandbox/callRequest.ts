/**
 * What goes into the sandbox pool: one call to run, the pool's settings, and the run message a call becomes.
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
  /**
   * Answers `tools.<name>(input)` from CODE-mode scripts. `waiting(true)` says the tool now
   * waits on the client (its own ask), `waiting(false)` that it no longer does: a script
   * waiting on nothing else parks meanwhile, as a call asking itself does.
   */
  onBridge?(name: string, input: unknown, waiting: (on: boolean) => void): Promise<BridgeAnswer>;
  /**
   * Sends what the code asks its client (`context.elicit` → `elicitation/create`,
   * `context.sample` → `sampling/createMessage`, params already checked) and resolves
   * with the client's result; rejects with an error the code may catch. `signal` aborts
   * when the question is withdrawn (the call ended, or the wait passed its limit).
   * Absent: the call cannot ask.
   */
  onAsk?(method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
  /** Told of each console line as the call writes it (set: the worker sends them live). */
  onLog?(line: LogLine): void;
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
  /** How long one question to a client may wait for its answer, ms (DZX_ELICIT_TIMEOUT_MS; default 600000). */
  askTimeoutMs?: number;
  /** Calls one org may have waiting on their clients at once (DZX_ELICIT_MAX_WAITING; default 64). */
  maxAskingPerOrg?: number;
  /** Calls one worker may hold parked, each with its own QuickJS module (default 64). */
  maxParkedPerWorker?: number;
  /**
   * Trusted native mode (`dzx dev` only): `code` is a module file path run
   * directly in the worker, with only `env` visible as process.env.
   */
  native?: { env: Record<string, string> };
}

const NO_EGRESS_RULES: EgressRules = { allowHosts: [], denyHosts: [], allowPrivateHosts: [] };

/** The run message of a call posted as `callId` (`claim`: its cell when queued); `withCode`: the worker does not hold the source yet. */
export function runMessage(req: CallRequest, limits: CallLimits, callId: number, claim: number | undefined, withCode: boolean): RunMessage {
  return {
    type: "run",
    callId,
    claim,
    codeKey: req.codeKey,
    code: withCode ? req.code : undefined,
    kind: req.kind,
    input: req.input ?? {},
    context: { requestId: "", endUserId: null, server: null, secrets: {}, ...req.context },
    limits,
    egress: req.egress ?? NO_EGRESS_RULES,
    toolNames: req.toolNames ?? [],
    liveLogs: req.onLog ? true : undefined,
  };
}
