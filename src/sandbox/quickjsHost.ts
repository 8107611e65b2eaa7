/**
 * Runs one call inside a fresh QuickJS context (inside a worker).
 *
 * Limits: the wasm memory has a hard maximum (QuickJS's own memory limit does not
 * bound large buffers in this build), the interrupt handler enforces the deadline
 * and cancellation, the stack size bounds recursion, and output/log/timer/fetch
 * counts are capped here. Nothing of the host is reachable but the bridge below.
 */
import releaseSync from "@jitl/quickjs-wasmfile-release-sync";
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSHandle, type QuickJSRuntime, type QuickJSWASMModule } from "quickjs-emscripten-core";
import { describeError, isHostStackOverflow, isModuleFault, stopError, type CallError, type Stop } from "./callError.ts";
import { CallLog } from "./callLog.ts";
import { HostBridge } from "./hostBridge.ts";
import { formatArg, prepareContext, type PreparedContext } from "./preparedContext.ts";
import type { CallOutcome, RunMessage } from "./protocol.ts";
import { serializeResult } from "./resultJson.ts";

const PAGE = 64 * 1024;
/** Room for the interpreter itself beside the call's heap. */
const BASE_BYTES = 24 * 1024 * 1024;
/** Calls served by one runtime before it is replaced anyway (bounds fragmentation and atom growth). */
const RUNTIME_CALLS = 500;

/** Hooks the worker gives a call: progress and CODE-mode tool calls go to the main thread. */
export interface CallHooks {
  aborted(): boolean;
  progress(progress: number, total?: number, message?: string): void;
  bridge(name: string, input: unknown): Promise<unknown>;
}

/** A QuickJS wasm module and the memory it may grow into. */
interface Engine {
  mod: QuickJSWASMModule;
  memory: WebAssembly.Memory;
}

/**
 * The interpreter compiled once per worker, so a renewed module instantiates it
 * again without recompiling (undefined: the variant loads the file itself).
 */
let compiled: Promise<WebAssembly.Module | undefined> | undefined;

/** Loads the wasm module with its memory capped at the call heap plus interpreter room. */
async function loadEngine(memoryBytes: number): Promise<Engine> {
  compiled ??= (async () => {
    try {
      return await WebAssembly.compile(await Bun.file(Bun.resolveSync("@jitl/quickjs-wasmfile-release-sync/wasm", import.meta.dir)).arrayBuffer());
    } catch {
      return undefined;
    }
  })();
  const pages = Math.ceil((memoryBytes + BASE_BYTES) / PAGE);
  const memory = new WebAssembly.Memory({ initial: Math.min(256, pages), maximum: pages });
  const wasmModule = await compiled;
  const variant = newVariant(releaseSync as never, wasmModule ? { wasmMemory: memory, wasmModule } : { wasmMemory: memory });
  const mod = await newQuickJSWASMModuleFromVariant(variant as never);
  return { mod, memory };
}

/** A QuickJS module with a hard memory ceiling; one call at a time. */
export class QuickJsHost {
  /**
   * Calls share a runtime (creating and freeing one costs more than the call) but
   * each gets a fresh context, so no JS value crosses calls. The runtime is
   * replaced when a call leaves jobs behind or breaches a limit; the whole module
   * is replaced when its state cannot be trusted (see `renewSoon`).
   */
  private runtime?: QuickJSRuntime;
  private runtimeCalls = 0;
  /** The next call's context, made while the worker is idle so calls skip that cost. */
  private prepared?: PreparedContext;
  /** Set while a new module loads; the next call waits for it. */
  private renewal?: Promise<void>;
  /** A call is running: no context is prepared meanwhile (a call that breaches a limit frees the runtime). */
  private busy = false;

  private constructor(
    private engine: Engine,
    private readonly memoryBytes: number,
  ) {}

  /** Loads a host whose calls may use `memoryBytes` of heap. */
  static async create(memoryBytes: number): Promise<QuickJsHost> {
    return new QuickJsHost(await loadEngine(memoryBytes), memoryBytes);
  }

  /** Bytes of wasm memory in use (it only grows). */
  heapBytes(): number {
    return this.engine.memory.buffer.byteLength;
  }

  /**
   * True once the heap has grown close to its hard maximum: within an eighth of the
   * limit (at least a MiB), since one failed allocation — a queue or array doubling —
   * can ask for megabytes while the heap is still that far below the ceiling.
   */
  private atCeiling(): boolean {
    const slack = Math.max(1024 * 1024, this.memoryBytes / 8);
    return this.heapBytes() + slack >= Math.ceil((this.memoryBytes + BASE_BYTES) / PAGE) * PAGE;
  }

