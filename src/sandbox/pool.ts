/**
 * The worker pool every tool call and CODE-mode script goes through: N Bun
 * Workers, a bounded per-org fair queue, supervision (a terminated or crashed
 * worker is replaced; its call fails with a clear error), cancellation, and a
 * watchdog that terminates a worker whose call overran its deadline.
 *
 * Under load each worker also holds calls queued behind the running one, so it
 * goes from call to call without parking between them (bench/RESULTS.md). A
 * queued call is claimed through a shared cell: the worker claims it when it
 * starts it, the pool withdraws it (to cancel it, hand it to a worker that fell
 * idle, or requeue it when its worker is replaced) — whichever comes first wins.
 *
 * A call waiting on nothing but its client parks: its worker counts as free (parking.ts).
 */
import { workerEntries } from "../assets.ts";
import { isHostStackOverflow } from "./callError.ts";
import { runMessage, type CallRequest, type PoolOptions } from "./callRequest.ts";
import { DEFAULT_LIMITS, type CallLimits } from "./limits.ts";
import { FairQueue, QueueFullError } from "./fairQueue.ts";
import { Parking } from "./parking.ts";
import { armWatchdog, releasePosted, watchAbort, watchQueueWait, type WatchedPool } from "./postedWatch.ts";
import { failure, freeCell, newSlot, OVERRUN_MS, posted, SHORT_CALL_MS, runsShort, shortestQueue, waitedTooLong, warmestIdle, withdraw, type Job, type Posted, type Slot, type SlotTiming } from "./poolSlot.ts";
import { StuckThreads } from "./stuckThreads.ts";
import { decodeMessage, type CallOutcome, type FromWorker } from "./protocol.ts";

export type { CallRequest, PoolOptions } from "./callRequest.ts";

/** The sandbox worker pool. */
export class SandboxPool {
  private readonly slots: Slot[] = [];
  private readonly queue: FairQueue<Job>;
  private readonly defaults: CallLimits;
  private nextCallId = 0;
  private closed = false;
  /** Workers replaced after a crash, overrun or cancellation (for tests and metrics). */
  replaced = 0;
  private readonly stuck: StuckThreads;
  private readonly maxStuckPerOrg: number;
  private readonly depth: number;
  private readonly timing: SlotTiming;
  /** Runs dispatch again once queued calls may have waited long enough to move. */
  private rebalance?: Timer;
  private readonly parking: Parking;
  /** What the watches of posted calls (postedWatch.ts) reach of the pool. */
  private readonly watched: WatchedPool;

  private constructor(private readonly opts: PoolOptions) {
    this.queue = new FairQueue(opts.perOrgQueue, opts.totalQueue);
    this.defaults = { ...DEFAULT_LIMITS, ...opts.defaults, memoryBytes: opts.memoryBytes };
    this.stuck = new StuckThreads(opts.onStuck);
    this.maxStuckPerOrg = opts.maxStuckPerOrg ?? Math.max(1, opts.size);
    // native mode (`dzx dev`) has no claim cells: its worker runs whatever it is sent
    this.depth = opts.native ? 0 : Math.max(0, opts.queueDepth ?? 8);
    this.timing = { shortCallMs: opts.shortCallMs ?? SHORT_CALL_MS, overrunMs: opts.overrunMs ?? OVERRUN_MS };
    this.parking = new Parking(opts, {
      promote: (slot) => this.promote(slot),
      dispatch: () => this.dispatch(),
      arm: (slot, p) => this.arm(slot, p),
      release: (p) => this.release(p),
    });
    this.watched = {
      parking: this.parking,
      unqueue: (slot, p) => this.unqueue(slot, p),
      replace: (slot, culprit, message, limit) => this.replace(slot, culprit, message, limit),
    };
  }

  /** Starts the workers and resolves once all are ready. */
  static async start(opts: PoolOptions): Promise<SandboxPool> {
    const pool = new SandboxPool(opts);
    await Promise.all(Array.from({ length: Math.max(1, opts.size) }, () => pool.spawn()));
    return pool;
  }

