/**
 * Micro-benchmark of one sandboxed call's QuickJS steps, on the main thread (no
 * worker): what a fresh context would cost per intrinsics set, what the heap
 * restore that replaced it costs, and QuickJsHost.run with and without the
 * restore done ahead.
 *
 *   bun bench/quickjsPhases.ts          # ~10 s
 *   bun bench/quickjsPhases.ts --quick  # smaller counts
 */
import releaseSync from "@jitl/quickjs-wasmfile-release-sync";
import { newQuickJSWASMModuleFromVariant, newVariant, type Intrinsics, type QuickJSRuntime } from "quickjs-emscripten-core";
import { DEFAULT_LIMITS } from "../src/sandbox/limits.ts";
import { HeapSnapshot } from "../src/sandbox/heapSnapshot.ts";
import { CONTEXT_INTRINSICS, residentContext } from "../src/sandbox/residentContext.ts";
import { wasmLayout } from "../src/sandbox/wasmLayout.ts";
import type { RunMessage } from "../src/sandbox/protocol.ts";
import { QuickJsHost, type CallHooks } from "../src/sandbox/quickjsHost.ts";

const GAP_MS = Number(process.env.GAP_MS ?? 1);
const N = process.argv.includes("--quick") ? 500 : 3000;

function p50(samples: number[]): number {
  const a = [...samples].sort((x, y) => x - y);
  return a[Math.floor(a.length / 2)] ?? NaN;
}

/** p50 µs of `fn` over N runs after a short warm-up. */
function time(fn: () => void): number {
  for (let i = 0; i < Math.min(300, N); i++) fn();
  const s: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = Bun.nanoseconds();
    fn();
    s.push((Bun.nanoseconds() - t) / 1000);
  }
  return p50(s);
}

const row = (name: string, us: number) => console.log(`| ${name.padEnd(58)} | ${us.toFixed(1).padStart(7)} |`);

const mod = await newQuickJSWASMModuleFromVariant(newVariant(releaseSync as never, {}) as never);
const rt: QuickJSRuntime = mod.newRuntime();
console.log(`quickjsPhases — ${new Date().toISOString()}, Bun ${Bun.version}, N=${N}, loadavg ${(await Bun.file("/proc/loadavg").text()).trim()}`);
console.log("");
console.log(`| step | p50 µs |`);
console.log(`|---|--:|`);

const ALL: Intrinsics = { BaseObjects: true, Date: true, Eval: true, StringNormalize: true, RegExp: true, JSON: true, Proxy: true, MapSet: true, TypedArrays: true, Promise: true, BigInt: true };
row("newContext() (library default = JS_NewContext, all + WeakRef)", time(() => rt.newContext().dispose()));
row("newContext({ BaseObjects }) only", time(() => rt.newContext({ intrinsics: { BaseObjects: true } }).dispose()));
for (const k of Object.keys(ALL) as (keyof Intrinsics)[]) {
  if (k === "BaseObjects") continue;
  row(`  + ${k} alone (vs BaseObjects only)`, time(() => rt.newContext({ intrinsics: { BaseObjects: true, [k]: true } }).dispose()));
}
row("newContext(CONTEXT_INTRINSICS) — what the sandbox uses", time(() => rt.newContext({ intrinsics: CONTEXT_INTRINSICS }).dispose()));
rt.dispose();
{
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 1400 });
  const fresh = await newQuickJSWASMModuleFromVariant(newVariant(releaseSync as never, { wasmMemory: memory }) as never);
  const resident = residentContext(fresh.newRuntime());
  const bytes = new Uint8Array(await Bun.file(Bun.resolveSync("@jitl/quickjs-wasmfile-release-sync/wasm", import.meta.dir)).arrayBuffer());
  const snapshot = HeapSnapshot.take(memory, wasmLayout(bytes)!);
  row(`HeapSnapshot.restore() (${Math.round(snapshot.bytes / 1024)} KiB) — what replaced the per-call context`, time(() => snapshot.restore()));
}

// QuickJsHost.run, as the worker calls it
const host = await QuickJsHost.create(64 * 1024 * 1024);
const hooks: CallHooks = { aborted: () => false, progress: () => {}, bridge: async () => ({ value: null }), ask: async () => null, clientWaits: () => 0 };
const msg = (i: number): RunMessage & { code: string } => ({
  type: "run",
  callId: i,
  codeKey: "bench:warm",
  code: "export default async (input) => input;",
  kind: "module",
  input: { q: "hello", n: i },
  context: { requestId: "", endUserId: null, server: null, secrets: {} },
  limits: DEFAULT_LIMITS,
  egress: { allowHosts: [], denyHosts: [], allowPrivateHosts: [] },
  toolNames: [],
});
async function runs(gap: "none" | "immediate" | "sleep"): Promise<[number, number]> {
  const wall: number[] = [];
  const inside: number[] = [];
  for (let i = 0; i < N; i++) {
    // the last call is undone meanwhile (a parked thread resumes slower: hence both)
    if (gap === "immediate") await new Promise((r) => setImmediate(r));
    else if (gap === "sleep") await Bun.sleep(GAP_MS);
    const t = Bun.nanoseconds();
    const o = await host.run(msg(i), hooks);
    wall.push((Bun.nanoseconds() - t) / 1000);
    inside.push(o.durationMs * 1000);
    if (!o.ok) throw new Error(JSON.stringify(o));
  }
  return [p50(wall), p50(inside)];
}
await runs("none");
const [b2bWall, b2bIn] = await runs("none");
const [immWall, immIn] = await runs("immediate");
const [gapWall, gapIn] = await runs("sleep");
row("host.run back to back: wall (incl. the restore inside)", b2bWall);
row("host.run back to back: durationMs", b2bIn);
row("host.run, restored first (setImmediate): wall", immWall);
row("host.run, restored first (setImmediate): durationMs", immIn);
row(`host.run, restored during a ${GAP_MS} ms sleep: wall`, gapWall);
row(`host.run, restored during a ${GAP_MS} ms sleep: durationMs`, gapIn);
process.exit(0);
