/**
 * Runs one call inside the sandbox module's resident QuickJS context (inside a
 * worker), then puts the module's memory back as it was before the call.
 *
 * Limits: the wasm memory has a hard maximum (QuickJS's own memory limit does not
 * bound large buffers in this build), the interrupt handler enforces the deadline
 * and cancellation, the stack size bounds recursion, and output/log/timer/fetch
 * counts are capped here. Nothing of the host is reachable but the bridge below.
 */
import releaseSync from "@jitl/quickjs-wasmfile-release-sync";
import { quickjsWasmFile } from "../assets.ts";
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSHandle } from "quickjs-emscripten-core";
import { describeError, isHostStackOverflow, isModuleFault, stopError, type CallError, type Stop } from "./callError.ts";
import { CallLog } from "./callLog.ts";
import { HeapSnapshot } from "./heapSnapshot.ts";
import { HostBridge } from "./hostBridge.ts";
import { ModuleImages, type ModuleImage } from "./moduleImage.ts";
import { findBreakWord } from "./programBreak.ts";
import type { BridgeAnswer, CallOutcome, LogLine, RunMessage } from "./protocol.ts";
import { residentContext, type ResidentContext } from "./residentContext.ts";
import { serializeResult } from "./resultJson.ts";
import { MODULE_FILE, SCRIPT_FILE, SourceOrigin } from "./sourcePosition.ts";
import { wasmLayout, type WasmLayout } from "./wasmLayout.ts";

const PAGE = 64 * 1024;
/** Room for the interpreter itself (its 5 MiB stack and static data) beside the call's heap. */
const BASE_BYTES = 24 * 1024 * 1024;

/**
 * A call waiting on nothing but its client this long is parked: its module is set
 * aside with it and the worker takes other calls. An answer that comes sooner (a
 * recorded one, a quick client) saves the swap.
 */
export const PARK_AFTER_MS = 5;
/** Modules of ended parked calls kept for the next park; the rest are let go. */
const SPARE_ENGINES = 2;

/** Hooks the worker gives a call: progress, live console lines, CODE-mode tool calls and questions to the client go to the main thread. */
export interface CallHooks {
  aborted(): boolean;
  progress(progress: number, total?: number, message?: string): void;
  /** Each console line as it is kept, when the call asked for them live (RunMessage.liveLogs). */
  log?(line: LogLine): void;
  bridge(name: string, input: unknown): Promise<BridgeAnswer>;
  ask(method: string, params: Record<string, unknown>): Promise<unknown>;
  /** How many of the call's pending host operations wait on its client (asks, and tools.* calls whose tool does). */
  clientWaits(): number;
  /**
   * Sets the call aside until the pool resumes it (true) or cancels it (false).
   * Absent: the call cannot be parked and holds the worker while it waits.
   */
  park?(): Promise<boolean>;
}

/** A QuickJS wasm module with its resident context and the snapshot calls are undone with. */
interface Engine {
  memory: WebAssembly.Memory;
  resident: ResidentContext;
  snapshot: HeapSnapshot;
  /** Tools' modules kept loaded (absent where the heap's end cannot be told). */
  images?: ModuleImages;
  /** The image memory was last put back to (or taken from); undefined: the bare snapshot. */
  at?: ModuleImage;
  /** The last call's changes are still in memory: restored before the next call, or when idle. */
  dirty: boolean;
}

/**
 * The interpreter compiled once per worker, so a renewed module instantiates it
 * again without recompiling, and where its memory keeps what (undefined: the
 * variant loads the file itself, and a restore copies all below the heap).
 */
let compiled: Promise<{ module?: WebAssembly.Module; layout?: WasmLayout }> | undefined;