  /** Runs a call; resolves with its outcome (never rejects). */
  run(req: CallRequest): Promise<CallOutcome> {
    if (this.closed) return Promise.resolve(failure("The sandbox is shutting down"));
    if (req.signal?.aborted) return Promise.resolve(failure("The call was cancelled", "cancelled"));
    // each stuck thread holds a core's spare cycles and its memory until its loop ends: an org may not pile them up
    const stuck = this.stuck.of(req.orgId);
    if (stuck >= this.maxStuckPerOrg) {
      return Promise.resolve(
        failure(`Calls are refused until earlier ones end: ${stuck} sandbox thread${stuck === 1 ? " is" : "s are"} still running code that could not be interrupted (e.g. a walk over a huge sparse array); try again in a minute`, "busy"),
      );
    }
    const limits: CallLimits = { ...this.defaults, ...req.limits, memoryBytes: Math.min(req.limits?.memoryBytes ?? this.defaults.memoryBytes, this.opts.memoryBytes) };
    return new Promise((resolve) => {
      const job: Job = { req, limits, settled: false, resolve: (o) => (job.settled ? undefined : ((job.settled = true), resolve(o))) };
      try {
        this.queue.push(req.orgId, job);
      } catch (e) {
        if (e instanceof QueueFullError) return resolve(failure(e.message, "busy"));
        throw e;
      }
      this.dispatch();
      if (!job.started) this.waitInQueue(job);
    });
  }

  /** A call that has to wait: time spent waiting counts against its deadline, and cancelling it takes it out. */
  private waitInQueue(job: Job): void {
    const { req, limits } = job;
    job.startBy ??= performance.now() + limits.timeoutMs;
    job.queueTimer = setTimeout(() => {
      if (this.queue.remove(req.orgId, job)) job.resolve(waitedTooLong(job));
    }, job.startBy - performance.now());
    req.signal?.addEventListener("abort", () => {
      if (this.queue.remove(req.orgId, job)) {
        clearTimeout(job.queueTimer);
        job.resolve(failure("The call was cancelled", "cancelled"));
      }
    });
  }

  /** Calls waiting for a worker. */
  get waiting(): number {
    return this.queue.size;
  }

  /** Workers in the pool. */
  get size(): number {
    return this.slots.length;
  }

  /** Calls queued inside workers behind their running ones (part of `waiting`). */
  get queuedInWorkers(): number {
    return this.slots.reduce((n, s) => n + s.queued.length, 0);
  }

  /** Terminated workers whose threads are still running (see StuckThreads). */
  get stuckThreads(): number {
    return this.stuck.count;
  }

  /** Calls parked in workers, waiting on their clients. */
  get parked(): number {
    return this.slots.reduce((n, s) => n + s.parked.size, 0);
  }

  /** Calls with a question to their client in flight (parked or not). */
  get asking(): number {
    return this.parking.asking;
  }

