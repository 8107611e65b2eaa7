/**
 * JavaScript evaluated inside each fresh QuickJS context before the tool: console,
 * fetch, timers and the context object, all built on a private host object that
 * the tool cannot reach (it is captured in a closure, never put on globalThis).
 */

/**
 * Parsing is most of a fresh context's cost, so the prelude is small and the
 * rest (fetch with Headers/Response, timers, `tools`) is parsed on first use:
 * `host.load(name)` evaluates LIBS[name] in the call's context.
 */
export const PRELUDE = String.raw`(function (host) {
  "use strict";
  const fmt = (a) => {
    if (typeof a === "string") return a;
    if (a instanceof Error) return a.name + ": " + a.message;
    try { const s = JSON.stringify(a); return s === undefined ? String(a) : s; } catch (e) { return String(a); }
  };
  const logAt = (level) => (...args) => { host.log(level, args.map(fmt).join(" ")); };
  globalThis.console = { log: logAt("log"), info: logAt("info"), warn: logAt("warn"), error: logAt("error"), debug: logAt("debug"), trace: logAt("debug") };
  const libs = {};
  const lazy = (lib, names) => {
    for (const name of names) {
      Object.defineProperty(globalThis, name, {
        configurable: true,
        get() { const v = (libs[lib] || (libs[lib] = host.load(lib)(host, fmt)))[name]; Object.defineProperty(globalThis, name, { value: v, writable: true, configurable: true }); return v; },
        set(v) { Object.defineProperty(globalThis, name, { value: v, writable: true, configurable: true }); },
      });
    }
  };
  lazy("net", ["fetch", "Headers", "Response"]);
  lazy("timers", ["setTimeout", "clearTimeout", "queueMicrotask"]);
  lazy("tools", ["tools"]);
  const makeContext = (c) => Object.freeze({
    requestId: c.requestId,
    endUserId: c.endUserId,
    server: c.server ? Object.freeze(c.server) : null,
    secrets: Object.freeze(c.secrets),
    progress: (p, t, m) => { host.progress(Number(p), t === undefined ? undefined : Number(t), m === undefined ? undefined : String(m)); },
    log: (level, data) => { host.log(String(level), fmt(data)); },
  });
  return async (fn, inputJson, contextJson) => {
    if (typeof fn !== "function") throw new TypeError("The tool module must export a default function: export default async (input, context) => { ... }");
    const out = await fn(JSON.parse(inputJson), makeContext(JSON.parse(contextJson)));
    if (out === undefined) return undefined;
    const text = JSON.stringify(out);
    return text === undefined ? undefined : text;
  };
})`;

/** Parts of the sandbox API parsed on first use; each is `(host, fmt) => ({...names})`. */
export const LIBS: Record<string, string> = {
  net: String.raw`(function (host) {
  class Headers {
    constructor(init) {
      this._m = new Map();
      if (init) for (const [k, v] of (init instanceof Headers ? init.entries() : Array.isArray(init) ? init : Object.entries(init))) this._m.set(String(k).toLowerCase(), String(v));
    }
    get(k) { const v = this._m.get(String(k).toLowerCase()); return v === undefined ? null : v; }
    has(k) { return this._m.has(String(k).toLowerCase()); }
    set(k, v) { this._m.set(String(k).toLowerCase(), String(v)); }
    entries() { return this._m.entries(); }
    keys() { return this._m.keys(); }
    forEach(fn) { this._m.forEach((v, k) => fn(v, k, this)); }
    [Symbol.iterator]() { return this._m.entries(); }
  }
  class Response {
    constructor(r) { this.url = r.url; this.status = r.status; this.statusText = r.statusText; this.headers = new Headers(r.headers); this._body = r.body; this.bodyUsed = false; }
    get ok() { return this.status >= 200 && this.status < 300; }
    async text() { this.bodyUsed = true; return this._body; }
    async json() { this.bodyUsed = true; return JSON.parse(this._body); }
  }
  const fetch = async (input, init) => {
    init = init || {};
    const url = typeof input === "string" ? input : input && typeof input.url === "string" ? input.url : String(input);
    const headers = {};
    if (init.headers) for (const [k, v] of (init.headers instanceof Headers ? init.headers.entries() : Object.entries(init.headers))) headers[k] = String(v);
    const body = init.body == null ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body);
    const raw = await host.fetch(url, JSON.stringify({ method: init.method, headers, body }));
    return new Response(JSON.parse(raw));
  };
  return { fetch, Headers, Response };
})`,
  timers: String.raw`(function (host) {
  let next = 0;
  const live = new Set();
  const setTimeout = (fn, ms, ...args) => {
    const id = ++next;
    live.add(id);
    host.sleep(Number(ms) || 0).then(() => { if (live.delete(id) && typeof fn === "function") fn(...args); });
    return id;
  };
  const clearTimeout = (id) => { live.delete(id); };
  const queueMicrotask = (fn) => { Promise.resolve().then(fn); };
  return { setTimeout, clearTimeout, queueMicrotask };
})`,
  tools: String.raw`(function (host) {
  const tools = new Proxy({}, {
    get(_t, name) {
      if (typeof name !== "string" || name === "then") return undefined;
      return async (input) => JSON.parse(await host.call(name, JSON.stringify(input === undefined ? {} : input)));
    },
  });
  return { tools };
})`,
};
