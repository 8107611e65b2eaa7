/**
 * SandboxPool used directly: limits name what they hit, cancellation frees the
 * worker, orgs are served in turn, full queues fail fast, overrunning workers
 * are replaced, nothing survives between calls — plus compile errors with line
 * and column through the management API.
 *
 * Ordering is asserted through completion order and settled flags, never through
 * wall-clock measurements. "Started" is observed through context.progress().
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { SandboxPool } from "../../src/sandbox/pool.ts";
import type { CallOutcome } from "../../src/sandbox/protocol.ts";
import { managementClient, op, opError, rest } from "../support/client.ts";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";
import { call, closePoolsAfterAll, MiB, OK, started, startPool } from "./poolSupport.ts";

setDefaultTimeout(60_000);

closePoolsAfterAll();

/** Niceness of this process's worker threads, by thread id (Linux /proc). */
function workerNiceness(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      if (stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) !== "Worker") continue;
      // the fields after the command: state is field 3, nice field 19
      out.set(tid, Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

describe("the context bridge", () => {
  test("context.progress works with its optional total and message omitted", async () => {
    const pool = await startPool();
    const seen: unknown[][] = [];
    const o = await call(pool, "export default async (input, context) => { context.progress(1); context.progress(2, 4); context.progress(3, 4, 'm'); context.log('info', 'text'); context.log('warn', { a: 1 }); return 'reported' }", {
      onProgress: (...a) => seen.push(a),
    });
    expect(o).toMatchObject({ ok: true, output: "reported" });
    expect(seen).toEqual([
      [1, undefined, undefined],
      [2, 4, undefined],
      [3, 4, "m"],
    ]);
    expect(o.logs.map((l) => l.level)).toEqual(["info", "warn"]);
  });
});

describe("limits name what they hit", () => {
  let pool: SandboxPool;
  beforeAll(async () => {
    pool = await startPool();
  }, 60_000);

  test("timeout", async () => {
    const o = await call(pool, "export default async () => { while (true) {} }");
    expect(o).toMatchObject({ ok: false, error: { limit: "timeout", message: "Timed out after 1000 ms" } });
  });

  test("a sleep past the deadline ends at the timeout every time: the code is never woken to return", async () => {
    const pool = await startPool();
    const sleeper = "export default async () => { await new Promise((r) => setTimeout(r, 600000)); return 'woke' }";
    const outcomes: CallOutcome[] = [];
    for (let i = 0; i < 40; i++) outcomes.push(await call(pool, sleeper, { codeKey: "sleeper:1", limits: { timeoutMs: 20 } }));
    expect(outcomes.filter((o) => o.ok)).toEqual([]);
    expect(new Set(outcomes.map((o) => o.error?.limit))).toEqual(new Set(["timeout"]));
  });

  test("a per-call timeout overrides the default", async () => {
    const o = await call(pool, "export default async () => { for (;;) {} }", { limits: { timeoutMs: 200 } });
    expect(o.error).toEqual({ limit: "timeout", message: "Timed out after 200 ms" });
  });

  test("memory", async () => {
    const o = await call(pool, "export default async () => { const keep = []; for (;;) keep.push({ n: keep.length }) }");
    expect(o).toMatchObject({ ok: false, error: { limit: "memory", message: "Memory limit exceeded (32 MiB)" } });
  });

  test("memory: a call cannot ask for more than the pool's ceiling", async () => {
    const o = await call(pool, "export default async () => new ArrayBuffer(48 * 1024 * 1024).byteLength", { limits: { memoryBytes: 512 * MiB } });
    expect(o.error).toMatchObject({ limit: "memory" });
  });

  test("output", async () => {
    const o = await call(pool, "export default async () => 'x'.repeat(2000)", { limits: { outputBytes: 1000 } });
    expect(o).toMatchObject({ ok: false, error: { limit: "output", message: "Output limit exceeded: the result is larger than 1000 bytes" } });
    // just under the cap passes (the cap counts the JSON text: 998 chars + 2 quotes)
    expect(await call(pool, "export default async () => 'x'.repeat(998)", { limits: { outputBytes: 1000 } })).toMatchObject({ ok: true });
  });

  test("stack", async () => {
    const o = await call(pool, "export default async () => { const f = (n) => f(n + 1) + 1; return f(0) }");
    expect(o).toMatchObject({ ok: false, error: { limit: "stack", message: "Stack limit exceeded (512 KiB): too much recursion" } });
    const small = await call(pool, "export default async () => { const f = (n) => f(n + 1) + 1; return f(0) }", { limits: { stackBytes: 128 * 1024 } });
    expect(small.error).toEqual({ limit: "stack", message: "Stack limit exceeded (128 KiB): too much recursion" });
  });

  test("logs are capped with a marker", async () => {
    const o = await call(pool, "export default async () => { for (let i = 0; i < 100; i++) console.log('0123456789'.repeat(10)); return 1 }", { limits: { logBytes: 500 } });
    expect(o.ok).toBe(true);
    expect(o.logs).toHaveLength(6);
    expect(o.logs.at(-1)).toEqual({ level: "warn", message: "[console output truncated at 500 bytes]" });
  });

  test("the worker answers normally after every limit", async () => {
    expect(await call(pool, OK, { input: { v: 7 } })).toMatchObject({ ok: true, output: { ok: true, echo: 7 } });
    expect(pool.replaced).toBe(0); // the interrupt and the limits stopped everything; nothing had to be terminated
  });
});

describe("cancellation", () => {
  let pool: SandboxPool;
  beforeAll(async () => {
    pool = await startPool({ timeoutMs: 30_000 });
  }, 60_000);

  test("an AbortSignal stops a while (true) call and the worker takes the next call", async () => {
    const before = pool.replaced;
    const ac = new AbortController();
    const c = started(pool, "while (true) {}", { signal: ac.signal });
    await c.running;
    ac.abort();
    expect(await c.outcome).toMatchObject({ ok: false, error: { limit: "cancelled", message: "The call was cancelled" } });
    expect(pool.replaced).toBe(before); // stopped by the interrupt handler, not by terminating the worker
    expect(await call(pool, OK, { input: { v: "next" } })).toMatchObject({ ok: true, output: { echo: "next" } });
  });

  test("an AbortSignal stops a call sleeping in setTimeout", async () => {
    const ac = new AbortController();
    const c = started(pool, "await new Promise((r) => setTimeout(r, 10000)); return 'woke'", { signal: ac.signal });
    await c.running;
    ac.abort();
    expect(await c.outcome).toMatchObject({ ok: false, error: { limit: "cancelled" } });
    expect(await call(pool, OK)).toMatchObject({ ok: true });
  });

  test("an AbortSignal stops a call awaiting a promise that never settles on its own", async () => {
    const ac = new AbortController();
    const c = started(pool, "await new Promise((r) => setTimeout(r, 20000)); await new Promise(() => {})", { signal: ac.signal });
    await c.running;
    ac.abort();
    expect((await c.outcome).error?.limit).toBe("cancelled");
  });

  test("a call the interrupt cannot stop is cancelled by replacing its worker", async () => {
    const before = pool.replaced;
    const ac = new AbortController();
    // its own org: its thread outlives the worker, and the org is then refused calls on this one-worker pool
    const c = started(pool, "const a = []; a.length = 2 ** 32 - 1; return a.includes(1)", { signal: ac.signal, orgId: "org-stuck" });
    await c.running;
    ac.abort();
    expect(await c.outcome).toMatchObject({ ok: false, error: { limit: "cancelled" } });
    expect(pool.replaced).toBe(before + 1);
    expect(pool.size).toBe(1);
    expect(await call(pool, OK, { input: { v: "after replacement" } })).toMatchObject({ ok: true, output: { echo: "after replacement" } });
  });

  test("a queued call is cancelled without running, while the running call goes on", async () => {
    const stopFirst = new AbortController();
    const first = started(pool, "await new Promise((r) => setTimeout(r, 20000)); return 'first'", { signal: stopFirst.signal });
    await first.running;
    const ac = new AbortController();
    let ran = false;
    const queued = call(pool, "export default async (i, context) => { context.progress(1, 1, 'ran'); return 'ran' }", { signal: ac.signal, onProgress: () => (ran = true) });
    expect(pool.waiting).toBe(1);
    ac.abort();
    expect(await queued).toMatchObject({ ok: false, error: { limit: "cancelled" } });
    expect(pool.waiting).toBe(0);
    expect(first.settled()).toBe(false);
    stopFirst.abort();
    expect((await first.outcome).error?.limit).toBe("cancelled");
    expect(ran).toBe(false);
  });

  test("an already-aborted signal fails at once", async () => {
    const ac = new AbortController();
    ac.abort();
    expect(await call(pool, OK, { signal: ac.signal })).toMatchObject({ ok: false, error: { limit: "cancelled" } });
  });
});

describe("fairness", () => {
  test("one org's flood does not starve another org", async () => {
    const pool = await startPool({ timeoutMs: 20_000, perOrgQueue: 32 });
    const order: string[] = [];
    const slow = "export default async (input) => { await new Promise((r) => setTimeout(r, 20)); return input.tag }";
    const calls: Promise<CallOutcome>[] = [];
    const enqueue = (orgId: string, tag: string) =>
      calls.push(
        call(pool, slow, { orgId, input: { tag } }).then((o) => {
          order.push(String(o.output));
          return o;
        }),
      );
    for (let i = 1; i <= 10; i++) enqueue("flood", `A${i}`);
    enqueue("quiet", "B1");
    enqueue("other", "C1");
    const outcomes = await Promise.all(calls);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(order).toHaveLength(12);
    // A1 was already running; the rotation then serves A2, B1, C1 before the rest of A
    expect(order.indexOf("B1")).toBeLessThanOrEqual(2);
    expect(order.indexOf("C1")).toBeLessThanOrEqual(3);
    expect(order.slice(order.indexOf("C1") + 1).filter((t) => t.startsWith("A"))).toHaveLength(8);
    // and each org's own calls keep their order
    expect(order.filter((t) => t.startsWith("A"))).toEqual(Array.from({ length: 10 }, (_, i) => `A${i + 1}`));
  });
});

describe("back-pressure", () => {
  test("a full per-org queue fails fast with limit busy; other orgs still get in", async () => {
    const pool = await startPool({ timeoutMs: 20_000, perOrgQueue: 2, totalQueue: 3 });
    const hold = new AbortController();
    const running = started(pool, "await new Promise((r) => setTimeout(r, 15000)); return 'held'", { orgId: "org-a", signal: hold.signal });
    await running.running;
    const waiting = [call(pool, OK, { orgId: "org-a", input: { v: 1 } }), call(pool, OK, { orgId: "org-a", input: { v: 2 } })];
    const busy = await call(pool, OK, { orgId: "org-a", input: { v: 3 } });
    expect(busy).toMatchObject({ ok: false, error: { limit: "busy" } });
    expect(busy.error?.message).toMatch(/busy.*2 calls waiting/);
    expect(running.settled()).toBe(false); // it failed fast, while the queue was still held up

    const otherOrg = call(pool, OK, { orgId: "org-b", input: { v: "b" } }); // per-org cap is per org: accepted (3 waiting now)
    const overTotal = await call(pool, OK, { orgId: "org-c" });
    expect(overTotal).toMatchObject({ ok: false, error: { limit: "busy" } });
    expect(overTotal.error?.message).toMatch(/3 calls are waiting/);
    expect(running.settled()).toBe(false);

    hold.abort();
    expect((await running.outcome).error?.limit).toBe("cancelled");
    expect((await Promise.all(waiting)).map((o) => o.output)).toEqual([{ ok: true, echo: 1 }, { ok: true, echo: 2 }]);
    expect((await otherOrg).output).toEqual({ ok: true, echo: "b" });
  });

  test("time spent waiting counts against the deadline", async () => {
    const pool = await startPool({ timeoutMs: 20_000 });
    const hold = new AbortController();
    const running = started(pool, "await new Promise((r) => setTimeout(r, 15000))", { signal: hold.signal });
    await running.running;
    const starved = await call(pool, OK, { limits: { timeoutMs: 200 } });
    expect(starved).toMatchObject({ ok: false, error: { limit: "timeout", message: "Timed out after 200 ms waiting for a sandbox worker" } });
    hold.abort();
    await running.outcome;
  });
});

describe("worker replacement", () => {
  test("a call the interrupt cannot stop is ended by the watchdog and its worker replaced", async () => {
    const pool = await startPool({ timeoutMs: 300 });
    const before = pool.replaced;
    // includes() on a 2^32-1 sparse array loops in C without polling the interrupt handler
    const o = await call(pool, "export default async () => { const a = []; a.length = 2 ** 32 - 1; return a.includes(1) }");
    expect(o).toMatchObject({ ok: false, error: { limit: "timeout", message: "Timed out after 300 ms" } });
    expect(pool.replaced).toBe(before + 1);
    expect(pool.size).toBe(1);
    // its own deadline: it may wait for the replacement to start, which a loaded machine can take longer than 300 ms over
    expect(await call(pool, OK, { input: { v: "fresh worker" }, limits: { timeoutMs: 10_000 } })).toMatchObject({ ok: true, output: { echo: "fresh worker" } });
  });

  test("a terminated worker still spinning in native code is counted as stuck and moved to the lowest priority", async () => {
    // Bun cannot preempt a thread inside WebAssembly: the includes() loop (~45 s here) outlives terminate()
    const stuckBefore = new Set(workerNiceness().keys());
    const reported: number[] = [];
    const pool = await startPool({ timeoutMs: 300, onStuck: (tid) => reported.push(tid) });
    expect(pool.stuckThreads).toBe(0);
    const o = await call(pool, "export default async () => { const a = []; a.length = 2 ** 32 - 1; return a.includes(1) }");
    expect(o.error?.limit).toBe("timeout");
    while (reported.length === 0) await Bun.sleep(100);
    expect(pool.stuckThreads).toBe(1);
    const [tid] = reported;
    expect(stuckBefore.has(String(tid))).toBe(false);
    expect(workerNiceness().get(String(tid))).toBe(19);
    // the replacement serves at the pool's own priority
    expect(await call(pool, OK, { orgId: "org-b", input: { v: "after" } })).toMatchObject({ ok: true, output: { echo: "after" } });
  });

  test("an org whose calls left as many stuck threads as the pool has workers is refused until they end; other orgs are served", async () => {
    const reported: number[] = [];
    const pool = await startPool({ timeoutMs: 300, onStuck: (tid) => reported.push(tid) });
    const o = await call(pool, "export default async () => { const a = []; a.length = 2 ** 32 - 1; return a.includes(1) }");
    expect(o.error?.limit).toBe("timeout");
    while (reported.length === 0) await Bun.sleep(100);
    // one worker, one stuck thread of org-a: org-a waits, and nothing of its call reaches a worker
    const refused = await call(pool, OK, { input: { v: "again" } });
    expect(refused).toMatchObject({ ok: false, error: { limit: "busy", message: expect.stringContaining("1 sandbox thread is still running code that could not be interrupted") } });
    expect(await call(pool, OK, { orgId: "org-b", input: { v: "other org" } })).toMatchObject({ ok: true, output: { echo: "other org" } });
    expect(pool.replaced).toBe(1);
  });

  test("a replaced worker's siblings keep serving", async () => {
    const pool = await startPool({ timeoutMs: 300, size: 2 });
    const stuck = call(pool, "export default async () => { const a = []; a.length = 2 ** 32 - 1; return a.lastIndexOf(1) }");
    const fine = await call(pool, OK, { input: { v: "sibling" } });
    expect(fine).toMatchObject({ ok: true, output: { echo: "sibling" } });
    expect((await stuck).error?.limit).toBe("timeout");
    expect(pool.replaced).toBe(1);
    expect(pool.size).toBe(2);
  });

  test("a call queued inside a worker that is replaced runs on the new worker instead of failing", async () => {
    const pool = await startPool({ timeoutMs: 300 });
    const stuck = call(pool, "export default async () => { const a = []; a.length = 2 ** 32 - 1; return a.includes(1) }");
    // with the only worker busy, this call is queued inside it, behind the runaway
    const behind = call(pool, OK, { orgId: "org-b", input: { v: "behind" }, limits: { timeoutMs: 5000 } });
    expect((await stuck).error?.limit).toBe("timeout");
    expect(await behind).toMatchObject({ ok: true, output: { echo: "behind" } });
    expect(pool.replaced).toBe(1);
  });

  test("a call queued behind a long call moves to a worker that falls idle", async () => {
    const pool = await startPool({ timeoutMs: 20_000, size: 2 });
    const long = started(pool, "await new Promise((r) => setTimeout(r, 15000)); return 'long'");
    const short = started(pool, "await new Promise((r) => setTimeout(r, 100)); return 'short'");
    await Promise.all([long.running, short.running]);
    // both workers busy: the next call is queued inside one of them, possibly behind the long call
    const third = call(pool, OK, { input: { v: "third" } });
    expect((await short.outcome).output).toBe("short");
    expect(await third).toMatchObject({ ok: true, output: { echo: "third" } });
    expect(long.settled()).toBe(false);
    await pool.close();
  });

  test("closing the pool fails waiting calls instead of leaving them hanging", async () => {
    const pool = await startPool({ timeoutMs: 20_000 });
    const running = started(pool, "await new Promise((r) => setTimeout(r, 15000))");
    await running.running;
    const queued = call(pool, OK);
    await pool.close();
    expect((await running.outcome).error?.message).toMatch(/shutting down/);
    expect((await queued).error?.message).toMatch(/shutting down/);
    expect(await call(pool, OK)).toMatchObject({ ok: false, error: { message: "The sandbox is shutting down" } });
  });
});

describe("scheduling priority", () => {
  const newWorkers = async (opts: Parameters<typeof startPool>[0]) => {
    const before = workerNiceness();
    const pool = await startPool(opts);
    // a worker sets its niceness on init, before it reports ready
    expect(await call(pool, OK, { input: { v: 1 } })).toMatchObject({ ok: true });
    const added = [...workerNiceness()].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
    await pool.close();
    return added;
  };

  test("worker threads run at the niceness the pool was given; the main thread keeps its own", async () => {
    const mainBefore = Number(readFileSync("/proc/thread-self/stat", "utf8").split(") ")[1]!.split(" ")[16]);
    // in a full run another file's pool may start a worker meanwhile (a replacement after its grace time): that
    // thread is at the process's niceness, 0, so the pool's own are told apart by theirs
    const reniced = await newWorkers({ size: 2, nice: 7 });
    expect(reniced.filter((n) => n === 7)).toEqual([7, 7]);
    expect(reniced.filter((n) => n !== 7 && n !== 0)).toEqual([]);
    const plain = await newWorkers({ size: 1 });
    expect(plain.length).toBeGreaterThanOrEqual(1);
    expect(plain.filter((n) => n !== 0)).toEqual([]);
    expect(Number(readFileSync("/proc/thread-self/stat", "utf8").split(") ")[1]!.split(" ")[16])).toBe(mainBefore);
  });
});

describe("robustness of the pool itself", () => {
  test("a queued call promoted to running is never skipped when the call queued behind it is taken back for an idle worker", async () => {
    // Three clients on two workers keep each worker's queue slot changing hands: a worker falls idle, takes back
    // the other's queued call, and the next post refills that slot. With the workers at nice 10 (the default)
    // and the main thread busy after each answer, a worker is often descheduled between its "done" and claiming
    // the call promoted behind it. Before the fix that call's claim cell was reused, the worker skipped it, and
    // its caller waited until the watchdog (a timeout, and a replaced worker): this failed on every run.
    const pool = await startPool({ size: 2, nice: 10, perOrgQueue: 100, totalQueue: 100, timeoutMs: 5000 });
    const failed: unknown[] = [];
    let sent = 0;
    const client = async () => {
      while (sent < 6000) {
        sent++;
        const o = await call(pool, OK, { codeKey: "echo:1", input: { v: sent } });
        if (!o.ok) failed.push(o.error);
        const busyUntil = performance.now() + 0.2;
        while (performance.now() < busyUntil) {}
      }
    };
    await Promise.all([client(), client(), client()]);
    expect(failed).toEqual([]);
    expect(pool.replaced).toBe(0);
  });

  test("an input too deeply nested to post to a worker fails that call only (run never rejects, the worker stays usable)", async () => {
    const pool = await startPool({ timeoutMs: 1000 });
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const o = await call(pool, OK, { input: { deep } }).catch((e: unknown) => ({ rejected: String(e) }));
    expect(o).toMatchObject({ ok: false });
    const next = await call(pool, OK, { input: { v: "still served" } });
    expect(next).toMatchObject({ ok: true, output: { echo: "still served" } });
  });
});

describe("state the interpreter keeps across calls", () => {
  // How deep a plain recursion gets before the stack limit: the same for every call of a healthy worker.
  const DEPTH_PROBE = "export default async () => { let max = 0; const f = (k) => { max = k; f(k + 1) }; try { f(0) } catch (e) { return max } }";
  /** Recursion in the interpreter's C code (serializing a deep value) that the host engine's stack runs out of first. */
  const HOST_OVERFLOW = "export default async () => { let a = []; for (let i = 0; i < 200000; i++) a = [a]; return a }";

  test("a call that overflows the host stack inside the interpreter leaves later calls the same stack depth", async () => {
    const pool = await startPool({ memoryBytes: 64 * MiB, timeoutMs: 10_000 }); // the deep serialization is slow under load; this test is about the stack, not the clock
    const baseline = (await call(pool, DEPTH_PROBE)).output as number;
    expect(baseline).toBeGreaterThan(1000);
    expect((await call(pool, DEPTH_PROBE)).output).toBe(baseline);
    for (let i = 0; i < 2; i++) {
      const o = await call(pool, HOST_OVERFLOW);
      expect(o.ok).toBe(false);
      expect(await call(pool, DEPTH_PROBE)).toMatchObject({ ok: true, output: baseline });
    }
  });

  test("a call that overflows the host stack inside the interpreter names the stack limit", async () => {
    const pool = await startPool({ memoryBytes: 64 * MiB, timeoutMs: 10_000 }); // the deep serialization is slow under load; this test is about the stack, not the clock
    expect((await call(pool, HOST_OVERFLOW)).error).toMatchObject({ limit: "stack" });
  });
});

describe("isolation", () => {
  let pool: SandboxPool;
  beforeAll(async () => {
    pool = await startPool();
  }, 60_000);

  test("module state does not survive between calls of the same code key", async () => {
    const counter = "let n = 0;\nexport default async () => ++n";
    for (let i = 0; i < 3; i++) expect((await call(pool, counter, { codeKey: "counter:1" })).output).toBe(1);
  });

  test("globals and prototypes set by one call are gone in the next, for any org", async () => {
    const dirty = `export default async () => {
      globalThis.shared = "left over";
      Object.prototype.polluted = true;
      Array.prototype.map = () => "hijacked";
      Math.random = () => 4;
      return "dirtied";
    }`;
    const look = "export default async () => ({ shared: globalThis.shared ?? null, polluted: ({}).polluted ?? null, map: [1].map((x) => x * 2), random: Math.random() === 4 })";
    expect((await call(pool, dirty, { codeKey: "dirty:1" })).output).toBe("dirtied");
    for (const orgId of ["org-a", "org-b"]) {
      expect((await call(pool, look, { orgId, codeKey: "look:1" })).output).toEqual({ shared: null, polluted: null, map: [2], random: false });
    }
  });

  test("context and input belong to their own call", async () => {
    const code = "export default async (input, context) => ({ input, requestId: context.requestId, secrets: context.secrets })";
    const a = await call(pool, code, { input: { who: "a" }, context: { requestId: "req-a", secrets: { TOKEN: "aaaa-secret" } } });
    const b = await call(pool, code, { orgId: "org-b", input: { who: "b" }, context: { requestId: "req-b" } });
    expect(a.output).toEqual({ input: { who: "a" }, requestId: "req-a", secrets: { TOKEN: "aaaa-secret" } });
    expect(b.output).toEqual({ input: { who: "b" }, requestId: "req-b", secrets: {} });
  });

  test("a call after a limit breach starts from a clean slate", async () => {
    await call(pool, "export default async () => { globalThis.big = []; for (;;) globalThis.big.push(new Array(1000).fill(1)) }");
    expect((await call(pool, "export default async () => typeof globalThis.big")).output).toBe("undefined");
  });

  test("Math.random is seeded afresh for every call (the restored heap does not replay it)", async () => {
    const draw = "export default async () => Array.from({ length: 64 }, () => Math.random())";
    const a = (await call(pool, draw)).output as number[];
    const b = (await call(pool, draw)).output as number[];
    expect(a).not.toEqual(b);
    const all = [...a, ...b];
    expect(new Set(all).size).toBe(all.length);
    for (const x of all) expect(x >= 0 && x < 1).toBe(true);
    const mean = all.reduce((s, x) => s + x, 0) / all.length;
    expect(mean).toBeGreaterThan(0.3);
    expect(mean).toBeLessThan(0.7);
  });

  test("console, fetch and tools still work after a call deleted them and the collector freed them", async () => {
    const vandal = `export default async () => {
      for (const k of ["console", "fetch", "setTimeout", "tools", "Headers"]) delete globalThis[k];
      const junk = []; for (let i = 0; i < 20000; i++) junk.push({ i, s: "x" + i });
      return typeof console;
    }`;
    expect((await call(pool, vandal)).output).toBe("undefined");
    const o = await call(pool, "export default async () => { console.log('still here'); await new Promise((r) => setTimeout(r, 1)); return [typeof fetch, typeof tools, typeof Headers] }");
    expect(o).toMatchObject({ ok: true, output: ["function", "object", "function"] });
    expect(o.logs.map((l) => l.message)).toEqual(["still here"]);
  });

  test("a call that grew the heap by megabytes leaves the next call a clean heap", async () => {
    const grow = "globalThis.kept = []; export default async () => { for (let i = 0; i < 4000; i++) globalThis.kept.push('y'.repeat(1000) + i); return globalThis.kept.length }";
    expect((await call(pool, grow)).output).toBe(4000);
    expect((await call(pool, "export default async () => typeof globalThis.kept")).output).toBe("undefined");
    expect((await call(pool, grow)).output).toBe(4000);
  });

  test("CODE-mode scripts are isolated the same way", async () => {
    const script = "const before = globalThis.seen ?? null; globalThis.seen = 'yes'; return { before, tools: typeof tools }";
    for (let i = 0; i < 2; i++) expect((await pool.run({ orgId: "org-a", codeKey: null, code: script, kind: "script" })).output).toEqual({ before: null, tools: "object" });
  });
});

describe("compile errors through the API", () => {
  let dzx: Dzx;
  let key: TestKey;
  let client: Client;
  beforeAll(async () => {
    const s = await startWithKeys({ admin: ["acme"] }, { DZX_TOOL_TIMEOUT_MS: "1500" });
    dzx = s.dzx;
    key = s.keys.admin;
    client = await managementClient(dzx.url, key.key);
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await dzx?.dispose();
  });

  test("a JavaScript syntax error is a VALIDATION_ERROR with line and column", async () => {
    const e: any = await opError(client, "dwizi.tools.create", { tool: { name: "broken", source: "export default async () => {\n  return (1 +;\n}" } });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toMatch(/line 2, column \d+/);
    expect(e.details).toMatchObject({ line: 2, column: expect.any(Number) });
  });

  test("a TypeScript syntax error carries its line and column", async () => {
    const source = "type In = { a: number };\n\nexport default async (input: In) => {\n  const x: = input.a;\n  return x;\n};";
    const e: any = await opError(client, "dwizi.tools.create", { tool: { name: "broken-ts", language: "ts", source } });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.details).toMatchObject({ line: 4 });
    expect(e.message).toContain("line 4");
  });

  test("REST create answers 400 with the position", async () => {
    const res = await rest(dzx.url, key.key, "POST", "/tools", { name: "broken-rest", source: "\n\nexport default async () => { return }}" });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: "VALIDATION_ERROR", details: { line: 3 } });
  });

  test("an update to a broken source is refused and the tool keeps its working version", async () => {
    const t = (await op(client, "dwizi.tools.create", { tool: { name: "works", slug: "works", source: "export default async () => 'v1'" } })).tool;
    const e: any = await opError(client, "dwizi.tools.update", { slug: "works", patch: { source: "export default async () => {\n\n  'v2\n}" } });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.details?.line).toBe(3);
    const now = (await op(client, "dwizi.tools.get", { slug: "works" })).tool;
    expect(now).toMatchObject({ version: t.version, source: "export default async () => 'v1'" });
    expect((await op(client, "dwizi.tools.test", { slug: "works", input: {} })).output).toBe("v1");
  });

  test("a source that parses but cannot load in the sandbox is refused with the loader's message", async () => {
    const e = await opError(client, "dwizi.tools.create", { tool: { name: "throws-on-load", source: "throw new Error('refusing to load');\nexport default async () => 1" } });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toContain("refusing to load");
  });

  test("a source without a default export is refused", async () => {
    const e = await opError(client, "dwizi.tools.create", { tool: { name: "no-default", source: "export const handler = async () => 1" } });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toMatch(/default/);
  });
});
