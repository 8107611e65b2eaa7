/**
 * The one QuickJS context a sandbox module keeps, with the whole sandbox API in
 * place (console, fetch, timers, mcp, tools, the call entry). It is built once per
 * module and snapshotted (heapSnapshot.ts); every call runs in it and the
 * snapshot is put back after, so each call starts from the same pristine state.
 */
import type { Intrinsics, QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";
import { ENTRY, GUARDS, LIB_GLOBALS, LIBS } from "./prelude.ts";

/**
 * The builtins a context gets: the library default (JS_NewContext) minus WeakRef
 * and FinalizationRegistry, which tools do not need and which let code observe
 * the garbage collector. BigInt is always present.
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

/** What the context's host functions delegate to; set while a call runs. */
export interface CallBridge {
  /** Takes the text lazily: once the call's log is full, console arguments are not even formatted. */
  log(level: string, text: () => string): void;
  sleep(ms: QuickJSHandle): QuickJSHandle;
  fetch(url: QuickJSHandle, init: QuickJSHandle): QuickJSHandle;
  progress(p: QuickJSHandle | undefined, t: QuickJSHandle | undefined, m: QuickJSHandle | undefined): void;
  call(name: QuickJSHandle, input: QuickJSHandle): QuickJSHandle;
  /** An ArrayBuffer's bytes as base64 text (for the mcp.* helpers). */
  base64(buffer: QuickJSHandle): QuickJSHandle;
  /** A request to the client (`context.elicit`, `context.sample`): method and the request as JSON text. */
  ask(method: QuickJSHandle, request: QuickJSHandle): QuickJSHandle;
}

/** The resident context and the pristine functions the host calls in it. */
export interface ResidentContext {
  rt: QuickJSRuntime;
  ctx: QuickJSContext;
  /** JSON.parse as it was before any tool code ran. */
  parse: QuickJSHandle;
  /** What a call returned as text: JSON by the pristine JSON.stringify, marked when the mcp.* helpers made it (mcpLib.ts). */
  encode: QuickJSHandle;
  /** `(fn, input, contextJson, s0, s1, s2, s3) => fn(input, context)`: builds the frozen context, seeds Math.random. */
  enter: QuickJSHandle;
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

/**
 * Builds the resident context on `rt`. Its handles live as long as the module and
 * are never freed: every call is undone by the snapshot, and a held handle keeps
 * each host function alive even when a call deletes the global that showed it
 * (see HeapSnapshot: host functions exist only from here).
 */
export function residentContext(rt: QuickJSRuntime): ResidentContext {
  rt.setInterruptHandler(() => false);
  const ctx = rt.newContext({ intrinsics: CONTEXT_INTRINSICS });
  // the library caches these on first use: made now, they belong to the snapshot
  void [ctx.undefined, ctx.null, ctx.true, ctx.false];
  const g = ctx.global;
  const json = ctx.getProp(g, "JSON");
  const resident: ResidentContext = {
    rt,
    ctx,
    parse: ctx.getProp(json, "parse"),
    encode: ctx.undefined,
    enter: ctx.undefined,
  };
  const bridge = () => {
    if (!resident.bridge) throw new Error("no call is running");
    return resident.bridge;
  };
  const fn = (name: string, impl: (...a: QuickJSHandle[]) => QuickJSHandle | undefined) => ctx.newFunction(name, impl);
  const define = (name: string, value: QuickJSHandle) => ctx.defineProp(g, name, { value, configurable: true });

  // before anything else: every later script, tool code included, sees the guarded builtins
  ctx.unwrapResult(ctx.callFunction(ctx.unwrapResult(ctx.evalCode(GUARDS, "guards.js", { type: "global" })), ctx.undefined));

  const host = ctx.newObject();
  ctx.setProp(host, "sleep", fn("sleep", (ms) => bridge().sleep(ms)));
  ctx.setProp(host, "fetch", fn("fetch", (u, i) => bridge().fetch(u, i)));
  ctx.setProp(host, "call", fn("call", (n, i) => bridge().call(n, i)));
  ctx.setProp(host, "base64", fn("base64", (b) => bridge().base64(b)));

  const consoleObj = ctx.newObject();
  for (const level of ["log", "info", "warn", "error", "debug", "trace"]) {
    ctx.setProp(consoleObj, level, fn(level, (...args) => void bridge().log(level === "trace" ? "debug" : level, () => args.map((a) => formatArg(ctx, a)).join(" "))));
  }
  define("console", consoleObj);

  for (const [lib, names] of LIB_GLOBALS) {
    const factory = ctx.unwrapResult(ctx.evalCode(LIBS[lib]!, `${lib}.js`, { type: "global" }));
    const api = ctx.unwrapResult(ctx.callFunction(factory, ctx.undefined, host));
    for (const name of names) define(name, ctx.getProp(api, name));
  }
  resident.encode = ctx.getProp(host, "encode");

  const progress = fn("progress", (p, t, m) => void bridge().progress(p, t, m));
  const log = fn("log", (level, data) => void bridge().log(formatArg(ctx, level), () => formatArg(ctx, data)));
  const ask = fn("ask", (method, request) => bridge().ask(method, request));
  const makeEntry = ctx.unwrapResult(ctx.evalCode(ENTRY, "entry.js", { type: "global" }));
  resident.enter = ctx.unwrapResult(ctx.callFunction(makeEntry, ctx.undefined, progress, log, ask));
  return resident;
}
