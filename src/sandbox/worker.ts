/**
 * Sandbox worker entry: owns one QuickJS module and runs one call at a time, in
 * the order they arrive (the pool may queue calls behind the running one).
 * Cancellation and the claim on a queued call go through shared cells (the
 * worker's event loop is busy while QuickJS runs, so a message would come too late).
 */
import { CodeCache, decodeMessage, type BridgeAnswer, type CallOutcome, type FromWorker, type RunMessage, type ToWorker } from "./protocol.ts";
import { QuickJsHost } from "./quickjsHost.ts";
import { niceThisThread, thisThreadId } from "./threadPriority.ts";

declare const self: Worker;

/** The cell shared with the pool that names the call to abort (see protocol.ts InitMessage). */
const ABORT = 0;

let host: QuickJsHost | undefined;
let cells: Int32Array<ArrayBufferLike> = new Int32Array(3);
let nextBridge = 0;
const codes = new CodeCache();
const bridgeWaiters = new Map<number, { resolve(a: BridgeAnswer): void; reject(e: Error): void }>();
const post = (m: FromWorker) => self.postMessage(m.type === "done" ? JSON.stringify(m) : m);
/** Calls run one after another. */
let lane: Promise<void> = Promise.resolve();

async function run(m: RunMessage, code: string | undefined): Promise<void> {
  // a queued call the pool took back (cancelled, or moved to an idle worker) is not run
  if (m.claim !== undefined && Atomics.compareExchange(cells, m.claim, m.callId, 0) !== m.callId) return;
  let outcome: CallOutcome;
  try {
    if (code === undefined) outcome = { ok: false, error: { message: "The sandbox received no source for this call" }, logs: [], durationMs: 0 };
    // the message was parsed from JSON for this call alone: it takes the source in place of a copy
    else outcome = await host!.run(Object.assign(m, { code }), {
      aborted: () => Atomics.load(cells, ABORT) === m.callId,
      progress: (progress, total, message) => post({ type: "progress", callId: m.callId, progress, total, message }),
      log: (line) => post({ type: "log", callId: m.callId, line }),
      bridge: (name, input) =>
        new Promise((resolve, reject) => {
          const requestId = ++nextBridge;
          bridgeWaiters.set(requestId, { resolve, reject });
          post({ type: "bridge", callId: m.callId, requestId, name, input });
        }),
    });
  } catch (err) {
    // the interpreter could not be reloaded: this worker is of no further use, so crash it and let the pool replace it
    setTimeout(() => {
      throw err;
    });
    outcome = { ok: false, error: { message: "The sandbox worker failed; the call was not completed" }, logs: [], durationMs: 0 };
  }
  for (const [, w] of bridgeWaiters) w.reject(new Error("the call ended"));
  bridgeWaiters.clear();
  post({ type: "done", callId: m.callId, outcome, heapBytes: host!.heapBytes() });
}

self.onmessage = async (event: MessageEvent<ToWorker | string>) => {
  const m = decodeMessage<ToWorker>(event.data);
  if (m.type === "init") {
    niceThisThread(m.nice ?? 0);
    cells = new Int32Array(m.abortFlag);
    host = await QuickJsHost.create(m.memoryBytes);
    post({ type: "ready", tid: thisThreadId() });
  } else if (m.type === "bridge-reply") {
    const w = bridgeWaiters.get(m.requestId);
    bridgeWaiters.delete(m.requestId);
    if (m.ok) w?.resolve({ value: m.value, rich: m.rich });
    else w?.reject(new Error(m.error ?? "tool call failed"));
  } else if (m.type === "run") {
    // the source is taken on arrival, in message order, as the pool's mirror of this cache assumes (same rule: CodeCache)
    const code = m.code ?? (m.codeKey === null ? undefined : codes.get(m.codeKey));
    if (m.code !== undefined && m.codeKey !== null) codes.put(m.codeKey, m.code);
    // a failure outside the call's own handling would stall the lane: crash instead, and the pool replaces this worker
    lane = lane.then(() => run(m, code)).catch((err) => {
      setTimeout(() => {
        throw err;
      });
    });
  }
};
