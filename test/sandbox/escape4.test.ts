/**
 * Sandbox escape suite, part 4: code that drives the interpreter's *native*
 * recursion (JSON serialization of deep values, Proxy traps with growing keys)
 * deeper than the worker thread's own stack allows. QuickJS's stack limit only
 * sees its own stack, so the host engine throws "Maximum call stack size
 * exceeded" out of the middle of the wasm code. Such a call must still end with
 * the stack limit named, and — above all — must leave nothing behind: later
 * calls on the same worker keep their full stack and memory.
 *
 * Each test starts its own dzx with ONE worker, so every call of the test lands
 * on the same worker and one test's damage cannot spill into another's.
 */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { expectLimit, startLab, type Bench, type Lab } from "./harness.ts";

setDefaultTimeout(60_000);

let lab: Lab<"acme"> | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

async function oneWorker(): Promise<Bench> {
  // these calls must end at the stack limit, not the clock: unwinding a host stack overflow took
  // over the suites' 1.5 s timeout on a loaded CI machine, and the bystander queued behind it on
  // the one worker timed out waiting
  lab = await startLab({ acme: { org: "acme" } }, { DZX_WORKERS: "1", DZX_TOOL_TIMEOUT_MS: "15000" });
  return lab.benches.acme;
}

/** A deeply nested array returned as the result: serialized by the prelude's JSON.stringify. */
const DEEP_RESULT = "export default async () => { let a = []; for (let i = 0; i < 200000; i++) a = [a]; return a }";
/** The same serialization inside the tool, its error caught. */
const DEEP_STRINGIFY_CAUGHT = "export default async () => { let a = []; for (let i = 0; i < 200000; i++) a = [a]; try { return JSON.stringify(a).length } catch (e) { return 'caught ' + e.name } }";
/** A getter that reads itself: plain JS recursion, but through the interpreter's property-get path. */
const GETTER_RECURSION = "export default async () => ({ get a() { return this.a } }).a";
/** A Proxy whose get trap recurses with an ever longer key. */
const PROXY_GROWING_KEYS = "export default async () => { const p = new Proxy({}, { get: (t, k, self) => self[k + 'x'] }); return p.a }";

test("returning a very deeply nested value ends with the stack limit named", async () => {
  const acme = await oneWorker();
  const r = await acme.contained("deep-result", DEEP_RESULT);
  expectLimit(r, "stack", /Stack limit exceeded/);
});

test("Proxy trap recursion with growing keys ends with the stack limit named", async () => {
  const acme = await oneWorker();
  const r = await acme.contained("proxy-recursion", PROXY_GROWING_KEYS);
  expectLimit(r, "stack", /Stack limit exceeded/);
});

test("recursion through a getter ends with the stack limit named", async () => {
  const acme = await oneWorker();
  const r = await acme.contained("getter-recursion", GETTER_RECURSION);
  expectLimit(r, "stack", /Stack limit exceeded/);
});

test("a host stack overflow does not shrink the stack available to later calls", async () => {
  const acme = await oneWorker();
  // a well-behaved tool that recurses 1500 deep: well within the 512 KiB stack of a fresh worker
  await acme.create("recursive-sum", "export default async (input) => { const sum = (n) => (n === 0 ? 0 : n + sum(n - 1)); return sum(input.n) }");
  expect((await acme.run("recursive-sum", { n: 1500 })).output).toBe((1500 * 1501) / 2);
  await acme.create("deep-result", DEEP_RESULT);
  for (let i = 0; i < 3; i++) expect((await acme.run("deep-result")).isError).toBe(true);
  const after = await acme.run("recursive-sum", { n: 1500 });
  expect(after.error).toBeUndefined();
  expect(after.output).toBe((1500 * 1501) / 2);
  await acme.expectBenign();
  await acme.expectHealthy();
});

test("a host stack overflow does not leak memory into later calls", async () => {
  const acme = await oneWorker();
  // a well-behaved tool that uses 40 MiB of its 64 MiB
  await acme.create("forty-mib", "export default async () => { const keep = []; for (let i = 0; i < 40; i++) keep.push(new Uint8Array(1 << 20).fill(i)); return keep.length }");
  expect((await acme.run("forty-mib")).output).toBe(40);
  await acme.create("deep-stringify", DEEP_STRINGIFY_CAUGHT);
  for (let i = 0; i < 4; i++) expect((await acme.run("deep-stringify")).isError).toBe(true);
  const after = await acme.run("forty-mib");
  expect(after.error).toBeUndefined();
  expect(after.output).toBe(40);
  await acme.expectBenign();
  await acme.expectHealthy();
});