  private takeRuntime(): QuickJSRuntime {
    if (!this.runtime || this.runtimeCalls >= RUNTIME_CALLS) {
      if (!this.dropRuntime()) throw new Error("the previous runtime could not be freed");
      this.runtime = this.engine.mod.newRuntime();
    }
    this.runtimeCalls++;
    return this.runtime;
  }

  /** Frees the runtime; false when freeing it failed inside the module (which is then renewed). */
  private dropRuntime(): boolean {
    const rt = this.runtime;
    this.runtime = undefined;
    this.runtimeCalls = 0;
    try {
      rt?.dispose();
      return true;
    } catch {
      // QuickJS aborts on objects still alive at free: the module's heap and stack are left mid-way
      this.renewSoon();
      return false;
    }
  }

  /**
   * Replaces the wasm module with a fresh one (new memory, new stack). Needed when
   * the host stack overflowed inside it, it trapped or aborted, or its heap reached
   * the ceiling: a later `throw null` must not read as exhausted memory, and a heap
   * grown to the maximum stays that size.
   */
  private renewSoon(): void {
    this.runtime = undefined;
    this.runtimeCalls = 0;
    this.prepared = undefined;
    this.renewal ??= loadEngine(this.memoryBytes).then((engine) => {
      this.engine = engine;
      this.renewal = undefined;
      this.prepareSoon();
    });
  }

  /**
   * Prepares the next context right after the current call, off its path.
   * setImmediate, not setTimeout(0): Bun clamps the latter to ~1 ms, so a call
   * arriving sooner (back to back, or under load: every call) paid for its own context.
   */
  private prepareSoon(): void {
    setImmediate(() => {
      if (this.prepared || this.renewal || this.busy) return;
      try {
        this.prepared = prepareContext(this.takeRuntime());
      } catch {
        this.dropRuntime();
      }
    });
  }

