/**
 * Where a sandbox call's in-worker time goes: times each QuickJS API step that
 * QuickJsHost does per call (prepare + run + dispose), on the main thread, for
 * the trivial tool. A companion to bench/sandbox.ts (whose in-worker figures
 * cannot say which step costs what, and whose workers --cpu-prof does not see).
 *
 *   bun bench/quickjsPhases.ts     # ~2 s
 *
 * It mirrors the steps of src/sandbox/quickjsHost.ts (prepare(), run()) as of
 * this writing; if that file changes shape, update the steps here.
 */
import releaseSync from "@jitl/quickjs-wasmfile-release-sync";
import { newQuickJSWASMModuleFromVariant, newVariant } from "quickjs-emscripten-core";
import { PRELUDE } from "../src/sandbox/prelude.ts";

const WARMUP = 300;
const N = 3000;
const memoryBytes = 64 * 1024 * 1024;
const pages = Math.ceil((memoryBytes + 24 * 1024 * 1024) / 65536);
const wasmMemory = new WebAssembly.Memory({ initial: Math.min(256, pages), maximum: pages });
const mod = await newQuickJSWASMModuleFromVariant(newVariant(releaseSync as never, { wasmMemory }) as never);
const rt = mod.newRuntime();

const samples: Record<string, number[]> = {};
const lap = (step: string, t: number) => (samples[step] ??= []).push((Bun.nanoseconds() - t) / 1000);

for (let i = 0; i < WARMUP + N; i++) {
  if (i === WARMUP) for (const k in samples) samples[k] = [];
  const t0 = Bun.nanoseconds();
  let t = t0;
  const ctx = rt.newContext();
  lap("prepare: rt.newContext()", t);
  t = Bun.nanoseconds();
  const host = ctx.newObject();
  for (const name of ["log", "sleep", "fetch", "load", "progress", "call"]) {
    const h = ctx.newFunction(name, () => undefined);
    ctx.setProp(host, name, h);
    h.dispose();
  }
  lap("prepare: 6 host functions", t);
  t = Bun.nanoseconds();
  const preludeFn = ctx.unwrapResult(ctx.evalCode(PRELUDE, "prelude.js", { type: "global" }));
  lap("prepare: evalCode(PRELUDE)", t);
  t = Bun.nanoseconds();
  const runner = ctx.unwrapResult(ctx.callFunction(preludeFn, ctx.undefined, host));
  lap("prepare: run the prelude", t);
  t = Bun.nanoseconds();
  const ns = ctx.unwrapResult(ctx.evalCode("export default async (input) => input;", "tool.js", { type: "module" }));
  const fn = ctx.getProp(ns, "default");
  lap("call: evalCode(tool module)", t);
  t = Bun.nanoseconds();
  const input = ctx.newString(JSON.stringify({ q: "hello", n: i }));
  const context = ctx.newString(JSON.stringify({ requestId: "", endUserId: null, server: null, secrets: {} }));
  const promise = ctx.unwrapResult(ctx.callFunction(runner, ctx.undefined, fn, input, context));
  rt.executePendingJobs(10_000);
  const state = ctx.getPromiseState(promise);
  if (state.type !== "fulfilled") throw new Error(`call did not fulfil: ${state.type}`);
  JSON.parse(ctx.getString(state.value));
  state.value.dispose();
  lap("call: call + jobs + read result", t);
  t = Bun.nanoseconds();
  for (const h of [promise, context, input, fn, ns, runner, preludeFn, host]) h.dispose();
  ctx.dispose();
  lap("dispose: handles + context", t);
  lap("total", t0);
}
rt.dispose();

const p = (a: number[], q: number) => [...a].sort((x, y) => x - y)[Math.ceil(q * a.length) - 1]!;
console.log(`QuickJS steps per call, ${N} iterations after ${WARMUP} warm-up (Bun ${Bun.version})`);
console.log(`| step | p50 µs | p99 µs |\n|---|--:|--:|`);
for (const [step, a] of Object.entries(samples)) console.log(`| ${step} | ${p(a, 0.5).toFixed(1)} | ${p(a, 0.99).toFixed(1)} |`);