/** Loads a fresh wasm module with its memory capped at the call heap plus interpreter room, and snapshots its resident context. */
async function loadEngine(memoryBytes: number): Promise<Engine> {
  compiled ??= (async () => {
    try {
      const bytes = new Uint8Array(await Bun.file(quickjsWasmFile).arrayBuffer());
      return { module: await WebAssembly.compile(bytes), layout: wasmLayout(bytes) };
    } catch {
      return {};
    }
  })();
  const pages = Math.ceil((memoryBytes + BASE_BYTES) / PAGE);
  const memory = new WebAssembly.Memory({ initial: Math.min(256, pages), maximum: pages });
  const { module: wasmModule, layout } = await compiled;
  const variant = newVariant(releaseSync as never, wasmModule ? { wasmMemory: memory, wasmModule } : { wasmMemory: memory });
  const mod = await newQuickJSWASMModuleFromVariant(variant as never);
  const resident = residentContext(mod.newRuntime());
  const snapshot = HeapSnapshot.take(memory, layout ?? { staticEnd: 0, heapStart: 0 });
  // the probe allocates: the snapshot puts the heap back
  const breakWord = layout ? findBreakWord(memory, layout, (mod as unknown as { module?: { _malloc?: (n: number) => number } }).module?._malloc) : undefined;
  snapshot.restore();
  const images = layout && breakWord !== undefined ? new ModuleImages(memory, layout, breakWord) : undefined;
  return { memory, resident, snapshot, images, dirty: false };
}

/** Four random 32-bit words: each call's Math.random seed. */
const seeds = new Int32Array(4);


/**
 * QuickJS modules with a hard memory ceiling. Calls start on the active module,
 * one at a time; a call that parks (it waits on nothing but its client) keeps its
 * module, and the next call gets a spare module or a freshly loaded one.
 */
export class QuickJsHost {
  /** Calls start on this module; undefined while a new one loads. */
  private engine: Engine | undefined;
  /** Set while a new active module loads; the next call waits for it. */
  private renewal?: Promise<void>;
  /** A call is running on the active module: its memory is not restored meanwhile. */
  private busy = false;
  /** Modules of parked calls that ended, restored and ready to become active. */
  private readonly spares: Engine[] = [];

  private constructor(
    engine: Engine,
    private readonly memoryBytes: number,
  ) {
    this.engine = engine;
  }

  /** Loads a host whose calls may use `memoryBytes` of heap. */
  static async create(memoryBytes: number): Promise<QuickJsHost> {
    return new QuickJsHost(await loadEngine(memoryBytes), memoryBytes);
  }

  /** Bytes of the active module's wasm memory (it only grows). */
  heapBytes(): number {
    return this.engine?.memory.buffer.byteLength ?? 0;
  }

  /**
   * True once a module's heap has grown close to its hard maximum: within an eighth of
   * the limit (at least a MiB), since one failed allocation — a queue or array doubling —
   * can ask for megabytes while the heap is still that far below the ceiling.
   */
  private atCeiling(engine: Engine): boolean {
    const slack = Math.max(1024 * 1024, this.memoryBytes / 8);
    return engine.memory.buffer.byteLength + slack >= Math.ceil((this.memoryBytes + BASE_BYTES) / PAGE) * PAGE;
  }

  /**
   * Gives calls another module: a spare, or a fresh one (new memory, new stack). Needed
   * when a call parks with the active one, when the host stack overflowed inside it or
   * it trapped (the stack pointer, a wasm global, is not in the snapshot), or its memory
   * grew to the ceiling (memory never shrinks, and a later `throw null` must not read as
   * exhausted memory).
   */
  private replaceActive(): void {
    const spare = this.spares.pop();
    if (spare) {
      this.engine = spare;
      return;
    }
    this.engine = undefined;
    this.renewal ??= loadEngine(this.memoryBytes).then((engine) => {
      this.engine = engine;
      this.renewal = undefined;
    });
  }

  /** Undoes the last call on a module now: back to `to` (an image, or undefined: the bare snapshot). */
  private restore(engine: Engine, to: ModuleImage | undefined): void {
    (to?.snapshot ?? engine.snapshot).restore();
    engine.at = to;
    engine.dirty = false;
  }

