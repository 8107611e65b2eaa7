/**
 * Sandbox worker entry: owns one QuickJS module and runs one call at a time.
 * Cancellation arrives through a shared flag (the worker's event loop is busy
 * while QuickJS runs, so a message would come too late).
 */
import type { CallOutcome, FromWorker, ToWorker } from "./protocol.ts";
import { QuickJsHost } from "./quickjsHost.ts";

declare const self: Worker;

let host: QuickJsHost | undefined;
let abortFlag: Int32Array<ArrayBufferLike> = new Int32Array(1);
let nextBridge = 0;
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
    try {
      outcome = await host!.run(m, {
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
