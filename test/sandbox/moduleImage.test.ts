/**
 * A tool's module is loaded once per sandbox module and its heap kept (moduleImage.ts):
 * later calls of the same code start from that image instead of compiling and
 * evaluating it again. Each call must still start from the state the top level left,
 * never from another call's or another tool's, and a module whose top level did more
 * than compute (a console line, a pending host operation) still loads with every call.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { SandboxPool } from "../../src/sandbox/pool.ts";
import { call, closePoolsAfterAll, startPool } from "./poolSupport.ts";

setDefaultTimeout(60_000);
closePoolsAfterAll();

let pool: SandboxPool;
beforeAll(async () => {
  // one worker: every call below runs on the same QuickJS module, where images are kept
  pool = await startPool({ size: 1, timeoutMs: 5000 });
});

/** Waits until the clock has moved on, so a value the top level computes again would differ. */
async function clockMoves(since: number): Promise<void> {
  while (Date.now() <= since + 2) await Bun.sleep(1);
}

describe("module images", () => {
  test("a tool's top level runs once: later calls of the same code start from the state it left", async () => {
    const code = "const loadedAt = Date.now();\nlet n = 0;\nexport default async () => ({ loadedAt, n: ++n })";
    const first = await call(pool, code, { codeKey: "image:stamp:1" });
    expect(first.ok).toBe(true);
    await clockMoves((first.output as { loadedAt: number }).loadedAt);
    const second = await call(pool, code, { codeKey: "image:stamp:1" });
    // the same load (no second evaluation), and the counter back at the loaded state: 1 again
    expect(second.output).toEqual(first.output as object);
    expect((second.output as { n: number }).n).toBe(1);
  });

  test("the same code under another key, or with the kind of a check, loads afresh", async () => {
    const code = "const loadedAt = Date.now();\nexport default async () => loadedAt";
    const a = await call(pool, code, { codeKey: "image:kind:1" });
    await clockMoves(a.output as number);
    const b = await call(pool, code, { codeKey: "image:kind:2" });
    expect(b.output).toBeGreaterThan(a.output as number);
    expect((await call(pool, code, { codeKey: "image:kind:1", kind: "check" })).ok).toBe(true);
    expect((await call(pool, code, { codeKey: "image:kind:1" })).output).toBe(a.output as number);
  });

  test("code changed under the same key runs the new code", async () => {
    expect((await call(pool, "export default async () => 'old'", { codeKey: "image:edit:1" })).output).toBe("old");
    expect((await call(pool, "export default async () => 'old'", { codeKey: "image:edit:1" })).output).toBe("old");
    expect((await call(pool, "export default async () => 'new'", { codeKey: "image:edit:1" })).output).toBe("new");
    expect((await call(pool, "export default async () => 'new'", { codeKey: "image:edit:1" })).output).toBe("new");
  });

  test("what one tool's top level changes never reaches another tool, in any order of calls", async () => {
    const dirty = `globalThis.leak = "from the top level";
Object.prototype.polluted = true;
Array.prototype.map = () => "hijacked";
JSON.stringify = () => '"forged"';
export default async () => "dirty loaded"`;
    const look = "export default async () => ({ leak: globalThis.leak ?? null, polluted: ({}).polluted ?? null, map: [1].map((x) => x * 2) })";
    const clean = { leak: null, polluted: null, map: [2] };
    for (let i = 0; i < 3; i++) {
      expect((await call(pool, dirty, { codeKey: "image:dirty:1" })).output).toBe("dirty loaded");
      expect((await call(pool, look, { codeKey: "image:look:1" })).output).toEqual(clean);
      expect((await call(pool, look, { codeKey: "image:look:1" })).output).toEqual(clean);
    }
  });

  test("more tools than images are kept: each call still runs its own tool", async () => {
    const tools = Array.from({ length: 14 }, (_, i) => ({ key: `image:many:${i}`, code: `const me = ${i};\nexport default async (input) => ({ me, v: input.v })` }));
    for (let round = 0; round < 3; round++) {
      for (const [i, t] of tools.entries()) {
        expect((await call(pool, t.code, { codeKey: t.key, input: { v: round } })).output).toEqual({ me: i, v: round });
      }
    }
  });

  test("a top level that writes to the console logs with every call", async () => {
    const code = 'console.log("loading");\nexport default async () => "done"';
    for (let i = 0; i < 3; i++) {
      const o = await call(pool, code, { codeKey: "image:console:1" });
      expect(o.output).toBe("done");
      expect(o.logs.map((l) => l.message)).toEqual(["loading"]);
    }
  });

  test("a top level that fails fails every call, and a working tool beside it is unaffected", async () => {
    const broken = 'throw new Error("no config");\nexport default async () => 1';
    for (let i = 0; i < 2; i++) {
      const o = await call(pool, broken, { codeKey: "image:broken:1" });
      expect(o.ok).toBe(false);
      expect(o.error?.message).toContain("no config");
      expect((await call(pool, "export default async () => 2", { codeKey: "image:fine:1" })).output).toBe(2);
    }
  });

  test("input, context and Math.random are each call's own when calls start from an image", async () => {
    const code = "export default async (input, context) => ({ input, requestId: context.requestId, r: Math.random() })";
    const a = await call(pool, code, { codeKey: "image:ctx:1", input: { who: "a" }, context: { requestId: "req-a" } });
    const b = await call(pool, code, { codeKey: "image:ctx:1", input: { who: "b" }, context: { requestId: "req-b" } });
    expect(a.output).toMatchObject({ input: { who: "a" }, requestId: "req-a" });
    expect(b.output).toMatchObject({ input: { who: "b" }, requestId: "req-b" });
    expect((a.output as { r: number }).r).not.toBe((b.output as { r: number }).r);
  });

  test("a call that grew the heap by megabytes leaves the next call of an imaged tool a clean image", async () => {
    const code = "let seen = null;\nexport default async (input) => { const before = seen; seen = input.fill ? 'x'.repeat(8 * 1024 * 1024) : 'small'; return { before, fill: !!input.fill }; }";
    expect((await call(pool, code, { codeKey: "image:grow:1", input: {} })).output).toEqual({ before: null, fill: false });
    expect((await call(pool, code, { codeKey: "image:grow:1", input: { fill: true } })).output).toEqual({ before: null, fill: true });
    expect((await call(pool, code, { codeKey: "image:grow:1", input: {} })).output).toEqual({ before: null, fill: false });
  });
});
