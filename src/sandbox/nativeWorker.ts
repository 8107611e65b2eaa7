/**
 * Trusted native mode: runs tool modules from the operator's own disk (`dzx dev`)
 * directly in the worker, so they may import npm packages. Never used for
 * API-created tools. The environment is restricted by the pool; deadlines and
 * cancellation are enforced by terminating the worker.
 */
import { dirname } from "node:path";
import { askParams } from "./askRequest.ts";
import { uncaughtMessage } from "./callError.ts";
import { MCP_LIB } from "./mcpLib.ts";
import { decodeMessage, type CallOutcome, type FromWorker, type LogLine, type ToWorker } from "./protocol.ts";
import { nativeFrames, parseStack, positionedMessage, type Frame } from "./sourcePosition.ts";
import { niceThisThread, thisThreadId } from "./threadPriority.ts";
import { readOutput } from "./toolOutput.ts";

declare const self: Worker;

// the same mcp.* helpers as in the sandbox, from the same source; their encoder stands in for JSON.stringify
const mcpHost: { base64(b: ArrayBuffer): string; encode?: (v: unknown) => string | undefined } = { base64: (b) => Buffer.from(b).toString("base64") };
(globalThis as Record<string, unknown>).mcp = ((0, eval)(MCP_LIB) as (host: object) => { mcp: unknown })(mcpHost).mcp;
const encode = mcpHost.encode!;

const post = (m: FromWorker) => self.postMessage(m);
let current: { logs: LogLine[]; bytes: number; cap: number; callId: number; live: boolean } | undefined;
/** Questions to the client awaiting their answer, by requestId (trusted code holds its worker while it waits). */
const asks = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
let nextAsk = 0;

// console output of the running call is captured, not printed
for (const level of ["log", "info", "warn", "error", "debug"] as const) {
  console[level] = (...args: unknown[]) => {
    if (!current) return;
    const text = args.map((a) => (typeof a === "string" ? a : Bun.inspect(a))).join(" ");
    if (current.bytes + text.length > current.cap) return;
    current.bytes += text.length;
    const line: LogLine = { level, message: text };
    current.logs.push(line);
    if (current.live) post({ type: "log", callId: current.callId, line });
  };
}

/** What Bun's loader throws for a file it cannot load: a BuildMessage is a syntax error, a ResolveMessage an import not found. */
interface LoaderMessage {
  name: "BuildMessage" | "ResolveMessage";
  message: string;
  position?: { file?: string; line?: number; column?: number } | null;
}

const isLoaderMessage = (err: unknown): err is LoaderMessage =>
  typeof err === "object" && err !== null && ["BuildMessage", "ResolveMessage"].includes((err as LoaderMessage).name) && typeof (err as LoaderMessage).message === "string";

/**
 * A natively run tool's error, shown as the sandbox shows one: positions and stack
 * in the tool's own folder only, files named relative to it (no host path).
 */
function nativeErrorMessage(err: unknown, toolPath: string): string {
  const dir = `${dirname(toolPath)}/`;
  // a message may name a file by its host path and the version query it was imported with
  const scrub = (text: string) => text.replaceAll(dir, "").replace(/\?v=[^\s'"]*/g, "").slice(0, 4000);
  if (isLoaderMessage(err)) {
    const p = err.position;
    const at: Frame[] = p?.file && p.line ? [{ file: p.file, line: p.line, column: p.column ?? 1 }] : [];
    return positionedMessage(scrub(`${err.name === "BuildMessage" ? "SyntaxError: " : ""}${err.message}`), nativeFrames(at, toolPath));
  }
  if (err instanceof Error) {
    return positionedMessage(scrub(`${err.name === "Error" ? "" : `${err.name}: `}${err.message}`), nativeFrames(parseStack(err.stack), toolPath), err.name);
  }
  return uncaughtMessage(err);
}

self.onmessage = async (event: MessageEvent<ToWorker | string>) => {
  const m = decodeMessage<ToWorker>(event.data);
  if (m.type === "init") {
    niceThisThread(m.nice ?? 0);
    return post({ type: "ready", tid: thisThreadId() });
  }
  if (m.type === "bridge-reply") {
    const w = asks.get(m.requestId);
    asks.delete(m.requestId);
    if (m.ok) w?.resolve(m.value);
    else w?.reject(new Error(m.error ?? "the client did not answer"));
    return;
  }
  if (m.type !== "run") return;
  const started = performance.now();
  current = { logs: [], bytes: 0, cap: m.limits.logBytes, callId: m.callId, live: m.liveLogs === true };
  let outcome: CallOutcome;
  let loaded = false;
  try {
    // codeKey carries the file's version so an edited file is imported afresh
    const mod = await import(`${m.code}?v=${encodeURIComponent(m.codeKey ?? "")}`);
    loaded = true;
    if (typeof mod.default !== "function") throw new TypeError("The tool module must export a default function");
    if (m.kind === "check") outcome = { ok: true, logs: [], durationMs: 0 };
    else {
      const context = {
        ...m.context,
        progress: (progress: number, total?: number, message?: string) => post({ type: "progress", callId: m.callId, progress, total, message }),
        log: (level: string, data: unknown) => console.log(`[${level}]`, data),
        elicit: (request: unknown) => ask("elicitation/create", request),
        sample: (request: unknown) => ask("sampling/createMessage", request),
      };
      // the same checks as in the sandbox, so a tool behaves alike in both modes
      const ask = async (method: string, request: unknown) => {
        const params = askParams(method, JSON.stringify(request ?? null) ?? "null", m.limits);
        const requestId = ++nextAsk;
        return new Promise((resolve, reject) => {
          asks.set(requestId, { resolve, reject });
          post({ type: "ask", callId: m.callId, requestId, method, params });
        });
      };
      const out = await mod.default(m.input, context);
      outcome = { ...readOutput(out === undefined ? undefined : encode(out), m.limits), logs: [], durationMs: 0 };
    }
  } catch (err) {
    const message = nativeErrorMessage(err, m.code ?? "");
    outcome = { ok: false, error: { message: loaded ? message : `The tool failed to load: ${message}` }, logs: [], durationMs: 0 };
  }
  outcome.logs = current.logs;
  outcome.durationMs = Math.round((performance.now() - started) * 1000) / 1000;
  current = undefined;
  asks.clear();
  post({ type: "done", callId: m.callId, outcome, heapBytes: 0 });
};
