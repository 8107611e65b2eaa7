/**
 * Runs one call inside a fresh QuickJS runtime + context (inside a worker).
 *
 * Limits: the wasm memory has a hard maximum (QuickJS's own memory limit does not
 * bound large buffers in this build), the interrupt handler enforces the deadline
 * and cancellation, the stack size bounds recursion, and output/log/timer/fetch
 * counts are capped here. Nothing of the host is reachable but the bridge below.
 */
import releaseSync from "@jitl/quickjs-wasmfile-release-sync";
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from "quickjs-emscripten-core";
import { EgressError, policedFetch, type FetchInit } from "./bridgeFetch.ts";
import type { LimitName } from "./limits.ts";
import { LAZY_GLOBALS, LIBS } from "./prelude.ts";
import type { CallOutcome, LogLine, RunMessage } from "./protocol.ts";

const PAGE = 64 * 1024;
/** Room for the interpreter itself beside the call's heap. */
const BASE_BYTES = 24 * 1024 * 1024;

/** Hooks the worker gives a call: progress and CODE-mode tool calls go to the main thread. */
export interface CallHooks {
  aborted(): boolean;
  progress(progress: number, total?: number, message?: string): void;
  bridge(name: string, input: unknown): Promise<unknown>;
}

function limitError(limit: LimitName | "cancelled", message: string): CallOutcome["error"] {
  return { message, limit };
}

/** Translates a QuickJS exception into a message safe to show (no host stack). */
function describeError(ctx: QuickJSContext, handle: QuickJSHandle, memoryBytes: number, stackBytes: number): CallOutcome["error"] {
  let value: unknown;
  try {
    value = ctx.dump(handle);
  } catch {
    value = undefined;
  }
  const err = (typeof value === "object" && value !== null ? value : {}) as { name?: string; message?: string };
  const message = typeof value === "string" ? value : err.message ?? "";
  if (message === "out of memory" || (message === "" && typeof value !== "string" && err.name === undefined)) {
    return limitError("memory", `Memory limit exceeded (${Math.round(memoryBytes / 1048576)} MiB)`);
  }
  if (message === "stack overflow") return limitError("stack", `Stack limit exceeded (${Math.round(stackBytes / 1024)} KiB): too much recursion`);
  if (message === "string too long") return limitError("memory", "Memory limit exceeded: string too long");
  const name = err.name && err.name !== "Error" ? `${err.name}: ` : "";
  if (typeof value !== "object" || value === null) return { message: `Uncaught ${message || String(value)}`.slice(0, 4000) };
  return { message: `${name}${message}`.slice(0, 4000) || "Error" };
}

/** What the host functions of a context delegate to; set when a call takes the context. */
interface CallBridge {
  log(level: string, text: string): void;
  sleep(ms: QuickJSHandle): QuickJSHandle;
  fetch(url: QuickJSHandle, init: QuickJSHandle): QuickJSHandle;
  progress(p: QuickJSHandle, t: QuickJSHandle, m: QuickJSHandle): void;
  call(name: QuickJSHandle, input: QuickJSHandle): QuickJSHandle;
}

/** A fresh context with the sandbox API in place, waiting for its call. */
interface Prepared {
  rt: QuickJSRuntime;
  ctx: QuickJSContext;
  handles: QuickJSHandle[];
  /** JSON.parse, JSON.stringify and Object.freeze as they were before any tool code ran. */
  parse: QuickJSHandle;
  stringify: QuickJSHandle;
  freeze: QuickJSHandle;
  bridge?: CallBridge;
}

/** console.* arguments as text: strings as is, errors as "Name: message", the rest as JSON. */
function formatArg(ctx: QuickJSContext, h: QuickJSHandle): string {
  const t = ctx.typeof(h);
  if (t === "string") return ctx.getString(h);
  if (t === "undefined") return "undefined";
  if (t === "function") return "[function]";
  try {
    const v = ctx.dump(h) as unknown;
    if (v && typeof v === "object" && "message" in v && "name" in v && "stack" in v) return `${(v as Error).name}: ${(v as Error).message}`;
    return typeof v === "string" ? v : (JSON.stringify(v) ?? String(v));
  } catch {
    return "[unprintable]";
  }
}

