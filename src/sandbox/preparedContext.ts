/**
 * A fresh QuickJS context with the sandbox API in place, made before its call
 * arrives. Parsing JS is costly, so console and the host object are host
 * functions, and console, fetch/timers/tools are made only when first touched
 * (a getter on globalThis).
 */
import type { Intrinsics, QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";
import { LAZY_GLOBALS, LIBS } from "./prelude.ts";

/**
 * The builtins a context gets: the library default (JS_NewContext) minus WeakRef
 * and FinalizationRegistry, which tools do not need and which let code observe
 * the garbage collector (~7 µs of the ~87 µs a context costs; bench/quickjsPhases.ts).
 * Eval stays: evalCode needs it, and it costs nothing. BigInt is always present.
 */
export const CONTEXT_INTRINSICS: Intrinsics = {
  BaseObjects: true,
  Date: true,
  Eval: true,
  StringNormalize: true,
  RegExp: true,
  JSON: true,
  Proxy: true,
  MapSet: true,
  TypedArrays: true,
  Promise: true,
};

/** What the host functions of a context delegate to; set when a call takes the context. */
export interface CallBridge {
  /** Takes the text lazily: once the call's log is full, console arguments are not even formatted. */
  log(level: string, text: () => string): void;
  sleep(ms: QuickJSHandle): QuickJSHandle;
  fetch(url: QuickJSHandle, init: QuickJSHandle): QuickJSHandle;
  progress(p: QuickJSHandle | undefined, t: QuickJSHandle | undefined, m: QuickJSHandle | undefined): void;
  call(name: QuickJSHandle, input: QuickJSHandle): QuickJSHandle;
}

/** A fresh context with the sandbox API in place, waiting for its call. */
export interface PreparedContext {
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
export function formatArg(ctx: QuickJSContext, h: QuickJSHandle | undefined): string {
  // a host function receives only the arguments the code passed
  if (h === undefined) return "undefined";
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

/** Makes a context on `rt` with console, the lazy globals and the private host object. */
export function prepareContext(rt: QuickJSRuntime): PreparedContext {
  rt.setInterruptHandler(() => false);
  const ctx = rt.newContext({ intrinsics: CONTEXT_INTRINSICS });
  const handles: QuickJSHandle[] = [];
  const keep = (h: QuickJSHandle) => (handles.push(h), h);
  const g = ctx.global;
  const json = keep(ctx.getProp(g, "JSON"));
  const object = keep(ctx.getProp(g, "Object"));
  const prep: PreparedContext = {
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
  // console and the host object are built on first touch too: each host function costs ~1 µs per context
  let host: QuickJSHandle | undefined;
  const hostObject = () => {
    if (host) return host;
    host = keep(ctx.newObject());
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
    return host;
  };
  const makeConsole = () => {
    const consoleObj = ctx.newObject();
    for (const level of ["log", "info", "warn", "error", "debug", "trace"]) {
      const f = ctx.newFunction(level, (...args) => void bridge().log(level === "trace" ? "debug" : level, () => args.map((a) => formatArg(ctx, a)).join(" ")));
      ctx.setProp(consoleObj, level, f);
      f.dispose();
    }
    return consoleObj;
  };
  const libs = new Map<string, QuickJSHandle>();
  const libValue = (lib: string, name: string) => {
    let api = libs.get(lib);
    if (!api) {
      const factory = ctx.unwrapResult(ctx.evalCode(LIBS[lib]!, `${lib}.js`, { type: "global" }));
      try {
        api = keep(ctx.unwrapResult(ctx.callFunction(factory, ctx.undefined, hostObject())));
      } finally {
        // the call may be interrupted here (deadline, cancellation); a leaked handle would abort the runtime's free
        factory.dispose();
      }
      libs.set(lib, api);
    }
    return ctx.getProp(api, name);
  };
  const define = (name: string, value: QuickJSHandle) => ctx.defineProp(g, name, { value, configurable: true });
  const lazy = (name: string, make: () => QuickJSHandle) =>
    ctx.defineProp(g, name, {
      configurable: true,
      get: () => {
        const value = make();
        define(name, value);
        return value;
      },
      set: (value) => define(name, value),
    });
  lazy("console", makeConsole);
  for (const [lib, names] of LAZY_GLOBALS) for (const name of names) lazy(name, () => libValue(lib, name));
  return prep;
}