  /**
   * Undoes the last call right after it, off the next call's path. setImmediate,
   * not setTimeout(0): Bun clamps the latter to ~1 ms.
   */
  private restoreSoon(engine: Engine): void {
    setImmediate(() => {
      if (engine === this.engine && engine.dirty && !this.busy) this.restore(engine, engine.at);
    });
  }

  /** A parked call ended on its own module: restored, it becomes a spare (or is let go). */
  private retire(engine: Engine, broken: boolean): void {
    if (broken || this.atCeiling(engine) || this.spares.length >= SPARE_ENGINES) return;
    this.restore(engine, engine.at);
    this.spares.push(engine);
  }

  /**
   * Compiles and evaluates the call's module and takes its default export; keeps an
   * image of the heap then, when the module's top level ended at once (moduleImage.ts).
   */
  private load(
    engine: Engine,
    msg: RunMessage & { code: string },
    key: string | null,
    describe: (h: QuickJSHandle) => CallError,
    stopped: () => Stop | undefined,
    log: CallLog,
    host: HostBridge,
  ): { fn: QuickJSHandle } | { error: CallError } {
    const { ctx, rt } = engine.resident;
    const subject = msg.kind === "script" ? "script" : "tool";
    const source = msg.kind === "script" ? `export default async (input, context) => {\n${msg.code}\n};` : msg.code;
    const loaded = ctx.evalCode(source, msg.kind === "script" ? SCRIPT_FILE : MODULE_FILE, { type: "module" });
    if (loaded.error) {
      const e = describe(loaded.error);
      const stop = stopped();
      return { error: stop ? stopError(stop, msg.limits) : e.limit ? e : { message: `The ${subject} failed to load: ${e.message}` } };
    }
    const fnHandle = ctx.getProp(loaded.value, "default");
    if (ctx.typeof(fnHandle) !== "function") {
      const message =
        msg.kind === "check"
          ? "Tool source must export a default function: export default async (input, context) => { ... }"
          : "The tool module must export a default function: export default async (input, context) => { ... }";
      return { error: { message } };
    }
    if (key !== null && engine.images && !stopped() && log.lines.length === 0 && host.pending === 0 && !rt.hasPendingJob()) {
      const image = engine.images.take(key, msg.code, fnHandle);
      if (image) engine.at = image;
    }
    return { fn: fnHandle };
  }

