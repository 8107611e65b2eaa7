/**
 * Calls queued inside busy workers: a worker of short calls holds several (no
 * wake-up per call), a worker of long calls only one (the fair queue keeps
 * ordering the rest), queued calls leave a worker whose call overran for an idle
 * one, and every queued call survives its worker's replacement.
 *
 * Queue placement is read from `queuedInWorkers`; ordering from completion order
 * and settled flags, never from wall-clock measurements.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { ClaimCells } from "../../src/sandbox/poolSlot.ts";
import type { SandboxPool } from "../../src/sandbox/pool.ts";
import { call, closePoolsAfterAll, OK, started, startPool } from "./poolSupport.ts";

setDefaultTimeout(60_000);
closePoolsAfterAll();

/**
 * Thresholds a loaded machine cannot cross by accident: with the defaults (0.5 ms, 2 ms) a
 * warm-up call slowed by a busy CI host counts as long, and the worker holds one call, not several.
 */
const LOOSE = { shortCallMs: 50, overrunMs: 1000 };

/** Runs short calls one after another until the worker that took them counts its calls as short. */
async function warm(pool: SandboxPool): Promise<void> {
  for (let i = 0; i < 30; i++) expect(await call(pool, OK, { codeKey: "ok:1", input: { v: i } })).toMatchObject({ ok: true });
}

describe("depth", () => {
  test("a worker busy with short calls holds several calls queued behind the running one", async () => {
    const pool = await startPool({ timeoutMs: 10_000, queueDepth: 4, ...LOOSE });
    await warm(pool);
    const hold = new AbortController();
    // it reports progress only once running, so it counts as a short call that has not overrun yet when the rest arrive
    const running = started(pool, "await new Promise((r) => setTimeout(r, 8000))", { signal: hold.signal });
    const queued = Array.from({ length: 6 }, (_, i) => call(pool, OK, { codeKey: "ok:1", input: { v: `q${i}` } }));
    // four went into the worker, the other two wait in the pool's fair queue
    expect(pool.queuedInWorkers).toBe(4);
    expect(pool.waiting).toBe(6);
    hold.abort();
    expect((await running.outcome).error?.limit).toBe("cancelled");
    expect((await Promise.all(queued)).map((o) => o.output)).toEqual(Array.from({ length: 6 }, (_, i) => ({ ok: true, echo: `q${i}` })));
  });

  test("a worker whose calls are long holds one queued call: the rest stay in the fair queue", async () => {
    const pool = await startPool({ timeoutMs: 10_000, queueDepth: 4 });
    // a worker starts out counting its calls as long, and a 50 ms call keeps it so
    expect(await call(pool, "export default async () => { await new Promise((r) => setTimeout(r, 50)); return 1 }")).toMatchObject({ ok: true });
    const hold = new AbortController();
    const running = started(pool, "await new Promise((r) => setTimeout(r, 8000))", { signal: hold.signal });
    await running.running;
    const queued = Array.from({ length: 3 }, (_, i) => call(pool, OK, { input: { v: i } }));
    expect(pool.queuedInWorkers).toBe(1);
    expect(pool.waiting).toBe(3);
    hold.abort();
    await running.outcome;
    expect((await Promise.all(queued)).every((o) => o.ok)).toBe(true);
  });

  test("queueDepth 0 keeps every waiting call in the fair queue", async () => {
    const pool = await startPool({ timeoutMs: 10_000, queueDepth: 0 });
    await warm(pool);
    const hold = new AbortController();
    const running = started(pool, "await new Promise((r) => setTimeout(r, 8000))", { signal: hold.signal });
    const queued = [call(pool, OK, { input: { v: 1 } }), call(pool, OK, { input: { v: 2 } })];
    expect(pool.queuedInWorkers).toBe(0);
    expect(pool.waiting).toBe(2);
    hold.abort();
    await running.outcome;
    expect((await Promise.all(queued)).map((o) => o.output)).toEqual([{ ok: true, echo: 1 }, { ok: true, echo: 2 }]);
  });
});

describe("moving and requeueing", () => {
  test("calls queued behind a short call that overruns move to an idle worker", async () => {
    const pool = await startPool({ size: 2, timeoutMs: 20_000, ...LOOSE, overrunMs: 200 });
    await warm(pool); // the most recently idle worker takes every one of these: it is the warm one
    const long = started(pool, "await new Promise((r) => setTimeout(r, 15000)); return 'long'");
    // queued behind the call that just started on the warm worker, while the other worker sleeps
    const behind = Array.from({ length: 3 }, (_, i) => call(pool, OK, { input: { v: `b${i}` } }));
    expect(pool.queuedInWorkers).toBe(3);
    // once the running call has overrun a short call's time, the idle worker takes them over
    expect((await Promise.all(behind)).map((o) => o.output)).toEqual([0, 1, 2].map((i) => ({ ok: true, echo: `b${i}` })));
    expect(long.settled()).toBe(false);
    expect(pool.replaced).toBe(0);
  });

  test("every call queued in a replaced worker runs on its replacement, in order", async () => {
    const pool = await startPool({ timeoutMs: 300, ...LOOSE });
    await warm(pool);
    const stuck = call(pool, "export default async () => { const a = []; a.length = 2 ** 32 - 1; return a.includes(1) }");
    const order: string[] = [];
    const behind = Array.from({ length: 3 }, (_, i) =>
      call(pool, OK, { orgId: "org-b", input: { v: `b${i}` }, limits: { timeoutMs: 10_000 } }).then((o) => (order.push(String((o.output as { echo?: string })?.echo)), o)),
    );
    expect(pool.queuedInWorkers).toBe(3);
    expect((await stuck).error?.limit).toBe("timeout");
    expect((await Promise.all(behind)).every((o) => o.ok)).toBe(true);
    expect(order).toEqual(["b0", "b1", "b2"]);
    expect(pool.replaced).toBe(1);
  });

  test("a queued call cancelled before it starts never runs; the calls behind it still do", async () => {
    const pool = await startPool({ timeoutMs: 10_000, ...LOOSE });
    await warm(pool);
    const hold = new AbortController();
    const running = started(pool, "await new Promise((r) => setTimeout(r, 8000))", { signal: hold.signal });
    const cancel = new AbortController();
    const ran: string[] = [];
    const first = call(pool, OK, { input: { v: "first" } });
    const cancelled = call(pool, "export default async (input, context) => { context.progress(1); return 'ran' }", { signal: cancel.signal, onProgress: () => ran.push("cancelled one") });
    const last = call(pool, OK, { input: { v: "last" } });
    expect(pool.queuedInWorkers).toBe(3);
    cancel.abort();
    expect(await cancelled).toMatchObject({ ok: false, error: { limit: "cancelled" } });
    expect(pool.queuedInWorkers).toBe(2);
    hold.abort();
    await running.outcome;
    expect((await first).output).toEqual({ ok: true, echo: "first" });
    expect((await last).output).toEqual({ ok: true, echo: "last" });
    expect(ran).toEqual([]);
  });
});

describe("claim cells", () => {
  test("a cell is handed out again only after it was given back", () => {
    const cells = new ClaimCells(3);
    const taken = [cells.take(), cells.take(), cells.take()];
    expect(new Set(taken).size).toBe(3);
    expect(taken.every((c) => c !== undefined && c >= 1 && c <= 3)).toBe(true);
    expect(cells.take()).toBeUndefined();
    cells.give(taken[1]);
    expect(cells.available).toBe(1);
    expect(cells.take()).toBe(taken[1]);
  });
});
