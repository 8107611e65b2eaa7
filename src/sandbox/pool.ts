/**
 * The worker pool every tool call and CODE-mode script goes through: N Bun
 * Workers, a bounded per-org fair queue, supervision (a terminated or crashed
 * worker is replaced; its call fails with a clear error), cancellation, and a
 * watchdog that terminates a worker whose call overran its deadline.
 *
 * Under load each worker also holds one call queued behind the running one, so
 * it goes from call to call without waiting for the main thread (a parked
 * thread's wake-up cost ~25 µs of CPU per call; bench/RESULTS.md). The queued
 * call is claimed through a shared cell: the worker claims it when it starts
 * it, the pool withdraws it (to cancel it, hand it to a worker that fell idle,
 * or requeue it when its worker is replaced) — whichever comes first wins.
 */
import { isHostStackOverflow } from "./callError.ts";
import { DEFAULT_LIMITS, type CallLimits } from "./limits.ts";
import { FairQueue, QueueFullError } from "./fairQueue.ts";
import { ABORT, claimCell, failure, posted, waitedTooLong, type Job, type Posted, type Slot } from "./poolSlot.ts";
import { StuckThreads } from "./stuckThreads.ts";
import { CodeCache, decodeMessage, type CallOutcome, type EgressRules, type FromWorker, type RunMessage, type ToolContext } from "./protocol.ts";

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
  signal?: AbortSignal;
  onProgress?(progress: number, total?: number, message?: string): void;
  /** Answers `tools.<name>(input)` from CODE-mode scripts. */
  onBridge?(name: string, input: unknown): Promise<unknown>;
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
  /**
   * Trusted native mode (`dzx dev` only): `code` is a module file path run
   * directly in the worker, with only `env` visible as process.env.
   */
  native?: { env: Record<string, string> };
}