  /** Stops taking calls, fails waiting ones, and terminates the workers. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.rebalance);
    for (let job = this.queue.shift(); job; job = this.queue.shift()) job.resolve(failure("The sandbox is shutting down"));
    for (const slot of this.slots) {
      for (const p of slot.queued) this.queue.release(p.job.req.orgId);
      for (const p of [slot.running, ...slot.queued, ...slot.parked.values()]) {
        if (!p) continue;
        this.release(p);
        p.job.resolve(failure("The sandbox is shutting down"));
      }
      slot.running = undefined;
      slot.queued = [];
      slot.parked.clear();
      slot.worker.terminate();
    }
    this.slots.length = 0;
  }

  private spawn(): Promise<void> {
    const worker = this.opts.native
      ? new Worker(workerEntries.nativeSandbox, { env: this.opts.native.env } as WorkerOptions)
      : new Worker(workerEntries.sandbox);
    const slot = newSlot(worker, this.depth, this.timing);
    this.slots.push(slot);
    return new Promise((resolve) => {
      worker.onmessage = (event: MessageEvent<FromWorker | string>) => {
        const m = decodeMessage<FromWorker>(event.data);
        if (m.type === "ready") {
          slot.ready = true;
          slot.tid = m.tid;
          resolve();
          this.dispatch();
        } else this.onWorkerMessage(slot, m);
      };
      worker.onerror = (event) => {
        event.preventDefault?.();
        this.replace(slot, slot.running, "The sandbox worker crashed; the call was not completed");
        resolve();
      };
      worker.postMessage({ type: "init", abortFlag: slot.flag.buffer as SharedArrayBuffer, memoryBytes: this.opts.memoryBytes, nice: this.opts.nice, maxParked: this.opts.maxParkedPerWorker });
    });
  }

  /**
   * Hands waiting calls to workers. Short calls go first to a busy worker's queue
   * (the one with the fewest queued): a worker that is awake takes a message for
   * ~0.3 µs of the main thread's time, waking a parked one costs 6 µs and more
   * (bench/RESULTS.md). Then to idle workers, the most recently idle first (its
   * thread is the warmest); then one call behind each busy worker of long calls.
   * An idle worker takes over a call queued behind one that has run for a while.
   */
  private dispatch(): void {
    if (this.closed) return;
    for (const s of this.slots) if (s.parked.size > 0) this.parking.resumeIdle(s);
    let idleLeft = false;
    while (this.queue.ready > 0) {
      let slot = shortestQueue(this.slots, this.depth, true);
      if (slot) {
        this.post(slot, this.takeWaiting(true), true);
        continue;
      }
      slot = warmestIdle(this.slots);
      if (slot) {
        this.post(slot, this.takeWaiting(false), false);
        continue;
      }
      slot = shortestQueue(this.slots, this.depth, false);
      if (!slot) break;
      this.post(slot, this.takeWaiting(true), true);
    }
    for (const idle of this.slots) {
      if (!idle.ready || idle.running) continue;
      const p = this.takeBack();
      if (!p) {
        idleLeft = true;
        break;
      }
      this.post(idle, p.job, false);
    }
    // calls queued behind short calls wait for one to overrun before an idle worker takes them
    if (idleLeft && !this.rebalance && this.slots.some((s) => s.queued.length > 0)) {
      this.rebalance = setTimeout(() => {
        this.rebalance = undefined;
        this.dispatch();
      }, this.timing.overrunMs);
    }
  }

  /** The next waiting call, out of the fair queue (`held`: into a worker's queue). */
  private takeWaiting(held: boolean): Job {
    const job = this.queue.shift(held)!;
    clearTimeout(job.queueTimer);
    return job;
  }

  /** Takes back the oldest queued call a worker has not started yet, if any, unless that worker is busy with short calls. */
  private takeBack(): Posted | undefined {
    for (const s of this.slots) {
      if (runsShort(s)) continue;
      for (const p of s.queued) {
        if (!withdraw(s, p)) continue;
        this.unqueue(s, p);
        this.release(p);
        return p;
      }
    }
    return undefined;
  }

  /** Drops a call from the slot's queue; it no longer counts as waiting. */
  private unqueue(slot: Slot, p: Posted): void {
    const i = slot.queued.indexOf(p);
    if (i < 0) return;
    slot.queued.splice(i, 1);
    this.queue.release(p.job.req.orgId);
  }

  /** Sends a job to a worker: to run now, or (`queued`) after its running call. */
  private post(slot: Slot, job: Job, queued: boolean): void {
    if (job.req.signal?.aborted) {
      // cancelled while it changed hands (taken back from a worker, or requeued): its abort listeners have gone
      if (queued) this.queue.release(job.req.orgId);
      job.resolve(failure("The call was cancelled", "cancelled"));
      return;
    }
    // callIds stay positive int32s: they are compared in shared Int32 cells
    const callId = (this.nextCallId = (this.nextCallId % 0x7ffffffe) + 1);
    const { req, limits } = job;
    job.started = true;
    const posted: Posted = { job, callId };
    if (queued) {
      posted.cell = slot.cells.take()!;
      Atomics.store(slot.flag, posted.cell, callId);
      slot.queued.push(posted);
    } else slot.running = posted;
    // the source is cloned into the worker only when it does not hold it yet (native mode: a path, always sent)
    const cached = !this.opts.native && req.codeKey !== null && slot.codes.get(req.codeKey) === req.code;
    const msg = runMessage(req, limits, callId, posted.cell, !cached);
    try {
      slot.worker.postMessage(JSON.stringify(msg));
      if (!cached && !this.opts.native && req.codeKey !== null) slot.codes.put(req.codeKey, req.code);
    } catch (err) {
      // the message could not be cloned (e.g. an input nested deeper than the host's stack): nothing reached the worker
      if (queued) {
        Atomics.store(slot.flag, posted.cell!, 0);
        freeCell(slot, posted);
        this.unqueue(slot, posted);
      } else {
        slot.running = undefined;
        slot.idleSince = performance.now();
      }
      job.resolve(failure(isHostStackOverflow(err) ? "The input is nested too deeply to pass to the sandbox" : `The call could not be sent to the sandbox: ${(err as Error)?.message ?? String(err)}`));
      queueMicrotask(() => this.dispatch());
      return;
    }
    if (queued) watchQueueWait(this.watched, slot, posted);
    else this.arm(slot, posted);
    watchAbort(this.watched, slot, posted);
  }