  /** Runs a call to completion; never throws (but a failed module reload rejects). */
  async run(msg: RunMessage & { code: string }, hooks: CallHooks): Promise<CallOutcome> {
    if (this.renewal) await this.renewal;
    const started = performance.now();
    const { limits } = msg;
    const deadline = Date.now() + limits.timeoutMs;
    const log = new CallLog(msg.context.secrets, limits.logBytes);
    const finish = (outcome: Omit<CallOutcome, "logs" | "durationMs">): CallOutcome => ({
      ...outcome,
      logs: log.lines,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
    const fail = (error: CallError) => finish({ ok: false, error });

    let stop: Stop | undefined;
    /** The module's state can no longer be trusted: nothing more is called in it. */
    let broken = false;
    const overflowed = () => {
      stop = "stack";
      broken = true;
    };
    let clean = false;
    let prep: PreparedContext;
    try {
      prep = this.prepared ?? prepareContext(this.takeRuntime());
    } catch (err) {
      this.dropRuntime();
      return fail({ message: `The sandbox could not start the call: ${(err as Error).message}` });
    }
    this.prepared = undefined;
    this.busy = true;
    const { rt, ctx } = prep;
    rt.setMemoryLimit(limits.memoryBytes);
    rt.setMaxStackSize(limits.stackBytes);
    rt.setInterruptHandler(() => {
      try {
        if (hooks.aborted()) stop = "cancelled";
        else if (Date.now() > deadline) stop = "timeout";
      } catch (err) {
        if (isHostStackOverflow(err)) overflowed();
        else throw err;
      }
      return stop !== undefined;
    });
    const describe = (handle: QuickJSHandle) => describeError(ctx, handle, limits, this.atCeiling());
    const handles: QuickJSHandle[] = prep.handles;
    const keep = (h: QuickJSHandle) => (handles.push(h), h);
    const host = new HostBridge({ ctx, msg, hooks, deadline, log: (level, text) => log.push(level, text), overflowed });

    try {
      prep.bridge = host.bridge();
      const source = msg.kind === "script" ? `export default async (input, context) => {\n${msg.code}\n};` : msg.code;
      const loaded = ctx.evalCode(source, "tool.js", { type: "module" });
      if (loaded.error) {
        const e = describe(loaded.error);
        loaded.error.dispose();
        return fail(stop ? stopError(stop, limits) : e.limit ? e : { message: `The tool failed to load: ${e.message}` });
      }
      const ns = keep(loaded.value);
      const fnHandle = keep(ctx.getProp(ns, "default"));
      if (msg.kind === "check") {
        return ctx.typeof(fnHandle) === "function"
          ? finish({ ok: true })
          : fail({ message: "Tool source must export a default function: export default async (input, context) => { ... }" });
      }
      if (ctx.typeof(fnHandle) !== "function") {
        return fail({ message: "The tool module must export a default function: export default async (input, context) => { ... }" });
      }
      let inputText: string;
      try {
        inputText = JSON.stringify(msg.input ?? {});
      } catch {
        return fail({ message: "The input is nested too deeply to pass to the tool" });
      }
      const parsed = ctx.callFunction(prep.parse, ctx.undefined, keep(ctx.newString(inputText)));
      if (parsed.error) {
        const e = describe(parsed.error);
        parsed.error.dispose();
        return fail(stop ? stopError(stop, limits) : { message: `The input cannot be passed to the tool: ${e.message}` });
      }
      const input = keep(parsed.value);
      const context = keep(ctx.unwrapResult(ctx.callFunction(prep.parse, ctx.undefined, keep(ctx.newString(JSON.stringify(msg.context))))));
      for (const [name, impl] of [
        ["progress", (p?: QuickJSHandle, t?: QuickJSHandle, m?: QuickJSHandle) => void prep.bridge?.progress(p, t, m)],
        ["log", (level?: QuickJSHandle, data?: QuickJSHandle) => void prep.bridge?.log(formatArg(ctx, level), () => formatArg(ctx, data))],
      ] as const) {
        const f = ctx.newFunction(name, host.guarded(impl as (...a: QuickJSHandle[]) => undefined));
        ctx.setProp(context, name, f);
        f.dispose();
      }
      for (const part of ["secrets", "server"]) {
        const h = ctx.getProp(context, part);
        if (ctx.typeof(h) === "object") ctx.callFunction(prep.freeze, ctx.undefined, h).dispose();
        h.dispose();
      }
      ctx.callFunction(prep.freeze, ctx.undefined, context).dispose();
      const called = ctx.callFunction(fnHandle, ctx.undefined, input, context);
      if (called.error) {
        const e = describe(called.error);
        called.error.dispose();
        return fail(stop ? stopError(stop, limits) : e);
      }
      const promise = keep(called.value);

      for (;;) {
        const jobs = rt.executePendingJobs(10_000);
        if (stop) {
          jobs.error?.dispose();
          return fail(stopError(stop, limits));
        }
        if (jobs.error) {
          // a job's own exception goes to its promise; what reaches here is the runtime failing to run it
          const e = describe(jobs.error);
          jobs.error.dispose();
          if (e.limit) return fail(e);
        }
        const state = ctx.getPromiseState(promise);
        if (state.type === "fulfilled") {
          const outcome = serializeResult(prep, state.value, !state.notAPromise, limits, describe);
          if (stop) return fail(stopError(stop, limits));
          clean = !outcome.error?.limit;
          return finish(outcome);
        }
        if (state.type === "rejected") {
          const e = describe(state.error);
          state.error.dispose();
          clean = !e.limit;
          return fail(stop ? stopError(stop, limits) : e);
        }
        if (rt.hasPendingJob()) continue;
        if (host.pending === 0) {
          // memory ran out while queueing a job: the job is lost and the promise can never settle
          if (this.atCeiling()) return fail(stopError("memory", limits));
          return fail({ message: "The tool returned a promise that never settles (nothing left to wait for)" });
        }
        // wait for a host operation, re-checking the deadline and the abort flag now and then
        await host.waitForHost(Math.max(1, Math.min(50, deadline - Date.now())));
        if (hooks.aborted()) stop = "cancelled";
        else if (Date.now() > deadline) stop = "timeout";
        if (stop) return fail(stopError(stop, limits));
      }
    } catch (err) {
      // a host-side failure is still the call's failure; one from inside the module retires the module
      if (isHostStackOverflow(err)) overflowed();
      else if (isModuleFault(err)) broken = true;
      if (stop) return fail(stopError(stop, limits));
      const m = (err as Error)?.message ?? "";
      if (/memory|alloc/i.test(m)) return fail(stopError("memory", limits));
      return fail({ message: m ? `The tool failed: ${m.slice(0, 2000)}` : "The tool failed" });
    } finally {
      this.busy = false;
      prep.bridge = undefined;
      // nothing is freed in a module about to be discarded: its state may be mid-way
      const discard = broken || this.atCeiling();
      host.close(!discard);
      if (discard) this.renewSoon();
      else {
        for (const h of handles.reverse()) {
          try {
            if (h.alive) h.dispose();
          } catch {}
        }
        // a call that ended with work still queued, or by breaching a limit, takes its runtime with it
        let reusable = clean && !stop && !rt.hasPendingJob();
        try {
          ctx.dispose();
        } catch {
          reusable = false;
        }
        if (!reusable) this.dropRuntime();
        this.prepareSoon();
      }
    }
  }
}