const NO_EGRESS_RULES: EgressRules = { allowHosts: [], denyHosts: [], allowPrivateHosts: [] };
const GRACE_MS = 1000;

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

  private constructor(private readonly opts: PoolOptions) {
    this.queue = new FairQueue(opts.perOrgQueue, opts.totalQueue);
    this.defaults = { ...DEFAULT_LIMITS, ...opts.defaults, memoryBytes: opts.memoryBytes };
    this.stuck = new StuckThreads(opts.onStuck);
    this.maxStuckPerOrg = opts.maxStuckPerOrg ?? Math.max(1, opts.size);
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

  /** Terminated workers whose threads are still running (see StuckThreads). */
  get stuckThreads(): number {
    return this.stuck.count;
  }

  /** Stops taking calls, fails waiting ones, and terminates the workers. */
  async close(): Promise<void> {
    this.closed = true;
    for (let job = this.queue.shift(); job; job = this.queue.shift()) job.resolve(failure("The sandbox is shutting down"));
    for (const slot of this.slots) {
      for (const p of [slot.running, this.takeNext(slot)]) {
        if (!p) continue;
        this.release(p);
        p.job.resolve(failure("The sandbox is shutting down"));
      }
      slot.running = undefined;
      slot.worker.terminate();
    }
    this.slots.length = 0;
  }

  private spawn(): Promise<void> {
    const worker = this.opts.native
      ? new Worker(new URL("./nativeWorker.ts", import.meta.url).href, { env: this.opts.native.env } as WorkerOptions)
      : new Worker(new URL("./worker.ts", import.meta.url).href);
    const shared = new SharedArrayBuffer(12);
    const slot: Slot = { worker, flag: new Int32Array(shared), ready: false, codes: new CodeCache(), idleSince: 0 };
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
      worker.postMessage({ type: "init", abortFlag: shared, memoryBytes: this.opts.memoryBytes, nice: this.opts.nice });
    });
  }

  /**
   * Hands waiting calls to idle workers, the most recently idle first: its thread
   * is the warmest. With none idle, queues one call behind each running one (not
   * behind a CODE-mode script, which may wait on calls of its own). A worker idle
   * with nothing waiting takes over a call still queued in another worker.
   */
  private dispatch(): void {
    if (this.closed) return;
    while (this.queue.ready > 0) {
      let slot: Slot | undefined;
      for (const s of this.slots) if (s.ready && !s.running && (!slot || s.idleSince > slot.idleSince)) slot = s;
      if (!slot) break;
      const job = this.queue.shift()!;
      clearTimeout(job.queueTimer);
      this.post(slot, job, false);
    }
    if (!this.opts.native) {
      for (const s of this.slots) {
        if (this.queue.ready === 0) break;
        if (!s.ready || !s.running || s.next || s.running.job.req.kind === "script") continue;
        const job = this.queue.shift(true)!;
        clearTimeout(job.queueTimer);
        this.post(s, job, true);
      }
    }
    for (const idle of this.slots) {
      if (!idle.ready || idle.running) continue;
      const from = this.slots.find((s) => s.next && this.withdraw(s));
      if (!from) break;
      const p = this.takeNext(from)!;
      this.release(p);
      this.post(idle, p.job, false);
    }
  }

  /** Takes back the call queued in a worker; false once the worker has started it. */
  private withdraw(slot: Slot): boolean {
    const p = slot.next;
    return !!p && p.cell !== undefined && Atomics.compareExchange(slot.flag, p.cell, p.callId, 0) === p.callId;
  }

  /** Clears the slot's queued call, which then no longer counts as waiting. */
  private takeNext(slot: Slot): Posted | undefined {
    const p = slot.next;
    slot.next = undefined;
    if (p) this.queue.release(p.job.req.orgId);
    return p;
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
      posted.cell = claimCell(slot);
      Atomics.store(slot.flag, posted.cell, callId);
      slot.next = posted;
    } else slot.running = posted;
    // the source is cloned into the worker only when it does not hold it yet (native mode: a path, always sent)
    const cached = !this.opts.native && req.codeKey !== null && slot.codes.get(req.codeKey) === req.code;
    const msg: RunMessage = {
      type: "run",
      callId,
      claim: posted.cell,
      codeKey: req.codeKey,
      code: cached ? undefined : req.code,
      kind: req.kind,
      input: req.input ?? {},
      context: { requestId: "", endUserId: null, server: null, secrets: {}, ...req.context },
      limits,
      egress: req.egress ?? NO_EGRESS_RULES,
      toolNames: req.toolNames ?? [],
    };
    try {
      slot.worker.postMessage(JSON.stringify(msg));
      if (!cached && !this.opts.native && req.codeKey !== null) slot.codes.put(req.codeKey, req.code);
    } catch (err) {
      // the message could not be cloned (e.g. an input nested deeper than the host's stack): nothing reached the worker
      if (queued) {
        Atomics.store(slot.flag, posted.cell!, 0);
        this.takeNext(slot);
      } else {
        slot.running = undefined;
        slot.idleSince = performance.now();
      }
      job.resolve(failure(isHostStackOverflow(err) ? "The input is nested too deeply to pass to the sandbox" : `The call could not be sent to the sandbox: ${(err as Error)?.message ?? String(err)}`));
      queueMicrotask(() => this.dispatch());
      return;
    }
    if (!queued) this.arm(slot, posted);
    else {
      posted.waitTimer = setTimeout(() => {
        if (slot.next !== posted || !this.withdraw(slot)) return;
        this.takeNext(slot);
        this.release(posted);
        job.resolve(waitedTooLong(job));
      }, (job.startBy ?? performance.now() + limits.timeoutMs) - performance.now());
    }
    if (req.signal) {
      const onAbort = () => {
        if (slot.next === posted && this.withdraw(slot)) {
          // it never started: nothing to stop
          this.takeNext(slot);
          this.release(posted);
          job.resolve(failure("The call was cancelled", "cancelled"));
          return;
        }
        Atomics.store(slot.flag, ABORT, callId);
        posted.graceTimer = setTimeout(() => this.replace(slot, posted, "The call was cancelled", "cancelled"), GRACE_MS);
      };
      req.signal.addEventListener("abort", onAbort, { once: true });
      posted.detachAbort = () => req.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** The interrupt handler should stop the code at the deadline; if it cannot, the worker goes. */
  private arm(slot: Slot, p: Posted): void {
    clearTimeout(p.waitTimer);
    p.watchdog = setTimeout(() => this.replace(slot, p, `Timed out after ${p.job.limits.timeoutMs} ms`, "timeout"), p.job.limits.timeoutMs + GRACE_MS);
  }

  private onWorkerMessage(slot: Slot, m: FromWorker): void {
    if (m.type === "ready") return;
    const p = posted(slot, m.callId);
    if (!p) return;
    const job = p.job;
    if (m.type === "done") {
      this.release(p);
      if (p === slot.running) {
        // the queued call starts now
        slot.running = this.takeNext(slot);
        if (slot.running) this.arm(slot, slot.running);
        else slot.idleSince = performance.now();
      } else this.takeNext(slot);
      job.resolve(m.outcome);
      this.dispatch();
    } else if (m.type === "progress") {
      job.req.onProgress?.(m.progress, m.total, m.message);
    } else if (m.type === "bridge") {
      const reply = (ok: boolean, value?: unknown, error?: string) =>
        posted(slot, m.callId) &&
        slot.worker.postMessage({ type: "bridge-reply", callId: m.callId, requestId: m.requestId, ok, value, error });
      if (!job.req.onBridge) reply(false, undefined, "tools.* is only available in CODE mode");
      else job.req.onBridge(m.name, m.input).then((v) => reply(true, v), (e) => reply(false, undefined, (e as Error)?.message ?? String(e)));
    }
  }

  /** Stops a posted job's timers and listeners. */
  private release(p: Posted): void {
    clearTimeout(p.waitTimer);
    clearTimeout(p.watchdog);
    clearTimeout(p.graceTimer);
    p.detachAbort?.();
    p.detachAbort = undefined;
  }

  /**
   * Terminates a worker, fails the call that overran or crashed it, requeues the
   * call queued behind it (it never started), and starts a replacement.
   */
  private replace(slot: Slot, culprit: Posted | undefined, message: string, limit?: string): void {
    if (!this.slots.includes(slot)) return;
    const withdrawn = !!slot.next && this.withdraw(slot);
    const next = this.takeNext(slot);
    const queuedBehind = withdrawn ? next : undefined;
    const failed = [slot.running, next].filter((p): p is Posted => !!p && p !== queuedBehind);
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
    if (queuedBehind) {
      this.release(queuedBehind);
      queuedBehind.job.started = false;
      this.queue.unshift(queuedBehind.job.req.orgId, queuedBehind.job);
      this.waitInQueue(queuedBehind.job);
    }
    if (this.closed) return;
    this.replaced++;
    this.opts.onReplaced?.(message);
    void this.spawn();
    this.dispatch();
  }
}
