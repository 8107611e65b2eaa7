/**
 * Sandbox escape suite, part 2: runaway code and resource abuse — CPU, stack,
 * memory, output, promises, timers, logs and odd results. Each hostile call must
 * end with an error that names the limit it hit (or a clear message), while a
 * well-behaved call beside it, the next call and /health are unaffected.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { opError } from "../support/client.ts";
import { TIMEOUT_MS, UNHURRIED, expectLimit, expectToolError, startLab, type Bench, type Lab } from "./harness.ts";

setDefaultTimeout(60_000);

let lab: Lab<"acme">;
let acme: Bench;

beforeAll(async () => {
  lab = await startLab({ acme: { org: "acme" } });
  acme = lab.benches.acme;
}, 60_000);
afterAll(async () => {
  await lab?.close();
});

const TIMED_OUT = new RegExp(`Timed out after ${TIMEOUT_MS} ms`);
const MEMORY = /Memory limit exceeded/;

describe("CPU", () => {
  test("while (true) ends with a timeout error naming the timeout", async () => {
    expectLimit(await acme.contained("spin", "export default async () => { while (true) {} }"), "timeout", TIMED_OUT);
  });

  test("a Date.now busy-wait ends at the timeout", async () => {
    const r = await acme.contained("busy-wait", "export default async () => { const end = Date.now() + 600000; while (Date.now() < end) {} return 'waited' }");
    expectLimit(r, "timeout", TIMED_OUT);
  });

  test("catastrophic regex backtracking ends at the timeout", async () => {
    const r = await acme.contained("redos", "export default async () => /^(a+)+$/.test('a'.repeat(64) + 'b')");
    expectLimit(r, "timeout", TIMED_OUT);
  });

  test("a loop inside toJSON during result serialization ends at the timeout", async () => {
    const r = await acme.contained("tojson-spin", "export default async () => ({ toJSON() { for (;;) {} } })");
    expectLimit(r, "timeout", TIMED_OUT);
  });

  test("a native loop the interrupt cannot stop still ends (the worker is replaced)", async () => {
    // includes() on a 2^32-1 sparse array walks every index in C without polling the interrupt handler
    const r = await acme.contained("native-spin", "export default async () => { const a = []; a.length = 2 ** 32 - 1; return a.includes(1) }");
    expectLimit(r, "timeout", TIMED_OUT);
  });

  test("an array-like or Proxy claiming a length past 2^32 - 1 is refused at once instead of walked in native code", async () => {
    // unguarded, each would hold a thread for years: Bun cannot stop a worker inside WebAssembly
    const refused = /refused an array-like of length \d+: the sandbox allows lengths up to 4294967295/;
    for (const [slug, body] of [
      ["huge-array-like", "return Array.prototype.includes.call({ length: 2 ** 53 - 1 }, 1)"],
      ["huge-proxy", "return new Proxy([], { get: (t, k) => (k === 'length' ? 2 ** 40 : t[k]) }).indexOf(1)"],
      ["huge-revocable", "return Array.prototype.join.call(Proxy.revocable({ length: Infinity }, {}).proxy, '')"],
    ]) {
      const r = await acme.contained(slug, `export default async () => { ${body} }`);
      expectToolError(r, refused);
      expect(r.error?.limit).toBeUndefined();
    }
    const spread = await acme.contained("huge-concat", "export default async () => [].concat({ length: 2 ** 53 - 1, [Symbol.isConcatSpreadable]: true })");
    expectToolError(spread, /concat refused a spreadable array-like/);
    // a length getter that tells the check one thing and the walk another is read once: the walk sees the same length
    await acme.create("lying-length", "export default async () => { let n = 0; const o = { get length() { return n++ ? 2 ** 53 - 1 : 2 } }; return [Array.prototype.lastIndexOf.call(o, 1), n] }");
    expect((await acme.run("lying-length")).output).toEqual([-1, 1]);
  });

  test("the length guard leaves arrays, array-likes and Proxies working as the language says", async () => {
    await acme.create(
      "guarded-builtins",
      `export default async () => {
        const o = { length: 2, 0: "a", 1: "b" };
        const filled = { length: 2 };
        const p = new Proxy([3, 1, 2], {});
        let needsNew = false;
        try { Proxy({}, {}) } catch (e) { needsNew = e instanceof TypeError }
        return {
          map: Array.prototype.map.call(o, (x) => x + x),
          fillReturnsThis: Array.prototype.fill.call(filled, 0) === filled,
          filled: [filled[0], filled[1]],
          join: Array.prototype.join.call("abc", "-"),
          proxySortReturnsProxy: Array.prototype.sort.call(p) === p,
          proxySorted: [p[0], p[1], p[2]],
          proxyIncludes: p.includes(2),
          concat: [1].concat([2], 3, { length: 1, 0: "x" }),
          revoke: typeof Proxy.revocable({}, {}).revoke,
          needsNew,
          names: [[].includes.name, [].includes.length, [].concat.length, Proxy.name, Proxy.revocable.name],
          arrays: [[1, 2, 3].indexOf(2), [1, 2, 3].reduce((a, b) => a + b), [1, [2, [3]]].flat(Infinity), [3, 1, 2].toSorted(), [1, 2].with(0, 9)],
        };
      }`,
    );
    const r = await acme.run("guarded-builtins");
    expect(r.error).toBeUndefined();
    expect(r.output).toEqual({
      map: ["aa", "bb"],
      fillReturnsThis: true,
      filled: [0, 0],
      join: "a-b-c",
      proxySortReturnsProxy: true,
      proxySorted: [1, 2, 3],
      proxyIncludes: true,
      concat: [1, 2, 3, { length: 1, 0: "x" }],
      revoke: "function",
      needsNew: true,
      names: ["includes", 1, 1, "Proxy", "revocable"],
      arrays: [1, 6, [1, 2, 3], [1, 2, 3], [9, 2]],
    });
  });

  test("a per-tool timeout shorter than the default is honoured", async () => {
    const r = await acme.contained("spin-short", "export default async () => { for (;;) {} }", { extra: { timeoutMs: 300 } });
    expectLimit(r, "timeout", /Timed out after 300 ms/);
  });

  test("top-level code that never finishes is refused at create", async () => {
    const e = await opError(acme.client, "dwizi.tools.create", { tool: { name: "load-spin", slug: "load-spin", source: "while (true) {}\nexport default async () => 1" } });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toMatch(/Timed out/);
    await acme.expectBenign();
    await acme.expectHealthy();
  });
});

describe("stack", () => {
  test("a recursion bomb ends with the stack limit", async () => {
    const r = await acme.contained("recurse", "export default async () => { const f = (n) => f(n + 1) + 1; return f(0) }");
    expectLimit(r, "stack", /Stack limit exceeded/);
  });
});

describe("memory", () => {
  test("many small objects end with the memory limit", async () => {
    const r = await acme.contained("many-objects", "export default async () => { const keep = []; for (;;) keep.push({ n: keep.length, tags: ['a', 'b'] }) }", UNHURRIED);
    expectLimit(r, "memory", MEMORY);
  });

  test("one huge ArrayBuffer ends with the memory limit", async () => {
    expectLimit(await acme.contained("huge-buffer", "export default async () => new ArrayBuffer(1024 * 1024 * 1024).byteLength"), "memory", MEMORY);
  });

  test("many 1 MiB TypedArrays end with the memory limit", async () => {
    const r = await acme.contained("typed-arrays", "export default async () => { const keep = []; for (let i = 0; i < 4096; i++) keep.push(new Uint8Array(1 << 20).fill(i)); return keep.length }", UNHURRIED);
    expectLimit(r, "memory", MEMORY);
  });

  test("string doubling ends with the memory limit", async () => {
    expectLimit(await acme.contained("string-doubling", "export default async () => { let s = 'x'; for (;;) s += s }", UNHURRIED), "memory", MEMORY);
  });

  test("Array(1e9).fill(0) ends with the memory limit", async () => {
    expectLimit(await acme.contained("array-1e9", "export default async () => Array(1e9).fill(0).length", UNHURRIED), "memory", MEMORY);
  });

  test('"x".repeat(2 ** 30) fails cleanly', async () => {
    const r = await acme.contained("repeat-huge", "export default async () => 'x'.repeat(2 ** 30).length");
    expectToolError(r, /string length|Memory limit/);
  });

  test("memory exhausted in a later microtask still ends with the memory limit", async () => {
    const r = await acme.contained(
      "memory-async",
      "export default async () => { await null; const keep = []; for (;;) { await undefined; keep.push(new Array(1000).fill(keep.length)) } }",
      UNHURRIED,
    );
    expectLimit(r, "memory", MEMORY);
  });

  test("repeated memory blow-ups do not wear the worker down", async () => {
    await acme.create("blow-up", "export default async () => { const keep = []; for (;;) keep.push(new Float64Array(1 << 16)) }");
    for (let i = 0; i < 6; i++) expectLimit(await acme.run("blow-up"), "memory", MEMORY);
    await acme.expectBenign();
  });
});

describe("output and logs", () => {
  test("an output over 1 MiB ends with the output limit", async () => {
    expectLimit(await acme.contained("huge-output", "export default async () => 'x'.repeat(2 * 1024 * 1024)"), "output", /Output limit exceeded/);
  });

  test("a large object output is also capped", async () => {
    const r = await acme.contained("huge-object", "export default async () => ({ rows: Array.from({ length: 60000 }, (_, i) => ({ i, pad: 'pad-pad-pad' })) })", UNHURRIED);
    expectLimit(r, "output", /Output limit exceeded/);
  });

  test("a console.log flood is truncated with a marker and the call still returns", async () => {
    const r = await acme.contained("log-flood", "export default async () => { for (let i = 0; i < 100000; i++) console.log('line ' + i + ' ' + 'y'.repeat(200)); return 'done' }", UNHURRIED);
    expect(r.output).toBe("done");
    expect(r.logs.length).toBeLessThan(1000);
    expect(r.logs.at(-1)).toEqual({ level: "warn", message: expect.stringMatching(/console output truncated/) });
    expect(r.logs.reduce((n, l) => n + l.message.length, 0)).toBeLessThanOrEqual(64 * 1024 + 200);
  });

  test("one giant console line is dropped, not kept", async () => {
    const r = await acme.contained("log-giant", "export default async () => { console.log('z'.repeat(8 * 1024 * 1024)); return 'done' }");
    expect(r.output).toBe("done");
    expect(JSON.stringify(r.logs).length).toBeLessThan(70 * 1024);
  });
});

describe("promises and timers", () => {
  test("a promise that never settles ends at once with a clear error, not a hang", async () => {
    const r = await acme.contained("never-settles", "export default async () => new Promise(() => {})");
    expectToolError(r, /never settles/);
  });

  test("a pending timer that outlives the deadline ends at the timeout", async () => {
    const r = await acme.contained("long-sleep", "export default async () => { await new Promise((r) => setTimeout(r, 600000)); return 'woke' }");
    expectLimit(r, "timeout", TIMED_OUT);
  });

  test("a microtask storm ends at the timeout", async () => {
    const r = await acme.contained("microtask-storm", "export default async () => { const go = () => { Promise.resolve().then(go) }; go(); return new Promise(() => {}) }");
    expectLimit(r, "timeout", TIMED_OUT);
  });

  test("an awaited microtask chain that grows without bound is contained", async () => {
    const r = await acme.contained("microtask-chain", "export default async () => { const go = () => Promise.resolve().then(go); await go(); return 'unreachable' }");
    expect(r.isError).toBe(true);
    // usually the memory limit; when memory runs out while a job is being queued the message is wrong (see the next test)
    expect(r.error?.message).toMatch(/Memory limit exceeded|Timed out|never settles/);
  });

  test("memory exhausted inside queued microtasks is reported as the memory limit", async () => {
    // the chain runs out of memory inside jobs the tool does not await; the runner drops those job errors
    const r = await acme.contained("microtask-orphan", "export default async () => { const go = () => Promise.resolve().then(go); go(); return new Promise(() => {}) }", UNHURRIED);
    expect(r.isError).toBe(true);
    expect(r.error?.limit).toBe("memory");
  });

  test("a microtask storm left behind after returning does not leak into the next call", async () => {
    const r = await acme.contained("storm-behind", "export default async () => { const go = () => { queueMicrotask(go) }; go(); return 'returned' }");
    expect(r.output).toBe("returned");
  });

  test("a timer storm ends with the timer limit", async () => {
    const r = await acme.contained("timer-storm", "export default async () => { for (let i = 0; i < 1e6; i++) setTimeout(() => {}, 600000); return 'scheduled' }");
    expectToolError(r, /Timer limit exceeded/);
  });

  test("a self-rescheduling setTimeout(0) loop ends at the timeout", async () => {
    const r = await acme.contained("timer-loop", "export default async () => { const tick = () => setTimeout(tick, 0); tick(); return new Promise(() => {}) }");
    expectLimit(r, "timeout", TIMED_OUT);
  });
});

describe("odd results and thrown values", () => {
  test("a thrown string is reported as such", async () => {
    const r = await acme.contained("throw-string", "export default async () => { throw 'plain words' }");
    expectToolError(r, /plain words/);
    expect(r.error?.limit).toBeUndefined();
  });

  for (const [slug, thrown, mention] of [
    ["throw-number", "throw 42", /42/],
    ["throw-null", "throw null", /null/],
    ["throw-object", "throw { code: 7 }", /code|object/i],
    ["reject-empty", "return Promise.reject()", /undefined|reject/i],
  ] as const) {
    test(`\`${thrown}\` is a tool error, not reported as a breached limit`, async () => {
      const r = await acme.contained(slug, `export default async () => { ${thrown} }`);
      expect(r.isError).toBe(true);
      expect(r.error?.limit).toBeUndefined();
      expect(r.error?.message).not.toMatch(MEMORY);
      expect(r.error?.message).toMatch(mention);
    });
  }

  test("returning a function or a symbol yields no output, not a crash", async () => {
    for (const [slug, value] of [["return-fn", "() => 1"], ["return-symbol", "Symbol('s')"]]) {
      const r = await acme.contained(slug, `export default async () => ${value}`);
      expect(r.isError).toBe(false);
      expect(r.output).toBeNull();
      expect(r.structuredContent).toBeUndefined();
    }
  });

  test("returning a BigInt or a cyclic object is a serialization error", async () => {
    expectToolError(await acme.contained("return-bigint", "export default async () => ({ big: 10n ** 30n })"), /BigInt/);
    expectToolError(await acme.contained("return-cycle", "export default async () => { const a = { name: 'a' }; a.self = a; return a }"), /circular/);
  });

  test("a getter that throws during serialization fails the call with its message", async () => {
    const r = await acme.contained("getter-throws", "export default async () => ({ ok: 1, get boom() { throw new Error('getter exploded') } })");
    expectToolError(r, /getter exploded/);
  });

  test("very deep JSON input does not take the server down", async () => {
    const n = 30000;
    await acme.create("deep-input", "export default async (input) => typeof input.x");
    const body = `{"input":{"x":${"[".repeat(n)}${"]".repeat(n)}}}`;
    const tool = (await acme.rest("GET", "/tools/deep-input")).json.tool;
    const [res, bystander] = await Promise.all([acme.rest("POST", `/tools/${tool.id}/test`, body), acme.benign()]);
    await acme.expectBenign(bystander);
    // the caller's input is at fault: a validation error or a tool error, never an internal error
    expect(res.status).toBeLessThan(500);
    if (res.status === 200) expect(res.json.isError).toBe(true);
    else expect(res.json.error.code).toBe("VALIDATION_ERROR");
    await acme.expectBenign();
    await acme.expectHealthy();
  });

  test("deep input is refused at the edge naming the limit; input within it reaches the tool", async () => {
    await acme.create("deep-input-2", "export default async (input) => { let d = 0; for (let c = input.x; Array.isArray(c) && c.length; c = c[0]) d++; return d }");
    const tool = (await acme.rest("GET", "/tools/deep-input-2")).json.tool;
    const deep = (n: number) => `{"input":{"x":${"[".repeat(n)}[]${"]".repeat(n)}}}`;
    const refused = await acme.rest("POST", `/tools/${tool.id}/test`, deep(12_000));
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ code: "VALIDATION_ERROR" });
    expect(refused.json.error.message).toContain("nested deeper than 64 levels");
    // the body is 3 levels deep before x: x may nest 61 levels
    const within = await acme.rest("POST", `/tools/${tool.id}/test`, deep(60));
    expect(within.status).toBe(200);
    expect(within.json.output).toBe(60);
    await acme.expectBenign();
    await acme.expectHealthy();
  });
});
