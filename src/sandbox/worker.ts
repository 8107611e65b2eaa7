/**
 * Sandbox worker entry: owns the QuickJS modules and runs one call at a time, in
 * the order they arrive (the pool may queue calls behind the running one). A call
 * that waits on nothing but its client parks: it keeps its own module and leaves
 * the lane to the next call, and the pool resumes it (back into the lane) once an
 * answer it waits for has been sent. Cancelling a running call and the claim on a
 * queued call go through shared cells (the worker's event loop is busy while
 * QuickJS runs, so a message would come too late); a parked call is told by message.
 */
import { ASK_METHODS, type AskMethod } from "./askRequest.ts";
import { CodeCache, decodeMessage, type BridgeReply, type CallOutcome, type FromWorker, type RunMessage, type ToWorker } from "./protocol.ts";
import { QuickJsHost, type CallHooks } from "./quickjsHost.ts";
import { niceThisThread, thisThreadId } from "./threadPriority.ts";

declare const self: Worker;

/** The cell shared with the pool that names the call to abort (see protocol.ts InitMessage). */
const ABORT = 0;

let host: QuickJsHost | undefined;
let cells: Int32Array<ArrayBufferLike> = new Int32Array(3);
let nextRequest = 0;
/** Parked calls this worker may hold at once (each keeps a module, ~1.5 MiB and up). */
let maxParked = 64;
const codes = new CodeCache();

/** A request a call waits on (a tools.* call or a question to the client). */
interface Waiter {
  callId: number;
  /** It waits on the client: asks always, tools.* calls while their tool does. */
  client: boolean;
  /** Settles with what the reply carries for this kind of request. */
  resolve(reply: BridgeReply): void;
  reject(e: Error): void;
}
const waiters = new Map<number, Waiter>();
/** Parked calls by callId: told to go on (true) or to end, cancelled (false). */
const parked = new Map<number, (resume: boolean) => void>();
const post = (m: FromWorker) => self.postMessage(m.type === "done" ? JSON.stringify(m) : m);
/** Calls run one after another. */
let lane: Promise<void> = Promise.resolve();

/** Runs a turn of a call once the turns before it have ended or parked. */
function enqueue(turn: () => Promise<void>): void {
  // a failure outside the call's own handling would stall the lane: crash instead, and the pool replaces this worker
  lane = lane.then(turn).catch((err) => {
    setTimeout(() => {
      throw err;
    });
  });
}

/** Sends a request the main thread answers with a bridge-reply; `read` takes what the reply carries. */
function request<T>(callId: number, client: boolean, send: (requestId: number) => FromWorker, read: (reply: BridgeReply) => T): Promise<T> {
  return new Promise((resolve, reject) => {
    const requestId = ++nextRequest;
    waiters.set(requestId, { callId, client, resolve: (reply) => resolve(read(reply)), reject });
    post(send(requestId));
  });
}

/** Runs a call; resolves when the lane may move on: the call ended or parked. */
function run(m: RunMessage, code: string | undefined): Promise<void> {
  // a queued call the pool took back (cancelled, or moved to an idle worker) is not run
  if (m.claim !== undefined && Atomics.compareExchange(cells, m.claim, m.callId, 0) !== m.callId) return Promise.resolve();
  const { callId } = m;
  return new Promise<void>((release) => {
    /** Ends the call's present turn in the lane. */
    let leave = release;
    const hooks: CallHooks = {
      aborted: () => Atomics.load(cells, ABORT) === callId,
      progress: (progress, total, message) => post({ type: "progress", callId, progress, total, message }),
      log: (line) => post({ type: "log", callId, line }),
      bridge: (name, input) => request(callId, false, (requestId) => ({ type: "bridge", callId, requestId, name, input }), (r) => ({ value: r.value, rich: r.rich })),
      ask: (method, params) => {
        // a parked call keeps its module, and its memory, until its client answers: a worker holds a bounded number
        if (parked.size >= maxParked) {
          return Promise.reject(new Error(`${ASK_METHODS[method as AskMethod]}: refused: this sandbox worker already holds ${maxParked} calls waiting for their clients; try again shortly`));
        }
        return request(callId, true, (requestId) => ({ type: "ask", callId, requestId, method, params }), (r) => r.value);
      },
      clientWaits: () => {
        let n = 0;
        for (const w of waiters.values()) if (w.callId === callId && w.client) n++;
        return n;
      },
      park: () =>
        new Promise<boolean>((resume) => {
          parked.set(callId, (go) => {
            parked.delete(callId);
            if (!go) return resume(false);
            enqueue(() => new Promise<void>((r) => ((leave = r), resume(true))));
          });
          const waitingOn = [...waiters].filter(([, w]) => w.callId === callId).map(([id]) => id);
          post({ type: "parked", callId, waitingOn });
          leave();
        }),
    };
    const outcome: Promise<CallOutcome> =
      code === undefined
        ? Promise.resolve({ ok: false, error: { message: "The sandbox received no source for this call" }, logs: [], durationMs: 0 })
        : // the message was parsed from JSON for this call alone: it takes the source in place of a copy
          host!.run(Object.assign(m, { code }), hooks).catch((err) => {
            // the interpreter could not be reloaded: this worker is of no further use, so crash it and let the pool replace it
            setTimeout(() => {
              throw err;
            });
            return { ok: false, error: { message: "The sandbox worker failed; the call was not completed" }, logs: [], durationMs: 0 };
          });
    void outcome.then((o) => {
      for (const [id, w] of waiters) {
        if (w.callId !== callId) continue;
        waiters.delete(id);
        w.reject(new Error("the call ended"));
      }
      parked.delete(callId);
      post({ type: "done", callId, outcome: o, heapBytes: host!.heapBytes() });
      leave();
    });
  });
}

self.onmessage = async (event: MessageEvent<ToWorker | string>) => {
  const m = decodeMessage<ToWorker>(event.data);
  if (m.type === "init") {
    niceThisThread(m.nice ?? 0);
    cells = new Int32Array(m.abortFlag);
    maxParked = m.maxParked ?? maxParked;
    host = await QuickJsHost.create(m.memoryBytes);
    post({ type: "ready", tid: thisThreadId() });
  } else if (m.type === "bridge-reply") {
    const w = waiters.get(m.requestId);
    waiters.delete(m.requestId);
    if (m.ok) w?.resolve(m);
    else w?.reject(new Error(m.error ?? "tool call failed"));
  } else if (m.type === "bridge-waiting") {
    const w = waiters.get(m.requestId);
    if (w) w.client = m.on;
  } else if (m.type === "resume" || m.type === "cancel") {
    parked.get(m.callId)?.(m.type === "resume");
  } else if (m.type === "run") {
    // the source is taken on arrival, in message order, as the pool's mirror of this cache assumes (same rule: CodeCache)
    const code = m.code ?? (m.codeKey === null ? undefined : codes.get(m.codeKey));
    if (m.code !== undefined && m.codeKey !== null) codes.put(m.codeKey, m.code);
    enqueue(() => run(m, code));
  }
};
