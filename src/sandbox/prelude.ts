/**
 * The parts of the sandbox API written in JavaScript (fetch with Headers and
 * Response, timers, `mcp.*`, `tools.*`, the call entry), evaluated once in the resident
 * context. All are built on a private host object the tool cannot reach
 * (captured in a closure, never put on globalThis).
 */

import { MCP_LIB } from "./mcpLib.ts";

/** The globals each library provides, in the order they load ("tools" uses what "mcp" leaves on the host object). */
export const LIB_GLOBALS: [lib: string, names: string[]][] = [
  ["net", ["fetch", "Headers", "Response"]],
  ["timers", ["setTimeout", "clearTimeout", "queueMicrotask"]],
  ["mcp", ["mcp"]],
  ["tools", ["tools"]],
];

/** Each library is `(host) => ({...globals})`. */
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
  mcp: MCP_LIB,
  // a tool's answer comes back as the mcp lib decodes it: a rich result stays one
  tools: String.raw`(function (host) {
  const decode = host.decode;
  const tools = new Proxy({}, {
    get(_t, name) {
      if (typeof name !== "string" || name === "then") return undefined;
      return async (input) => decode(await host.call(name, JSON.stringify(input === undefined ? {} : input)));
    },
  });
  return { tools };
})`,
};

/**
 * Length guards, evaluated first. QuickJS walks an array-like's indices in C
 * without polling the interrupt handler, and Bun cannot stop a thread inside
 * WebAssembly, so `Array.prototype.includes.call({ length: 2 ** 53 - 1 }, 1)`
 * would hold a thread for years after its worker was terminated. A real array's
 * length stops at 2^32 - 1, which bounds such a walk to minutes; the guard holds
 * array-likes and Proxies to the same bound. The native method then sees a view
 * whose length cannot change under it (a getter could say one thing to the check
 * and another to the walk); Proxies are known because the guard made them.
 */
export const GUARDS = String.raw`(function () {
  const MAX = 4294967295;
  const OrigProxy = Proxy, revocable = Proxy.revocable, proxies = new WeakSet();
  const isArray = Array.isArray, apply = Reflect.apply, get = Reflect.get, defineProperty = Object.defineProperty, floor = Math.floor;
  const spreadable = Symbol.isConcatSpreadable;
  const P = function Proxy(target, handler) {
    if (new.target === undefined) throw new TypeError("Constructor Proxy requires 'new'");
    const p = new OrigProxy(target, handler);
    proxies.add(p);
    return p;
  };
  P.revocable = function revocable_(target, handler) {
    const r = revocable(target, handler);
    proxies.add(r.proxy);
    return r;
  };
  defineProperty(P, "name", { value: "Proxy" });
  defineProperty(P.revocable, "name", { value: "revocable" });
  defineProperty(globalThis, "Proxy", { value: P, writable: true, configurable: true, enumerable: false });
  const plain = (o) => isArray(o) && !proxies.has(o);
  const lengthOf = (o) => {
    const n = +o.length;
    return n > 0 ? (n === Infinity ? 9007199254740991 : floor(n)) : 0;
  };
  const tooLong = (name, n) => new RangeError("Array.prototype." + name + " refused an array-like of length " + n + ": the sandbox allows lengths up to 4294967295");
  const proto = Array.prototype;
  const names = ["includes", "indexOf", "lastIndexOf", "join", "toLocaleString", "every", "some", "forEach", "map", "filter",
    "reduce", "reduceRight", "fill", "copyWithin", "reverse", "sort", "splice", "slice", "shift", "unshift", "flat", "flatMap",
    "find", "findIndex", "findLast", "findLastIndex", "toReversed", "toSorted", "toSpliced", "with"];
  for (const name of names) {
    const orig = proto[name];
    if (typeof orig !== "function") continue;
    const guarded = { [name](...args) {
      if (this === null || this === undefined || plain(this)) return apply(orig, this, args);
      const o = Object(this);
      const n = lengthOf(o);
      if (n > MAX) throw tooLong(name, n);
      const view = new OrigProxy(o, { get: (t, k) => (k === "length" ? n : get(t, k, t)) });
      const r = apply(orig, view, args);
      return r === view ? o : r;
    } }[name];
    defineProperty(guarded, "length", { value: orig.length });
    defineProperty(proto, name, { value: guarded, writable: true, configurable: true, enumerable: false });
  }
  // concat walks every spreadable argument, and any object can declare itself spreadable
  const concat = proto.concat;
  const guardedConcat = { concat(...args) {
    for (const a of [this, ...args]) {
      if (a === null || typeof a !== "object" || plain(a) || !a[spreadable]) continue;
      throw new TypeError("Array.prototype.concat refused a spreadable array-like: spread a real array instead");
    }
    return apply(concat, this, args);
  } }.concat;
  defineProperty(guardedConcat, "length", { value: 1 });
  defineProperty(proto, "concat", { value: guardedConcat, writable: true, configurable: true, enumerable: false });
})`;

/**
 * `(progress, log, ask) => enter`. `enter(fn, input, contextJson, s0..s3)` builds the
 * call's frozen `context` with the pristine JSON.parse/Object.freeze (tool code
 * has run by then and may have replaced the globals) and calls the tool.
 * `context.elicit` / `context.sample` send their request as JSON to the host, which
 * checks it (askRequest.ts) and answers with the client's result.
 *
 * Math.random is xoshiro128** seeded by the host on every call: the snapshot
 * would otherwise replay QuickJS's own generator from the same state each time.
 */
export const ENTRY = String.raw`(function (progress, log, ask) {
  const parse = JSON.parse, stringify = JSON.stringify, freeze = Object.freeze, defineProperty = Object.defineProperty, imul = Math.imul;
  const request = (method, req) => ask(method, req === undefined ? "null" : (stringify(req) ?? "null"));
  const elicit = async function elicit(req) { return parse(await request("elicitation/create", req)); };
  const sample = async function sample(req) { return parse(await request("sampling/createMessage", req)); };
  let a = 1, b = 0, c = 0, d = 0;
  const next = () => {
    const x = imul(b, 5);
    const r = imul((x << 7) | (x >>> 25), 9);
    const t = b << 9;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = (d << 11) | (d >>> 21);
    return r >>> 0;
  };
  defineProperty(Math, "random", {
    value: function random() { return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992; },
    writable: true, configurable: true, enumerable: false,
  });
  return function enter(fn, input, contextJson, s0, s1, s2, s3) {
    a = s0 | 0; b = s1 | 0; c = s2 | 0; d = s3 | 0;
    if ((a | b | c | d) === 0) a = 1;
    const context = parse(contextJson);
    defineProperty(context, "progress", { value: progress, enumerable: true });
    defineProperty(context, "log", { value: log, enumerable: true });
    defineProperty(context, "elicit", { value: elicit, enumerable: true });
    defineProperty(context, "sample", { value: sample, enumerable: true });
    if (context.secrets && typeof context.secrets === "object") freeze(context.secrets);
    if (context.server && typeof context.server === "object") freeze(context.server);
    freeze(context);
    return fn(input, context);
  };
})`;
