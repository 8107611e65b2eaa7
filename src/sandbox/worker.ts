/**
 * Sandbox worker entry: owns one QuickJS module and runs one call at a time.
 * Cancellation arrives through a shared flag (the worker's event loop is busy
 * while QuickJS runs, so a message would come too late).
 */
import { CodeCache, type CallOutcome, type FromWorker, type ToWorker } from "./protocol.ts";
import { QuickJsHost } from "./quickjsHost.ts";

declare const self: Worker;

let host: QuickJsHost | undefined;
let abortFlag: Int32Array<ArrayBufferLike> = new Int32Array(1);
let nextBridge = 0;
const codes = new CodeCache();
const bridgeWaiters = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
const post = (m: FromWorker) => self.postMessage(m);

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  if (m.type === "init") {
    abortFlag = new Int32Array(m.abortFlag);
    host = await QuickJsHost.create(m.memoryBytes);
    post({ type: "ready" });
  } else if (m.type === "bridge-reply") {
    const w = bridgeWaiters.get(m.requestId);
    bridgeWaiters.delete(m.requestId);
    if (m.ok) w?.resolve(m.value);
    else w?.reject(new Error(m.error ?? "tool call failed"));
  } else if (m.type === "run") {
    let outcome: CallOutcome;
    // the pool omits a source this worker already holds (same rule on both sides: CodeCache)
    const code = m.code ?? (m.codeKey === null ? undefined : codes.get(m.codeKey));
    if (m.code !== undefined && m.codeKey !== null) codes.put(m.codeKey, m.code);
    try {
      if (code === undefined) outcome = { ok: false, error: { message: "The sandbox received no source for this call" }, logs: [], durationMs: 0 };
      else outcome = await host!.run({ ...m, code }, {
        aborted: () => Atomics.load(abortFlag, 0) === 1,
        progress: (progress, total, message) => post({ type: "progress", callId: m.callId, progress, total, message }),
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
};
