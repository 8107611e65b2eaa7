/**
 * The worker pool every tool call and CODE-mode script goes through: N Bun
 * Workers, a bounded per-org fair queue, supervision (a terminated or crashed
 * worker is replaced; its call fails with a clear error), cancellation, and a
 * watchdog that terminates a worker whose call overran its deadline.
 */
import { isHostStackOverflow } from "./callError.ts";
import { DEFAULT_LIMITS, type CallLimits } from "./limits.ts";
import { FairQueue, QueueFullError } from "./fairQueue.ts";
import { CodeCache, type CallOutcome, type EgressRules, type FromWorker, type RunMessage, type ToolContext } from "./protocol.ts";

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
  /**
   * Trusted native mode (`dzx dev` only): `code` is a module file path run
   * directly in the worker, with only `env` visible as process.env.
   */
  native?: { env: Record<string, string> };
}

interface Job {
  req: CallRequest;
  limits: CallLimits;
  resolve(outcome: CallOutcome): void;
  settled: boolean;
  /** Handed to a worker (or failed on the way). */
  started?: boolean;
  queueTimer?: Timer;
}

interface Slot {
  worker: Worker;
  flag: Int32Array;
  ready: boolean;
  /** The sources this worker holds (a mirror of its own cache). */
  codes: CodeCache;
  /** performance.now() when the worker last became idle. */
  idleSince: number;
  job?: Job;
  callId?: number;
  watchdog?: Timer;
  graceTimer?: Timer;
  detachAbort?: () => void;
}

const NO_EGRESS_RULES: EgressRules = { allowHosts: [], denyHosts: [], allowPrivateHosts: [] };
const GRACE_MS = 1000;

function failure(message: string, limit?: string): CallOutcome {
  return { ok: false, error: limit ? { message, limit } : { message }, logs: [], durationMs: 0 };
}

/** The sandbox worker pool. */
export class SandboxPool {
  private readonly slots: Slot[] = [];
  private readonly queue: FairQueue<Job>;
  private readonly defaults: CallLimits;
  private nextCallId = 0;
  private closed = false;
  /** Workers replaced after a crash, overrun or cancellation (for tests and metrics). */
  replaced = 0;

  private constructor(private readonly opts: PoolOptions) {
    this.queue = new FairQueue(opts.perOrgQueue, opts.totalQueue);
    this.defaults = { ...DEFAULT_LIMITS, ...opts.defaults, memoryBytes: opts.memoryBytes };
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
      // a call that has to wait: time spent waiting counts against its deadline (no timer for one started at once)
      if (job.started) return;
      job.queueTimer = setTimeout(() => {
        if (this.queue.remove(req.orgId, job)) job.resolve(failure(`Timed out after ${limits.timeoutMs} ms waiting for a sandbox worker`, "timeout"));
      }, limits.timeoutMs);
      req.signal?.addEventListener("abort", () => {
        if (this.queue.remove(req.orgId, job)) {
          clearTimeout(job.queueTimer);
          job.resolve(failure("The call was cancelled", "cancelled"));
        }
      });
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

  /** Stops taking calls, fails waiting ones, and terminates the workers. */
  async close(): Promise<void> {
    this.closed = true;
    for (let job = this.queue.shift(); job; job = this.queue.shift()) job.resolve(failure("The sandbox is shutting down"));
    for (const slot of this.slots) {
      if (slot.job) slot.job.resolve(failure("The sandbox is shutting down"));
      this.clearSlot(slot);
      slot.worker.terminate();
    }
    this.slots.length = 0;
  }

  private spawn(): Promise<void> {
    const worker = this.opts.native
      ? new Worker(new URL("./nativeWorker.ts", import.meta.url).href, { env: this.opts.native.env } as WorkerOptions)
      : new Worker(new URL("./worker.ts", import.meta.url).href);
    const shared = new SharedArrayBuffer(4);
    const slot: Slot = { worker, flag: new Int32Array(shared), ready: false, codes: new CodeCache(), idleSince: 0 };
    this.slots.push(slot);
    return new Promise((resolve) => {
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const m = event.data;
        if (m.type === "ready") {
          slot.ready = true;
          resolve();
          this.dispatch();
        } else this.onWorkerMessage(slot, m);
      };
      worker.onerror = (event) => {
        event.preventDefault?.();
        this.replace(slot, "The sandbox worker crashed; the call was not completed");
        resolve();
      };
      worker.postMessage({ type: "init", abortFlag: shared, memoryBytes: this.opts.memoryBytes });
    });
  }

