/**
 * Messages between the pool (main thread) and a sandbox worker, declared as data.
 */
import type { CallLimits } from "./limits.ts";

/** Egress rules a call's fetch obeys. */
export interface EgressRules {
  /** Hosts (exact or `*.suffix`) that may be reached even if private; empty: none. */
  allowPrivateHosts: string[];
  /** When non-empty, only these hosts (exact or `*.suffix`) may be reached. */
  allowHosts: string[];
  /** Hosts never reached. */
  denyHosts: string[];
}

/** What the sandboxed code sees as its second argument. */
export interface ToolContext {
  requestId: string;
  endUserId: string | null;
  server: { id: string; slug: string; name: string } | null;
  secrets: Record<string, string>;
}

/** Start one call. */
export interface RunMessage {
  type: "run";
  /** A positive int32, unique among the calls a worker holds. */
  callId: number;
  /**
   * Set when the call is queued behind a running one: the index of the shared
   * cell holding its callId. The worker starts it only if it can still claim it
   * (swap the callId for 0); the pool may have taken it back.
   */
  claim?: number;
  /** Cache key of the compiled code (tool id + version), or null for one-off scripts. */
  codeKey: string | null;
  /**
   * Plain JavaScript module source (TypeScript already stripped). Omitted when the
   * worker already holds the source for `codeKey` (see CodeCache).
   */
  code?: string;
  /** "module": `export default async (input, context) => …`; "script": a body run as an async function (CODE mode); "check": load the module only. */
  kind: "module" | "script" | "check";
  input: unknown;
  context: ToolContext;
  limits: CallLimits;
  egress: EgressRules;
  /** Names callable as `tools.<name>()` (CODE mode); empty for tools. */
  toolNames: string[];
  /** Send each console line as it is written (a `log` message), for a client that reads them while the call runs. */
  liveLogs?: boolean;
}

/** How many sources per codeKey a worker keeps, so the pool need not resend them. */
export const CODE_CACHE_ENTRIES = 256;

/**
 * The sources a worker holds, by codeKey. The pool keeps an identical copy per
 * worker: both apply the same rule to the same ordered messages (insert when a
 * message carries code, oldest out first), so the pool knows when it may omit it.
 */
export class CodeCache {
  private readonly codes = new Map<string, string>();

  /** The source held for `key`, if any. */
  get(key: string): string | undefined {
    return this.codes.get(key);
  }

  /** Records a source a message carried. */
  put(key: string, code: string): void {
    if (!this.codes.has(key) && this.codes.size >= CODE_CACHE_ENTRIES) this.codes.delete(this.codes.keys().next().value!);
    this.codes.set(key, code);
  }
}

/** What a bridge request (e.g. tools.<name>()) is answered with. */
export interface BridgeAnswer {
  value: unknown;
  /** `value` is a tool result built with the mcp.* helpers: the code gets it back as one, so returning it keeps it rich. */
  rich?: boolean;
}

/** Main → worker: the answer to a bridge request (e.g. tools.<name>()). */
export interface BridgeReply extends Partial<BridgeAnswer> {
  type: "bridge-reply";
  callId: number;
  requestId: number;
  ok: boolean;
  error?: string;
}

/** Main → worker: a parked call may go on (an answer it waits for has been sent), or must end (cancelled). */
export interface ParkedCallMessage {
  type: "resume" | "cancel";
  callId: number;
}

/** Main → worker: a pending `tools.*` call now waits (or no longer waits) on the client (see CallRequest.onBridge). */
export interface BridgeWaiting {
  type: "bridge-waiting";
  callId: number;
  requestId: number;
  on: boolean;
}

/** Main → worker, first message: the shared abort flag and the memory cap. */
export interface InitMessage {
  type: "init";
  /** Int32 cells over a SharedArrayBuffer: [0] the callId to abort; the rest claim cells of queued calls (RunMessage.claim). */
  abortFlag: SharedArrayBuffer;
  memoryBytes: number;
  /** Niceness the worker gives its thread (PoolOptions.nice). */
  nice?: number;
  /** Calls the worker may hold parked, waiting on their clients (PoolOptions.maxParkedPerWorker). */
  maxParked?: number;
}

/** Messages the worker accepts. */
export type ToWorker = InitMessage | RunMessage | BridgeReply | ParkedCallMessage | BridgeWaiting;

/** One captured console line. */
export interface LogLine {
  level: "debug" | "info" | "log" | "warn" | "error";
  message: string;
}

/** How a call ended. */
export interface CallOutcome {
  ok: boolean;
  /** JSON-compatible output; undefined when the code returned undefined. */
  output?: unknown;
  /** The code returned a result built with the mcp.* helpers: `output` is `{content, structuredContent?, isError?}`, not yet checked. */
  rich?: boolean;
  /** Present when !ok: a message safe to show (no host stack). */
  error?: { message: string; limit?: string };
  logs: LogLine[];
  durationMs: number;
}

/** Worker → main messages. */
export type FromWorker =
  /** `tid`: the worker's thread id (Linux), for the pool to watch it after terminating it. */
  | { type: "ready"; tid?: number }
  | { type: "done"; callId: number; outcome: CallOutcome; heapBytes: number }
  | { type: "progress"; callId: number; progress: number; total?: number; message?: string }
  | { type: "log"; callId: number; line: LogLine }
  | { type: "bridge"; callId: number; requestId: number; name: string; input: unknown }
  /** The code asks its client (context.elicit / context.sample); answered with a BridgeReply. */
  | { type: "ask"; callId: number; requestId: number; method: string; params: Record<string, unknown> }
  /**
   * The call waits on nothing but its client (`waitingOn`: the requests it waits for): the
   * worker set it aside with its own QuickJS module and takes other calls until the pool resumes it.
   */
  | { type: "parked"; callId: number; waitingOn: number[] };

/**
 * Run and done messages cross the thread boundary as JSON text: Bun clones a
 * string far more cheaply than the object graph (~10 µs less CPU per call,
 * measured), and everything in them is JSON already. The rest go as objects.
 */
export function decodeMessage<T>(data: unknown): T {
  return (typeof data === "string" ? JSON.parse(data) : data) as T;
}