  /** Runs a call to completion; never throws (but a failed module reload rejects). */
  async run(msg: RunMessage & { code: string }, hooks: CallHooks): Promise<CallOutcome> {
    while (!this.engine) await this.renewal;
    const engine = this.engine;
    // a tool's module loaded before, kept: its call starts from there and skips compiling it
    const key = msg.kind === "module" ? msg.codeKey : null;
    const image = key === null ? undefined : engine.images?.get(key, msg.code);
    if (engine.dirty || engine.at !== image) this.restore(engine, image);
    const started = performance.now();
    const { limits } = msg;
    /** Moves on by the time the call spends parked: waiting on the client is not the tool's time. */
    let deadline = Date.now() + limits.timeoutMs;
    const log = new CallLog(msg.context.secrets, limits.logBytes, msg.liveLogs ? hooks.log : undefined);
    const finish = (outcome: Omit<CallOutcome, "logs" | "durationMs">): CallOutcome => ({
      ...outcome,
      logs: log.lines,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
    const fail = (error: CallError) => finish({ ok: false, error });

    let stop: Stop | undefined;
    /** The module's state can no longer be trusted: nothing more is called in it. */
    let broken = false;
    /** The call took its module aside: the active one is another. */
    let parked = false;
    const overflowed = () => {
      stop = "stack";
      broken = true;
    };
    const resident = engine.resident;
    const { rt, ctx } = resident;
    this.busy = true;
    engine.dirty = true;
    // a CODE-mode script is "the script" in its errors, and its positions are its own lines (SCRIPT_PREFIX_LINES)
    const subject = msg.kind === "script" ? "script" : "tool";
    // handles made from here on are never freed: the restore after the call undoes them all
    const host = new HostBridge({ ctx, msg, hooks, deadline: () => deadline, log: (level, text) => log.push(level, text), overflowed });
    try {
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
      const origin = () => new SourceOrigin(msg.code, msg.kind);
      const describe = (handle: QuickJSHandle) => describeError(ctx, handle, limits, this.atCeiling(engine), { origin, subject });
      resident.bridge = host.bridge();
      const module = image ? { fn: image.fn } : this.load(engine, msg, key, describe, () => stop, log, host);
      if ("error" in module) return fail(module.error);
      if (msg.kind === "check") return finish({ ok: true });
      const fnHandle = module.fn;
      let inputText: string;
      try {
        inputText = JSON.stringify(msg.input ?? {});
      } catch {
        return fail({ message: `The input is nested too deeply to pass to the ${subject}` });
      }
      const parsed = ctx.callFunction(resident.parse, ctx.undefined, ctx.newString(inputText));
      if (parsed.error) {
        const e = describe(parsed.error);
        return fail(stop ? stopError(stop, limits) : { message: `The input cannot be passed to the ${subject}: ${e.message}` });
      }
      crypto.getRandomValues(seeds);
      const called = ctx.callFunction(
        resident.enter,
        ctx.undefined,
        fnHandle,
        parsed.value,
        ctx.newString(JSON.stringify(msg.context)),
        ctx.newNumber(seeds[0]!),
        ctx.newNumber(seeds[1]!),
        ctx.newNumber(seeds[2]!),
        ctx.newNumber(seeds[3]!),
      );
      if (called.error) {
        const e = describe(called.error);
        return fail(stop ? stopError(stop, limits) : e);
      }
      const promise = called.value;

      /** Since when the call has waited on nothing but its client (performance.now()). */
      let clientOnlySince: number | undefined;
      for (;;) {
        const jobs = rt.executePendingJobs(10_000);
        if (stop) return fail(stopError(stop, limits));
        if (jobs.error) {
          // a job's own exception goes to its promise; what reaches here is the runtime failing to run it
          const e = describe(jobs.error);
          if (e.limit) return fail(e);
        }
        const state = ctx.getPromiseState(promise);
        if (state.type === "fulfilled") {
          const outcome = serializeResult(resident, state.value, limits, describe, subject);
          if (stop) return fail(stopError(stop, limits));
          return finish(outcome);
        }
        if (state.type === "rejected") {
          const e = describe(state.error);
          return fail(stop ? stopError(stop, limits) : e);
        }
        if (rt.hasPendingJob()) continue;
        if (host.pending === 0) {
          // memory ran out while queueing a job: the job is lost and the promise can never settle
          if (this.atCeiling(engine)) return fail(stopError("memory", limits));
          return fail({ message: `The ${subject} returned a promise that never settles (nothing left to wait for)` });
        }
        let waitMs = 50;
        if (hooks.park && host.pending === hooks.clientWaits()) {
          const now = performance.now();
          clientOnlySince ??= now;
          if (now - clientOnlySince >= PARK_AFTER_MS && !hooks.aborted()) {
            // a person may take minutes: the worker takes other calls meanwhile, on another module
            clientOnlySince = undefined;
            parked = true;
            this.busy = false;
            this.replaceActive();
            const since = Date.now();
            if (!(await hooks.park())) return fail(stopError("cancelled", limits));
            deadline += Date.now() - since;
            continue;
          }
          waitMs = PARK_AFTER_MS - (now - clientOnlySince);
        } else clientOnlySince = undefined;
        // wait for a host operation, re-checking the deadline and the abort flag now and then
        await host.waitForHost(Math.max(1, Math.min(waitMs, deadline - Date.now())));
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
      return fail({ message: m ? `The ${subject} failed: ${m.slice(0, 2000)}` : `The ${subject} failed` });
    } finally {
      resident.bridge = undefined;
      host.close();
      if (parked) this.retire(engine, broken);
      else {
        this.busy = false;
        if (broken || this.atCeiling(engine)) this.replaceActive();
        else this.restoreSoon(engine);
      }
    }
  }
}