/** Calls served by one runtime before it is replaced anyway (bounds fragmentation and atom growth). */
const RUNTIME_CALLS = 500;

/** A QuickJS module with a hard memory ceiling; one call at a time. */
export class QuickJsHost {
  /**
   * Calls share a runtime (creating and freeing one costs more than the call) but
   * each gets a fresh context, so no JS value crosses calls. The runtime is
   * replaced when a call leaves jobs behind or breaches a limit.
   */
  private runtime?: QuickJSRuntime;
  private runtimeCalls = 0;
  /** The next call's context, made while the worker is idle so calls skip that cost. */
  private prepared?: Prepared;

  private constructor(
    private readonly mod: QuickJSWASMModule,
    private readonly memoryBytes: number,
  ) {}

  private takeRuntime(): QuickJSRuntime {
    if (!this.runtime || this.runtimeCalls >= RUNTIME_CALLS) {
      this.dropRuntime();
      this.runtime = this.mod.newRuntime();
    }
    this.runtimeCalls++;
    return this.runtime;
  }

  private dropRuntime(): void {
    try {
      this.runtime?.dispose();
    } catch {
      // leaked handles after an abort only cost this runtime's memory, freed with it
    }
    this.runtime = undefined;
    this.runtimeCalls = 0;
  }

  /** Loads the wasm module with its memory capped at the call heap plus interpreter room. */
  static async create(memoryBytes: number): Promise<QuickJsHost> {
    const pages = Math.ceil((memoryBytes + BASE_BYTES) / PAGE);
    const wasmMemory = new WebAssembly.Memory({ initial: Math.min(256, pages), maximum: pages });
    const mod = await newQuickJSWASMModuleFromVariant(newVariant(releaseSync as never, { wasmMemory }) as never);
    return new QuickJsHost(mod, memoryBytes);
  }

  /**
   * Makes a fresh context with the sandbox API in place. Parsing JS is most of a
   * context's cost, so console and the context object are host functions, and
   * fetch/timers/tools are parsed only when first touched (a getter on globalThis).
   */
  private prepare(): Prepared {
    const rt = this.takeRuntime();
    rt.setInterruptHandler(() => false);
    const ctx = rt.newContext();
    const handles: QuickJSHandle[] = [];
    const keep = (h: QuickJSHandle) => (handles.push(h), h);
    const g = ctx.global;
    const json = keep(ctx.getProp(g, "JSON"));
    const object = keep(ctx.getProp(g, "Object"));
    const prep: Prepared = {
      rt,
      ctx,
      handles,
      parse: keep(ctx.getProp(json, "parse")),
      stringify: keep(ctx.getProp(json, "stringify")),
      freeze: keep(ctx.getProp(object, "freeze")),
    };
    const bridge = () => {
      if (!prep.bridge) throw new Error("no call is running");
      return prep.bridge;
    };
    const consoleObj = ctx.newObject();
    for (const level of ["log", "info", "warn", "error", "debug", "trace"]) {
      const f = ctx.newFunction(level, (...args) => void bridge().log(level === "trace" ? "debug" : level, args.map((a) => formatArg(ctx, a)).join(" ")));
      ctx.setProp(consoleObj, level, f);
      f.dispose();
    }
    ctx.setProp(g, "console", consoleObj);
    consoleObj.dispose();
    const host = keep(ctx.newObject());
    const fns: [string, (...a: QuickJSHandle[]) => QuickJSHandle | undefined][] = [
      ["sleep", (ms) => bridge().sleep(ms)],
      ["fetch", (u, i) => bridge().fetch(u, i)],
      ["call", (n, i) => bridge().call(n, i)],
    ];
    for (const [name, impl] of fns) {
      const h = ctx.newFunction(name, impl);
      ctx.setProp(host, name, h);
      h.dispose();
    }
    const libs = new Map<string, QuickJSHandle>();
    const define = (name: string, value: QuickJSHandle) => ctx.defineProp(g, name, { value, configurable: true });
    for (const [lib, names] of LAZY_GLOBALS) {
      for (const name of names) {
        ctx.defineProp(g, name, {
          configurable: true,
          get: () => {
            let api = libs.get(lib);
            if (!api) {
              const factory = ctx.unwrapResult(ctx.evalCode(LIBS[lib], `${lib}.js`, { type: "global" }));
              api = keep(ctx.unwrapResult(ctx.callFunction(factory, ctx.undefined, host)));
              factory.dispose();
              libs.set(lib, api);
            }
            const value = ctx.getProp(api, name);
            define(name, value);
            return value;
          },
          set: (value) => define(name, value),
        });
      }
    }
    return prep;
  }