  /**
   * Hands waiting calls to idle workers, the most recently idle first: its thread
   * is the warmest. Sending back-to-back calls to another worker instead, whose
   * context was ready, gave a lower p50 (~170 vs ~210 µs) but a higher mean and
   * p99 on the shared 2-core VM: a parked thread resumes slowly, and the other
   * worker's context build competes for the cores (bench/RESULTS.md).
   */
  private dispatch(): void {
    while (!this.closed && this.queue.size > 0) {
      let slot: Slot | undefined;
      for (const s of this.slots) if (s.ready && !s.job && (!slot || s.idleSince > slot.idleSince)) slot = s;
      const job = slot && this.queue.shift();
      if (!slot || !job) return;
      clearTimeout(job.queueTimer);
      this.start(slot, job);
    }
  }

  private start(slot: Slot, job: Job): void {
    const callId = ++this.nextCallId;
    const { req, limits } = job;
    job.started = true;
    Atomics.store(slot.flag, 0, 0);
    slot.job = job;
    slot.callId = callId;
    // the source is cloned into the worker only when it does not hold it yet (native mode: a path, always sent)
    const cached = !this.opts.native && req.codeKey !== null && slot.codes.get(req.codeKey) === req.code;
    const msg: RunMessage = {
      type: "run",
      callId,
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
      slot.worker.postMessage(msg);
      if (!cached && !this.opts.native && req.codeKey !== null) slot.codes.put(req.codeKey, req.code);
    } catch (err) {
      // the message could not be cloned (e.g. an input nested deeper than the host's stack): nothing reached the worker
      this.clearSlot(slot);
      job.resolve(failure(isHostStackOverflow(err) ? "The input is nested too deeply to pass to the sandbox" : `The call could not be sent to the sandbox: ${(err as Error)?.message ?? String(err)}`));
      queueMicrotask(() => this.dispatch());
      return;
    }
    // the interrupt handler should stop the code at the deadline; if it cannot, the worker goes
    slot.watchdog = setTimeout(() => this.replace(slot, `Timed out after ${limits.timeoutMs} ms`, "timeout"), limits.timeoutMs + GRACE_MS);
    if (req.signal) {
      const onAbort = () => {
        Atomics.store(slot.flag, 0, 1);
        slot.graceTimer = setTimeout(() => this.replace(slot, "The call was cancelled", "cancelled"), GRACE_MS);
      };
      req.signal.addEventListener("abort", onAbort, { once: true });
      slot.detachAbort = () => req.signal?.removeEventListener("abort", onAbort);
    }
  }

  private onWorkerMessage(slot: Slot, m: FromWorker): void {
    if (m.type === "ready" || !slot.job || m.callId !== slot.callId) return;
    const job = slot.job;
    if (m.type === "done") {
      this.clearSlot(slot);
      job.resolve(m.outcome);
      this.dispatch();
    } else if (m.type === "progress") {
      job.req.onProgress?.(m.progress, m.total, m.message);
    } else if (m.type === "bridge") {
      const reply = (ok: boolean, value?: unknown, error?: string) =>
        slot.callId === m.callId && slot.worker.postMessage({ type: "bridge-reply", callId: m.callId, requestId: m.requestId, ok, value, error });
      if (!job.req.onBridge) reply(false, undefined, "tools.* is only available in CODE mode");
      else job.req.onBridge(m.name, m.input).then((v) => reply(true, v), (e) => reply(false, undefined, (e as Error)?.message ?? String(e)));
    }
  }

  private clearSlot(slot: Slot): void {
    clearTimeout(slot.watchdog);
    clearTimeout(slot.graceTimer);
    slot.detachAbort?.();
    slot.job = undefined;
    slot.callId = undefined;
    slot.detachAbort = undefined;
    slot.idleSince = performance.now();
  }

  /** Terminates a worker, fails its call, and starts a replacement. */
  private replace(slot: Slot, message: string, limit?: string): void {
    const job = slot.job;
    this.clearSlot(slot);
    slot.ready = false;
    slot.worker.onmessage = null;
    slot.worker.onerror = null;
    slot.worker.terminate();
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    job?.resolve(failure(message, limit));
    if (this.closed) return;
    this.replaced++;
    void this.spawn();
  }
}