  /** Starts the watchdog of the worker's running call (postedWatch.ts). */
  private arm(slot: Slot, p: Posted): void {
    armWatchdog(this.watched, slot, p);
  }

  /** The worker's running call (or none) is done with its turn: the oldest queued call starts now, else the worker is idle. */
  private promote(slot: Slot): void {
    const next = slot.queued.shift();
    slot.running = next;
    if (next) {
      this.queue.release(next.job.req.orgId);
      this.arm(slot, next);
    } else {
      slot.idleSince = performance.now();
      this.parking.resumeIdle(slot);
    }
  }


  private onWorkerMessage(slot: Slot, m: FromWorker): void {
    if (m.type === "ready") return;
    const p = posted(slot, m.callId);
    if (!p) return;
    const job = p.job;
    if (m.type === "done") {
      this.release(p);
      // the worker claimed this call before running it: its cell is free again
      freeCell(slot, p);
      // a call that waited on its client says nothing of how long calls take
      if (p.ranMs === undefined) slot.recentMs += ((m.outcome.durationMs || 0) - slot.recentMs) * 0.2;
      if (p === slot.running) this.promote(slot);
      else if (!slot.parked.delete(p.callId)) this.unqueue(slot, p);
      job.resolve(m.outcome);
      this.dispatch();
    } else if (m.type === "progress") {
      job.req.onProgress?.(m.progress, m.total, m.message);
    } else if (m.type === "log") {
      job.req.onLog?.(m.line);
    } else if (m.type === "parked") {
      this.parking.park(slot, p, m.waitingOn);
    } else if (m.type === "bridge" || m.type === "ask") {
      this.parking.request(slot, p, m);
    }
  }

  /** Stops a posted call's timers and listeners, and withdraws its questions to the client. */
  private release(p: Posted): void {
    releasePosted(this.parking, p);
  }

  /**
   * Terminates a worker, fails the call that overran or crashed it, requeues the
   * calls queued behind it that never started, and starts a replacement.
   */
  private replace(slot: Slot, culprit: Posted | undefined, message: string, limit?: string): void {
    if (!this.slots.includes(slot)) return;
    const requeue: Posted[] = [];
    const failed: Posted[] = slot.running ? [slot.running, ...slot.parked.values()] : [...slot.parked.values()];
    slot.parked.clear();
    for (const p of slot.queued) {
      (withdraw(slot, p) ? requeue : failed).push(p);
      this.queue.release(p.job.req.orgId);
    }
    slot.queued = [];
    // the org whose call the thread was running, should the thread outlive terminate()
    const orgId = (culprit ?? slot.running)?.job.req.orgId ?? "";
    slot.running = undefined;
    slot.ready = false;
    slot.worker.onmessage = null;
    slot.worker.onerror = null;
    slot.worker.terminate();
    if (slot.tid !== undefined) this.stuck.watch(slot.tid, orgId);
    this.slots.splice(this.slots.indexOf(slot), 1);
    for (const p of failed) {
      this.release(p);
      // a call caught in another's failure (it had started, the pool had not heard yet) is told so
      p.job.resolve(p === culprit || !culprit ? failure(message, limit) : failure("The sandbox worker was replaced; the call was not completed"));
    }
    // back at the head of the queue, oldest first
    for (const p of requeue.reverse()) {
      this.release(p);
      p.job.started = false;
      this.queue.unshift(p.job.req.orgId, p.job);
      this.waitInQueue(p.job);
    }
    if (this.closed) return;
    this.replaced++;
    this.opts.onReplaced?.(message);
    void this.spawn();
    this.dispatch();
  }
}
