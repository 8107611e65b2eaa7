/**
 * context.elicit / context.sample at the pool: requests checked before they leave
 * the sandbox, answers handed back, and a call that waits on its client parked —
 * its worker runs other calls meanwhile, its time limit does not count the wait,
 * the wait has its own limit, cancelling it frees everything, and the number of
 * waiting calls is bounded per org and per worker.
 *
 * Ordering is asserted through what completes while something else waits, never
 * through wall-clock measurements.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { CallRequest } from "../../src/sandbox/pool.ts";
import { call, closePoolsAfterAll, OK, startPool } from "./poolSupport.ts";

setDefaultTimeout(60_000);

closePoolsAfterAll();

/** A client stand-in: records what it is asked and answers when told to. */
function client() {
  const asked: { method: string; params: Record<string, unknown>; signal: AbortSignal; answer(v: unknown): void; fail(e: Error): void }[] = [];
  let notify: (() => void) | undefined;
  const onAsk: CallRequest["onAsk"] = (method, params, signal) =>
    new Promise((resolve, reject) => {
      asked.push({ method, params, signal, answer: resolve, fail: reject });
      notify?.();
    });
  /** Resolves once `n` questions have come. */
  const questions = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => (asked.length >= n ? resolve() : undefined);
      notify = check;
      check();
    });
  return { asked, onAsk, questions };
}

const ELICIT = `export default async (input, context) => {
  const r = await context.elicit({ message: "Name?", requestedSchema: { type: "object", properties: { name: { type: "string", default: "Ada" } }, required: ["name"] } });
  return { got: r };
}`;

describe("what a tool asks", () => {
  test("context.elicit sends elicitation/create with the request unchanged and returns the client's answer", async () => {
    const pool = await startPool();
    const c = client();
    const outcome = call(pool, ELICIT, { onAsk: c.onAsk });
    await c.questions(1);
    expect(c.asked[0].method).toBe("elicitation/create");
    expect(c.asked[0].params).toEqual({ message: "Name?", requestedSchema: { type: "object", properties: { name: { type: "string", default: "Ada" } }, required: ["name"] } });
    c.asked[0].answer({ action: "accept", content: { name: "Grace" } });
    expect(await outcome).toMatchObject({ ok: true, output: { got: { action: "accept", content: { name: "Grace" } } } });
  });

  test("context.sample sends sampling/createMessage and returns the client's CreateMessageResult", async () => {
    const pool = await startPool();
    const c = client();
    const outcome = call(pool, `export default async (input, context) => {
      const r = await context.sample({ messages: [{ role: "user", content: { type: "text", text: "hi" } }], maxTokens: 50, systemPrompt: "be brief", temperature: 0.2, stopSequences: ["."], includeContext: "none", modelPreferences: { hints: [{ name: "claude" }], speedPriority: 1 }, metadata: { a: 1 } });
      return "said: " + r.content.text;
    }`, { onAsk: c.onAsk });
    await c.questions(1);
    expect(c.asked[0].method).toBe("sampling/createMessage");
    expect(c.asked[0].params.maxTokens).toBe(50);
    c.asked[0].answer({ role: "assistant", content: { type: "text", text: "hello" }, model: "m", stopReason: "endTurn" });
    expect(await outcome).toMatchObject({ ok: true, output: "said: hello" });
  });

  test("a malformed request is an error the tool catches, naming the field, and nothing reaches the client", async () => {
    const pool = await startPool();
    const c = client();
    const cases = [
      ["context.elicit()", "context.elicit: pass an object {message, requestedSchema}"],
      ["context.elicit({ message: '', requestedSchema: { type: 'object', properties: {} } })", `context.elicit: "message" must be a non-empty string`],
      ["context.elicit({ message: 'm', requestedSchema: { type: 'string' } })", `context.elicit: "requestedSchema.type" must be "object"`],
      ["context.elicit({ message: 'm', requestedSchema: { type: 'object', properties: { a: {} }, required: ['b'] } })", `context.elicit: "requestedSchema.required" names "b", which is not one of its properties`],
      ["context.elicit({ message: 'm', requestedSchema: { type: 'object', properties: {} }, extra: 1 })", `context.elicit: unknown field "extra"`],
      ["context.sample({ messages: [], maxTokens: 10 })", `context.sample: "messages" must be a non-empty array of {role, content}`],
      ["context.sample({ messages: [{ role: 'system', content: { type: 'text', text: 'x' } }], maxTokens: 10 })", `context.sample: messages[0].role must be "user" or "assistant"`],
      ["context.sample({ messages: [{ role: 'user', content: { type: 'image', data: 'AA==' } }], maxTokens: 10 })", `context.sample: messages[0].content.mimeType must be a non-empty string`],
      ["context.sample({ messages: [{ role: 'user', content: { type: 'text', text: 'x' } }], maxTokens: 0 })", `context.sample: "maxTokens" must be a positive integer`],
    ];
    const o = await call(pool, `export default async (input, context) => {
      const out = [];
      for (const src of ${JSON.stringify(cases.map((x) => x[0]))}) {
        try { await eval(src); out.push("no error"); } catch (e) { out.push(e.message); }
      }
      return out;
    }`, { onAsk: c.onAsk });
    expect(o.ok).toBe(true);
    const messages = o.output as string[];
    cases.forEach(([, expected], i) => expect(messages[i]).toStartWith(expected));
    expect(c.asked).toHaveLength(0);
  });

  test("a call that cannot ask gets an error saying so; a client's refusal reaches the tool as an error", async () => {
    const pool = await startPool();
    const none = await call(pool, `export default async (i, c) => { try { await c.elicit({ message: "m", requestedSchema: { type: "object", properties: {} } }); return "asked"; } catch (e) { return e.message; } }`);
    expect(none.output).toBe("context.elicit: this call has no client to ask");
    const refused = await call(pool, `export default async (i, c) => { try { await c.sample({ messages: [{ role: "user", content: { type: "text", text: "x" } }], maxTokens: 5 }); return "sampled"; } catch (e) { return e.message; } }`, {
      onAsk: async () => {
        throw new Error("context.sample: the client did not declare the \"sampling\" capability, so it cannot be asked");
      },
    });
    expect(refused.output).toBe(`context.sample: the client did not declare the "sampling" capability, so it cannot be asked`);
  });
});