  /** Prepares the next context soon, off the current call's path. */
  private prepareSoon(): void {
    setTimeout(() => {
      if (this.prepared) return;
      try {
        this.prepared = this.prepare();
      } catch {
        this.dropRuntime();
      }
    }, 0);
  }

  /** Bytes of wasm memory in use (it only grows). */
  heapBytes(): number {
    return (this.mod as unknown as { module: { HEAPU8: Uint8Array } }).module.HEAPU8.byteLength;
  }

  /** Runs a call to completion; never throws. */
  async run(msg: RunMessage, hooks: CallHooks): Promise<CallOutcome> {
    const started = performance.now();
    const { limits } = msg;
    const deadline = Date.now() + limits.timeoutMs;
    const logs: LogLine[] = [];
    let logBytes = 0;
    let logsCut = false;
    const secretValues = Object.values(msg.context.secrets).filter((v) => v.length >= 4);
    const redact = (text: string) => secretValues.reduce((t, v) => t.split(v).join("[secret]"), text);
    const pushLog = (level: string, text: string) => {
      if (logsCut) return;
      const line = redact(text);
      if (logBytes + line.length > limits.logBytes) {
        logsCut = true;
        logs.push({ level: "warn", message: `[console output truncated at ${limits.logBytes} bytes]` });
        return;
      }
      logBytes += line.length;
      const lvl = (["debug", "info", "log", "warn", "error"].includes(level) ? level : "log") as LogLine["level"];
      logs.push({ level: lvl, message: line });
    };

    let stop: LimitName | "cancelled" | undefined;
    let clean = false;
    let prep: Prepared;
    try {
      prep = this.prepared ?? this.prepare();
    } catch (err) {
      this.dropRuntime();
      return { ok: false, error: { message: `The sandbox could not start the call: ${(err as Error).message}` }, logs, durationMs: 0 };
    }
    this.prepared = undefined;
    const { rt, ctx } = prep;
    rt.setMemoryLimit(limits.memoryBytes);
    rt.setMaxStackSize(limits.stackBytes);
    rt.setInterruptHandler(() => {
      if (hooks.aborted()) stop = "cancelled";
      else if (Date.now() > deadline) stop = "timeout";
      return stop !== undefined;
    });
    let disposed = false;
    let pending = 0;
    let timers = 0;
    let fetches = 0;
    let wake: (() => void) | null = null;
    const notify = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const fetchAbort = new AbortController();
    const handles: QuickJSHandle[] = prep.handles;
    const keep = (h: QuickJSHandle) => (handles.push(h), h);

    /** Starts a host promise and settles the QuickJS one when it ends. */
    const hostAsync = (work: () => Promise<string | undefined>) => {
      const d = ctx.newPromise();
      pending++;
      work().then(
        (value) => {
          pending--;
          if (disposed) return;
          d.resolve(value === undefined ? ctx.undefined : ctx.newString(value));
          d.dispose();
          notify();
        },
        (err) => {
          pending--;
          if (disposed) return;
          const e = ctx.newError((err as Error)?.message ?? String(err));
          d.reject(e);
          e.dispose();
          d.dispose();
          notify();
        },
      );
      return d.handle;
    };

    const finish = (outcome: Omit<CallOutcome, "logs" | "durationMs">): CallOutcome => ({
      ...outcome,
      logs,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    });

    try {
      prep.bridge = {
        log: (level, text) => pushLog(level, text),
        sleep: (ms) => {
          if (timers >= limits.maxTimers) throw new Error(`Timer limit exceeded: at most ${limits.maxTimers} pending timers`);
          timers++;
          const wait = Math.max(0, Math.min(ctx.getNumber(ms), deadline - Date.now()));
          return hostAsync(
            () =>
              new Promise<undefined>((resolve) =>
                setTimeout(() => {
                  timers--;
                  resolve(undefined);
                }, wait),
              ),
          );
        },
        fetch: (url, init) => {
          if (fetches >= limits.maxFetches) throw new Error(`fetch limit exceeded: at most ${limits.maxFetches} requests per call`);
          fetches++;
          const u = ctx.getString(url);
          const i = JSON.parse(ctx.getString(init)) as FetchInit;
          return hostAsync(async () => {
            try {
              return JSON.stringify(await policedFetch(u, i, msg.egress, limits.fetchBodyBytes, fetchAbort.signal));
            } catch (e) {
              throw new TypeError(e instanceof EgressError ? e.message : "fetch failed");
            }
          });
        },
        progress: (p, t, m) =>
          hooks.progress(ctx.getNumber(p), ctx.typeof(t) === "number" ? ctx.getNumber(t) : undefined, ctx.typeof(m) === "string" ? ctx.getString(m) : undefined),
        call: (name, input) => {
          const n = ctx.getString(name);
          const payload = ctx.getString(input);
          if (!msg.toolNames.includes(n)) throw new Error(`tools.${n} is not a tool of this server`);
          return hostAsync(async () => JSON.stringify((await hooks.bridge(n, JSON.parse(payload))) ?? null));
        },
      };

      const source = msg.kind === "script" ? `export default async (input, context) => {\n${msg.code}\n};` : msg.code;
      const loaded = ctx.evalCode(source, "tool.js", { type: "module" });
      if (loaded.error) {
        const e = describeError(ctx, loaded.error, limits.memoryBytes, limits.stackBytes);
        loaded.error.dispose();
        return finish({ ok: false, error: stop ? this.stopError(stop, limits.timeoutMs) : { message: `The tool failed to load: ${e?.message}` } });
      }
      const ns = keep(loaded.value);
      const fnHandle = keep(ctx.getProp(ns, "default"));
      if (msg.kind === "check") {
        return ctx.typeof(fnHandle) === "function"
          ? finish({ ok: true })
          : finish({ ok: false, error: { message: "Tool source must export a default function: export default async (input, context) => { ... }" } });
      }
      if (ctx.typeof(fnHandle) !== "function") {
        return finish({ ok: false, error: { message: "The tool module must export a default function: export default async (input, context) => { ... }" } });
      }
      const fromJson = (value: unknown) => keep(ctx.unwrapResult(ctx.callFunction(prep.parse, ctx.undefined, keep(ctx.newString(JSON.stringify(value))))));
      const input = fromJson(msg.input ?? {});
      const context = fromJson(msg.context);
      for (const [name, impl] of [
        ["progress", (p: QuickJSHandle, t: QuickJSHandle, m: QuickJSHandle) => void prep.bridge?.progress(p, t, m)],
        ["log", (level: QuickJSHandle, data: QuickJSHandle) => void prep.bridge?.log(formatArg(ctx, level), formatArg(ctx, data))],
      ] as const) {
        const f = ctx.newFunction(name, impl as (...a: QuickJSHandle[]) => undefined);
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
        const e = describeError(ctx, called.error, limits.memoryBytes, limits.stackBytes);
        called.error.dispose();
        return finish({ ok: false, error: stop ? this.stopError(stop, limits.timeoutMs) : e });
      }
      const promise = keep(called.value);

      let neverSettles = false;
      for (;;) {
        const jobs = rt.executePendingJobs(10_000);
        if (jobs.error) jobs.error.dispose();
        if (stop) break;
        const state = ctx.getPromiseState(promise);
        if (state.type !== "pending") {
          clean = true;
          if (state.type === "fulfilled") {
            const value = state.value;
            let text: string | undefined;
            if (ctx.typeof(value) !== "undefined") {
              const encoded = ctx.callFunction(prep.stringify, ctx.undefined, value);
              if (!state.notAPromise) value.dispose();
              if (encoded.error) {
                const e = describeError(ctx, encoded.error, limits.memoryBytes, limits.stackBytes);
                encoded.error.dispose();
                if (e?.limit) return finish({ ok: false, error: e });
                return finish({ ok: false, error: { message: `The tool's result cannot be turned into JSON: ${e?.message}` } });
              }
              text = ctx.typeof(encoded.value) === "string" ? ctx.getString(encoded.value) : undefined;
              encoded.value.dispose();
            } else if (!state.notAPromise) value.dispose();
            if (text !== undefined && Buffer.byteLength(text) > limits.outputBytes) {
              return finish({ ok: false, error: limitError("output", `Output limit exceeded: the result is larger than ${limits.outputBytes} bytes`) });
            }
            return finish({ ok: true, output: text === undefined ? undefined : JSON.parse(text) });
          }
          const e = describeError(ctx, state.error, limits.memoryBytes, limits.stackBytes);
          state.error.dispose();
          if (e?.limit) clean = false;
          if (stop) return finish({ ok: false, error: this.stopError(stop, limits.timeoutMs) });
          return finish({ ok: false, error: e });
        }
        if (rt.hasPendingJob()) continue;
        if (pending === 0) {
          neverSettles = true;
          break;
        }
        // wait for a host operation, re-checking the deadline and the abort flag now and then
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.max(1, Math.min(50, deadline - Date.now())));
        });
        wake = null;
        if (hooks.aborted()) stop = "cancelled";
        else if (Date.now() > deadline) stop = "timeout";
      }
      if (stop) return finish({ ok: false, error: this.stopError(stop, limits.timeoutMs) });
      if (neverSettles) return finish({ ok: false, error: { message: "The tool returned a promise that never settles (nothing left to wait for)" } });
      return finish({ ok: false, error: { message: "The tool did not finish" } });
    } catch (err) {
      // a host-side failure (e.g. memory exhausted while marshalling) is still the call's failure
      const m = (err as Error)?.message ?? "";
      if (stop) return finish({ ok: false, error: this.stopError(stop, limits.timeoutMs) });
      if (/memory|alloc/i.test(m)) return finish({ ok: false, error: limitError("memory", `Memory limit exceeded (${Math.round(limits.memoryBytes / 1048576)} MiB)`) });
      return finish({ ok: false, error: { message: m ? `The tool failed: ${m.slice(0, 2000)}` : "The tool failed" } });
    } finally {
      disposed = true;
      fetchAbort.abort();
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
      prep.bridge = undefined;
      if (!reusable) this.dropRuntime();
      this.prepareSoon();
    }
  }

  private stopError(stop: LimitName | "cancelled", timeoutMs: number): CallOutcome["error"] {
    return stop === "cancelled" ? limitError("cancelled", "The call was cancelled") : limitError("timeout", `Timed out after ${timeoutMs} ms`);
  }
}
