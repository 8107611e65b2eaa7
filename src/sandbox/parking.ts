/**
 * Calls set aside while they wait on their clients (SPEC "Tools may ask the
 * client": waiting holds no sandbox worker). A worker parks a call that waits on
 * nothing but its client's answers (or on tools.* calls whose tools do); the pool
 * then counts that worker free. Every request a call makes of the main thread
 * (tools.*, questions to the client) is answered here; once an answer a parked
 * call waits for has gone to its worker, the worker takes the call back as soon
 * as it has nothing else running or queued.
 */
import { AskRelay } from "./askRelay.ts";
import type { PoolOptions } from "./callRequest.ts";
import { failure, hasResumable, posted, type Posted, type Slot } from "./poolSlot.ts";
import type { BridgeAnswer, BridgeReply, FromWorker } from "./protocol.ts";

/** What parking needs of the pool. */
export interface ParkingPool {
  /** The worker's running turn ended: the next queued call runs, or the worker is idle. */
  promote(slot: Slot): void;
  dispatch(): void;
  /** Starts the watchdog of the worker's running call. */
  arm(slot: Slot, p: Posted): void;
  /** Stops a posted call's timers and listeners (and withdraws its questions). */
  release(p: Posted): void;
}

/** The parked calls of one pool, and the requests of its calls. */
export class Parking {
  private readonly asks: AskRelay;

  constructor(
    opts: Pick<PoolOptions, "askTimeoutMs" | "maxAskingPerOrg">,
    private readonly pool: ParkingPool,
  ) {
    this.asks = new AskRelay(opts.askTimeoutMs ?? 600_000, opts.maxAskingPerOrg ?? 64);
  }

  /** Calls with a question to their client in flight (parked or not). */
  get asking(): number {
    return this.asks.size;
  }

  /** A request of a call (tools.* or a question to the client), answered when its work ends. */
  request(slot: Slot, p: Posted, m: Extract<FromWorker, { type: "bridge" | "ask" }>): void {
    const { req } = p.job;
    (p.outstanding ??= new Set()).add(m.requestId);
    const reply = (answer: BridgeAnswer) => this.answer(slot, p, { requestId: m.requestId, ok: true, ...answer });
    const failed = (e: unknown) => this.answer(slot, p, { requestId: m.requestId, ok: false, error: (e as Error)?.message ?? String(e) });
    if (m.type === "ask") {
      this.asks.ask(req, (p.questions ??= new Set()), m.method, m.params).then((value) => reply({ value }), failed);
      return;
    }
    if (!req.onBridge) return failed(new Error("tools.* is only available in CODE mode"));
    // the tool it calls waits on the client, or no longer does: the worker may park the script meanwhile
    const waiting = (on: boolean) => {
      if (posted(slot, p.callId) === p && p.outstanding?.has(m.requestId)) slot.worker.postMessage({ type: "bridge-waiting", callId: p.callId, requestId: m.requestId, on });
    };
    req.onBridge(m.name, m.input, waiting).then(reply, failed);
  }

  /** The worker parked its running call: its time stops counting and the worker takes other calls. */
  park(slot: Slot, p: Posted, waitingOn: number[]): void {
    if (p !== slot.running) return;
    clearTimeout(p.watchdog);
    p.ranMs = (p.ranMs ?? 0) + (performance.now() - (p.since ?? performance.now()));
    slot.parked.set(p.callId, p);
    // an answer sent before the worker parked it: the call may go on at once
    p.resumable = waitingOn.some((id) => !p.outstanding?.has(id));
    if (p.job.req.signal?.aborted) this.cancel(slot, p);
    this.pool.promote(slot);
    this.pool.dispatch();
  }

  /** A worker with nothing running or queued takes back the parked call an answer came for. */
  resumeIdle(slot: Slot): boolean {
    if (!slot.ready || slot.running || slot.queued.length > 0 || !hasResumable(slot)) return false;
    for (const p of slot.parked.values()) {
      if (!p.resumable) continue;
      p.resumable = false;
      slot.parked.delete(p.callId);
      slot.running = p;
      this.pool.arm(slot, p);
      slot.worker.postMessage({ type: "resume", callId: p.callId });
      return true;
    }
    return false;
  }

  /** A parked call was cancelled: its client gets no answer, and its worker lets it go. */
  cancel(slot: Slot, p: Posted): void {
    slot.parked.delete(p.callId);
    this.pool.release(p);
    slot.worker.postMessage({ type: "cancel", callId: p.callId });
    p.job.resolve(failure("The call was cancelled", "cancelled"));
  }

  /** The call ended: what it still asks its client is withdrawn. */
  withdraw(p: Posted): void {
    if (p.questions?.size) this.asks.end(p.job.req, p.questions);
  }

  /** Answers a request of a call unless the call has ended; a parked call may go on then. */
  private answer(slot: Slot, p: Posted, reply: Omit<BridgeReply, "type" | "callId">): void {
    if (posted(slot, p.callId) !== p) return;
    p.outstanding?.delete(reply.requestId);
    slot.worker.postMessage({ type: "bridge-reply", callId: p.callId, ...reply } satisfies BridgeReply);
    if (slot.parked.get(p.callId) === p) {
      p.resumable = true;
      this.resumeIdle(slot);
    }
  }
}