describe("waiting holds no worker", () => {
  test("while a call waits on its client, its only worker runs other calls; then the call goes on", async () => {
    const pool = await startPool({ size: 1 });
    const c = client();
    const waiting = call(pool, ELICIT, { onAsk: c.onAsk });
    await c.questions(1);
    for (let i = 0; i < 20; i++) expect(await call(pool, OK, { input: { v: i } })).toMatchObject({ ok: true, output: { ok: true, echo: i } });
    expect(pool.parked).toBe(1);
    c.asked[0].answer({ action: "decline" });
    expect(await waiting).toMatchObject({ ok: true, output: { got: { action: "decline" } } });
    expect(pool.parked).toBe(0);
    expect(pool.asking).toBe(0);
  });

  test("several calls wait on one worker at once and each gets its own answer", async () => {
    const pool = await startPool({ size: 1 });
    const c = client();
    const outcomes = [0, 1, 2, 3, 4].map((n) => call(pool, `export default async (i, c) => (await c.elicit({ message: "q${n}", requestedSchema: { type: "object", properties: {} } })).content.n * 10 + ${n}`, { onAsk: c.onAsk }));
    await c.questions(5);
    // answered in reverse order: each goes to the call that asked it
    for (const q of [...c.asked].reverse()) q.answer({ action: "accept", content: { n: Number((q.params.message as string).slice(1)) } });
    expect((await Promise.all(outcomes)).map((o) => o.output)).toEqual([0, 11, 22, 33, 44]);
  });

  test("one call may wait on two questions at once; each answer reaches its own question, whichever comes first", async () => {
    const pool = await startPool({ size: 1 });
    const c = client();
    const outcome = call(pool, `export default async (i, c) => {
      const [a, b] = await Promise.all([
        c.elicit({ message: "first", requestedSchema: { type: "object", properties: {} } }),
        c.sample({ messages: [{ role: "user", content: { type: "text", text: "second" } }], maxTokens: 5 }),
      ]);
      return [a.action, b.content.text];
    }`, { onAsk: c.onAsk });
    await c.questions(2);
    await call(pool, OK);
    c.asked[1].answer({ role: "assistant", content: { type: "text", text: "two" }, model: "m" });
    await call(pool, OK);
    c.asked[0].answer({ action: "accept", content: {} });
    expect(await outcome).toMatchObject({ ok: true, output: ["accept", "two"] });
  });

  test("the tool's time limit does not count the wait; code before and after the question still runs under it", async () => {
    const pool = await startPool({ size: 1, timeoutMs: 400 });
    const c = client();
    const waiting = call(pool, ELICIT, { onAsk: c.onAsk });
    await c.questions(1);
    // longer than the tool's 400 ms limit: other calls finish meanwhile, and they take their time
    for (let i = 0; i < 3; i++) expect(await call(pool, "export default async () => { await new Promise((r) => setTimeout(r, 250)); return 1 }")).toMatchObject({ ok: true });
    c.asked[0].answer({ action: "accept", content: { name: "late" } });
    expect(await waiting).toMatchObject({ ok: true, output: { got: { content: { name: "late" } } } });
    // the limit still holds for the tool's own work after the answer
    const busy = client();
    const spin = call(pool, `export default async (i, c) => { await c.elicit({ message: "m", requestedSchema: { type: "object", properties: {} } }); for (;;) {} }`, { onAsk: busy.onAsk });
    await busy.questions(1);
    busy.asked[0].answer({ action: "accept", content: {} });
    expect(await spin).toMatchObject({ ok: false, error: { limit: "timeout" } });
  });

  test("the wait has its own limit: past it the question rejects with a clear error the tool may catch, and the client's request is withdrawn", async () => {
    const pool = await startPool({ size: 1, askTimeoutMs: 300 });
    const c = client();
    const o = await call(pool, `export default async (i, c) => { try { await c.elicit({ message: "m", requestedSchema: { type: "object", properties: {} } }); return "answered"; } catch (e) { return e.message; } }`, { onAsk: c.onAsk });
    expect(o).toMatchObject({ ok: true, output: "context.elicit: the client did not answer within 300 ms (DZX_ELICIT_TIMEOUT_MS)" });
    expect(c.asked[0].signal.aborted).toBe(true);
    expect(pool.asking).toBe(0);
  });

  test("cancelling a waiting call ends it, withdraws its question and frees its place", async () => {
    const pool = await startPool({ size: 1 });
    const c = client();
    const abort = new AbortController();
    const waiting = call(pool, ELICIT, { onAsk: c.onAsk, signal: abort.signal });
    await c.questions(1);
    await call(pool, OK);
    expect(pool.parked).toBe(1);
    abort.abort();
    expect(await waiting).toMatchObject({ ok: false, error: { limit: "cancelled" } });
    expect(c.asked[0].signal.aborted).toBe(true);
    expect(pool.parked).toBe(0);
    expect(pool.asking).toBe(0);
    // the worker is whole: a late answer goes nowhere, and calls go on
    c.asked[0].answer({ action: "accept", content: {} });
    expect(await call(pool, OK)).toMatchObject({ ok: true });
    expect(pool.replaced).toBe(0);
  });

  test("calls waiting on their clients are bounded per org, with a clear error past the bound; other orgs still ask", async () => {
    const pool = await startPool({ size: 1, maxAskingPerOrg: 2 });
    const c = client();
    const ask = `export default async (i, c) => { try { return (await c.elicit({ message: "m", requestedSchema: { type: "object", properties: {} } })).action; } catch (e) { return e.message; } }`;
    const first = [call(pool, ask, { onAsk: c.onAsk }), call(pool, ask, { onAsk: c.onAsk })];
    await c.questions(2);
    expect((await call(pool, ask, { onAsk: c.onAsk })).output).toBe("context.elicit: refused: this org already has 2 calls waiting for their clients (DZX_ELICIT_MAX_WAITING); try again once some are answered");
    const other = call(pool, ask, { onAsk: c.onAsk, orgId: "org-b" });
    await c.questions(3);
    for (const q of c.asked) q.answer({ action: "cancel" });
    expect((await Promise.all([...first, other])).map((o) => o.output)).toEqual(["cancel", "cancel", "cancel"]);
  });

  test("a worker holds a bounded number of parked calls, with a clear error past it", async () => {
    const pool = await startPool({ size: 1, maxParkedPerWorker: 1 });
    const c = client();
    const ask = `export default async (i, c) => { try { return (await c.elicit({ message: "m", requestedSchema: { type: "object", properties: {} } })).action; } catch (e) { return e.message; } }`;
    const first = call(pool, ask, { onAsk: c.onAsk });
    await c.questions(1);
    // the first call is parked once the worker runs another
    await call(pool, OK);
    expect((await call(pool, ask, { onAsk: c.onAsk })).output).toBe("context.elicit: refused: this sandbox worker already holds 1 calls waiting for their clients; try again shortly");
    c.asked[0].answer({ action: "accept" });
    expect((await first).output).toBe("accept");
  });
});

describe("CODE-mode scripts", () => {
  test("a script waiting on a tool that waits on its client parks too; a late answer to that tool lets it go on", async () => {
    const pool = await startPool({ size: 1 });
    let finish!: (v: { value: unknown }) => void;
    let toldWaiting!: () => void;
    const waitingSaid = new Promise<void>((r) => (toldWaiting = r));
    const script = pool.run({
      orgId: "org-a",
      codeKey: null,
      kind: "script",
      toolNames: ["slow"],
      code: "const r = await tools.slow({}); return { r };",
      onBridge: (_name, _input, waiting) => {
        // the tool asks its client, as the CODE catalog reports it
        waiting(true);
        toldWaiting();
        return new Promise((resolve) => (finish = resolve));
      },
    });
    await waitingSaid;
    // the script's only worker runs other calls while it waits
    for (let i = 0; i < 5; i++) expect(await call(pool, OK, { input: { v: i } })).toMatchObject({ ok: true });
    expect(pool.parked).toBe(1);
    finish({ value: "answered" });
    expect(await script).toMatchObject({ ok: true, output: { r: "answered" } });
    expect(pool.parked).toBe(0);
  });
});
