/**
 * Sandbox latency/throughput benchmark: a trivial tool through SandboxPool
 * (warm, cold, saturated) beside a bare `new Function` baseline, in one run.
 *
 *   bun bench/sandbox.ts            # full run (~20 s on 2 cores, hard-capped at 60 s)
 *   bun bench/sandbox.ts --quick    # smaller counts, for a smoke test (~5 s)
 *   bun bench/sandbox.ts --json     # also print one machine-readable JSON line at the end
 *
 * Self-contained: no network, no database, no files written. See bench/README.md.
 */
import { cpus } from "node:os";
import { SandboxPool } from "../src/sandbox/pool.ts";
import { DEFAULT_LIMITS } from "../src/sandbox/limits.ts";
import type { CallOutcome, RunMessage } from "../src/sandbox/protocol.ts";
import { cpuPerCall, threadCpuMs } from "./threadCpu.ts";

const args = new Set(process.argv.slice(2));
const QUICK = args.has("--quick");
const JSON_OUT = args.has("--json");
const scale = (n: number) => (QUICK ? Math.max(1, Math.floor(n / 5)) : n);

const CORES = navigator.hardwareConcurrency || cpus().length || 1;
const MEMORY_BYTES = 64 * 1024 * 1024; // the DZX_TOOL_MEMORY_MB default
const TARGET_WARM_P50_US = 150;

/** Counts and time caps per phase; a phase stops at whichever comes first. */
const CFG = {
  baseline: { warmup: 200_000, calls: scale(200_000), creates: scale(20_000), throughputCalls: 5_000_000 },
  echo: { warmup: 300, calls: scale(3000), idleCalls: scale(300), capMs: 6_000 },
  warm: { warmup: 300, calls: scale(3000), capMs: 12_000 },
  idle: { calls: scale(300), gapMs: 2, capMs: 6_000 },
  cold: { warmup: 100, calls: scale(1000), capMs: 12_000 },
  saturated: { concurrency: 32 * CORES, warmupMs: QUICK ? 300 : 1000, durationMs: QUICK ? 1500 : 5000 },
  totalCapMs: 60_000,
};

const T0 = performance.now();
const elapsed = () => performance.now() - T0;
const overBudget = () => elapsed() > CFG.totalCapMs - 10_000; // leave room for the remaining phases' teardown

// ---------------------------------------------------------------- statistics

interface Stats {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/** Nearest-rank percentiles over microsecond samples. */
function stats(samplesUs: ArrayLike<number>): Stats {
  const a = Float64Array.from(samplesUs).sort();
  const n = a.length;
  if (n === 0) return { n, p50: NaN, p99: NaN, mean: NaN, min: NaN, max: NaN };
  const pct = (p: number) => a[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[i]!;
  return { n, p50: pct(50), p99: pct(99), mean: sum / n, min: a[0]!, max: a[n - 1]! };
}

const nowNs = () => Bun.nanoseconds();
const fmtUs = (us: number) => (Number.isNaN(us) ? "-" : us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(3));
const fmtRate = (r: number) => (Number.isNaN(r) ? "-" : Math.round(r).toLocaleString("en-US"));
const fmtX = (x: number) => (x >= 100 ? `${Math.round(x).toLocaleString("en-US")}x` : `${x.toFixed(2)}x`);

function gc(): void {
  Bun.gc(true);
}

// ---------------------------------------------------------------- baseline: bare new Function on the main thread

let sink = 0;

interface Baseline {
  timerOverheadUs: Stats;
  call: Stats;
  createCallSame: Stats;
  createCallFresh: Stats;
  callsPerSec: number;
  createCallFreshPerSec: number;
}

function runBaseline(input: unknown): Baseline {
  const c = CFG.baseline;
  const fn = new Function("input", "return input") as (i: unknown) => unknown;
  for (let i = 0; i < c.warmup; i++) if (fn(input) === input) sink++;

  // cost of the two clock reads around each timed call (included in every per-call figure below)
  const overhead = new Float64Array(c.calls);
  for (let i = 0; i < c.calls; i++) {
    const t = nowNs();
    overhead[i] = (nowNs() - t) / 1000;
  }

  const call = new Float64Array(c.calls);
  for (let i = 0; i < c.calls; i++) {
    const t = nowNs();
    const out = fn(input);
    call[i] = (nowNs() - t) / 1000;
    if (out === input) sink++;
  }

  // same source text each time (the engine may reuse its compiled code for an identical string)
  const same = new Float64Array(c.creates);
  for (let i = 0; i < c.creates; i++) {
    const t = nowNs();
    const f = new Function("input", "return input") as (i: unknown) => unknown;
    const out = f(input);
    same[i] = (nowNs() - t) / 1000;
    if (out === input) sink++;
  }

  // fresh source text each time (a counter in the body), the analogue of a cold sandbox call
  const fresh = new Float64Array(c.creates);
  for (let i = 0; i < c.creates; i++) {
    const body = `return (${i}, input)`;
    const t = nowNs();
    const f = new Function("input", body) as (i: unknown) => unknown;
    const out = f(input);
    fresh[i] = (nowNs() - t) / 1000;
    if (out === input) sink++;
  }

  // throughput: a tight loop, no per-call clock reads
  let t = nowNs();
  for (let i = 0; i < c.throughputCalls; i++) if (fn(input) === input) sink++;
  const callsPerSec = c.throughputCalls / ((nowNs() - t) / 1e9);

  const n = c.creates;
  t = nowNs();
  for (let i = 0; i < n; i++) {
    const f = new Function("input", `return (${n + i}, input)`) as (i: unknown) => unknown;
    if (f(input) === input) sink++;
  }
  const createCallFreshPerSec = n / ((nowNs() - t) / 1e9);

  return {
    timerOverheadUs: stats(overhead),
    call: stats(call),
    createCallSame: stats(same),
    createCallFresh: stats(fresh),
    callsPerSec,
    createCallFreshPerSec,
  };
}

// ---------------------------------------------------------------- reference: bare Worker round trip, no QuickJS

/** Sequential pool-shaped messages to bench/echoWorker.ts; latency in µs. */
async function echoRoundTrips(n: number, capMs: number, gapMs = 0, worker?: Worker): Promise<{ latency: Stats; wallMs: number; worker: Worker }> {
  const w = worker ?? new Worker(new URL("./echoWorker.ts", import.meta.url).href);
  let waiter: ((m: { type: string; callId?: number; outcome?: CallOutcome }) => void) | null = null;
  // run and done messages travel as JSON text, as the pool sends them
  w.onmessage = (e) => waiter?.(typeof e.data === "string" ? JSON.parse(e.data) : e.data);
  if (!worker) await new Promise<void>((resolve) => (waiter = (m) => m.type === "ready" && resolve()));
  const lat: number[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    if (performance.now() - start > capMs || overBudget()) break;
    const input = { q: "hello", n: i };
    const msg: RunMessage = {
      type: "run",
      callId: i,
      codeKey: "bench:warm",
      code: WARM_CODE,
      kind: "module",
      input,
      context: { requestId: "", endUserId: null, server: null, secrets: {} },
      limits: DEFAULT_LIMITS,
      egress: { allowHosts: [], denyHosts: [], allowPrivateHosts: [] },
      toolNames: [],
    };
    const t = nowNs();
    const done = new Promise<{ outcome?: CallOutcome }>((resolve) => (waiter = (m) => m.type === "done" && m.callId === i && resolve(m)));
    w.postMessage(JSON.stringify(msg));
    const reply = await done;
    lat.push((nowNs() - t) / 1000);
    if (reply.outcome) check(reply.outcome, JSON.stringify(input));
    if (gapMs > 0) await Bun.sleep(gapMs);
  }
  return { latency: stats(lat), wallMs: performance.now() - start, worker: w };
}

// ---------------------------------------------------------------- the pool

const ORG = "bench-org";
const WARM_CODE = "export default async (input) => input;";
const RUN_ID = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const coldCode = (i: number) => `const __bench_cold = ${i};\nexport default async (input) => input;`;

let failures = 0;
const failureSamples: string[] = [];

function check(outcome: CallOutcome, expected: string): void {
  if (outcome.ok && JSON.stringify(outcome.output) === expected) return;
  failures++;
  if (failureSamples.length < 5) failureSamples.push(JSON.stringify(outcome).slice(0, 300));
}

interface PoolPhase {
  /** Client-side latency: pool.run() called → promise resolved, µs. */
  latency: Stats;
  /** In-worker time reported by the host (CallOutcome.durationMs), µs. */
  inWorker: Stats;
  wallMs: number;
  callsPerSec: number;
}

async function sequential(pool: SandboxPool, n: number, capMs: number, codeFor: (i: number) => { codeKey: string; code: string }, gapMs = 0): Promise<PoolPhase> {
  const lat: number[] = [];
  const inw: number[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    if (performance.now() - start > capMs || overBudget()) break;
    const { codeKey, code } = codeFor(i);
    const input = { q: "hello", n: i };
    const expected = JSON.stringify(input);
    const t = nowNs();
    const outcome = await pool.run({ orgId: ORG, codeKey, code, kind: "module", input });
    lat.push((nowNs() - t) / 1000);
    inw.push(outcome.durationMs * 1000);
    check(outcome, expected);
    if (gapMs > 0) await Bun.sleep(gapMs);
  }
  const wallMs = performance.now() - start;
  return { latency: stats(lat), inWorker: stats(inw), wallMs, callsPerSec: gapMs > 0 ? NaN : lat.length / (wallMs / 1000) };
}

/** Closed loop: `concurrency` clients each issue calls back to back for `durationMs`. */
async function saturated(pool: SandboxPool, concurrency: number, durationMs: number, record: boolean): Promise<PoolPhase & { completed: number; maxWaiting: number }> {
  const lat: number[] = [];
  const inw: number[] = [];
  let completed = 0;
  let maxWaiting = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  const client = async (c: number) => {
    for (let i = 0; performance.now() < deadline; i++) {
      const input = { q: "hello", n: c * 1_000_000 + i };
      const expected = JSON.stringify(input);
      const t = nowNs();
      const p = pool.run({ orgId: ORG, codeKey: "bench:warm", code: WARM_CODE, kind: "module", input });
      if (pool.waiting > maxWaiting) maxWaiting = pool.waiting;
      const outcome = await p;
      completed++;
      if (record) {
        lat.push((nowNs() - t) / 1000);
        inw.push(outcome.durationMs * 1000);
      }
      check(outcome, expected);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, c) => client(c)));
  const wallMs = performance.now() - start;
  return { latency: stats(lat), inWorker: stats(inw), wallMs, callsPerSec: completed / (wallMs / 1000), completed, maxWaiting };
}

// ---------------------------------------------------------------- main

/** Which code was measured: git HEAD (+ "dirty") and a hash of src/sandbox/*.ts as they are on disk. */
async function codeVersion(): Promise<string> {
  const dir = new URL("../src/sandbox/", import.meta.url);
  const names = [...new Bun.Glob("*.ts").scanSync(dir.pathname)].sort();
  const h = new Bun.CryptoHasher("sha256");
  for (const name of names) h.update(`${name}\0${await Bun.file(new URL(name, dir)).text()}\0`);
  let git = "no git";
  try {
    const cwd = new URL("..", import.meta.url).pathname;
    const head = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd }).stdout.toString().trim();
    const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--", "src/sandbox"], { cwd }).stdout.toString().trim();
    if (head) git = `git ${head}${dirty ? " + uncommitted src/sandbox changes" : ""}`;
  } catch {}
  return `${git}; src/sandbox/*.ts sha256 ${h.digest("hex").slice(0, 12)}`;
}

async function main(): Promise<void> {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const version = await codeVersion();
  console.log(`dzx sandbox bench — ${new Date().toISOString()}`);
  console.log(`Bun ${Bun.version} (${Bun.revision.slice(0, 9)}), ${process.platform}/${process.arch}, ${CORES} cores (${cpu})${QUICK ? ", --quick" : ""}`);
  console.log(`code: ${version}`);
  console.log(`pool: size ${CORES}, ${MEMORY_BYTES / 1048576} MiB per worker; tool: ${JSON.stringify(WARM_CODE)}; input {"q":"hello","n":<i>}`);
  console.log("");

  const input = { q: "hello", n: 1 };
  process.stdout.write("baseline (new Function, main thread)… ");
  const base = runBaseline(input);
  console.log("done");
  gc();

  process.stdout.write(`bare Worker echo (no QuickJS): ${CFG.echo.warmup} warm-up + ${CFG.echo.calls} sequential, then ${CFG.echo.idleCalls} with ${CFG.idle.gapMs} ms gaps… `);
  const echoWarmup = await echoRoundTrips(CFG.echo.warmup, CFG.echo.capMs);
  const echo = await echoRoundTrips(CFG.echo.calls, CFG.echo.capMs, 0, echoWarmup.worker);
  const echoIdle = await echoRoundTrips(CFG.echo.idleCalls, CFG.echo.capMs, CFG.idle.gapMs, echoWarmup.worker);
  echoWarmup.worker.terminate();
  console.log("done");
  gc();

  process.stdout.write(`starting pool (${CORES} workers)… `);
  let t = performance.now();
  const pool = await SandboxPool.start({ size: CORES, memoryBytes: MEMORY_BYTES, perOrgQueue: 1_000_000, totalQueue: 1_000_000 });
  const startupMs = performance.now() - t;
  console.log(`${startupMs.toFixed(0)} ms`);

  let warm: PoolPhase, idle: PoolPhase, cold: PoolPhase;
  let sat: Awaited<ReturnType<typeof saturated>>;
  let satCpu: ReturnType<typeof cpuPerCall>;
  try {
    const warmKey = () => ({ codeKey: "bench:warm", code: WARM_CODE });
    process.stdout.write(`warm: ${CFG.warm.warmup} warm-up + ${CFG.warm.calls} sequential calls… `);
    await sequential(pool, CFG.warm.warmup, CFG.warm.capMs, warmKey);
    gc();
    warm = await sequential(pool, CFG.warm.calls, CFG.warm.capMs, warmKey);
    console.log(`${warm.wallMs.toFixed(0)} ms`);

    process.stdout.write(`warm, idle gap: ${CFG.idle.calls} sequential calls with ${CFG.idle.gapMs} ms between… `);
    gc();
    idle = await sequential(pool, CFG.idle.calls, CFG.idle.capMs, warmKey, CFG.idle.gapMs);
    console.log(`${idle.wallMs.toFixed(0)} ms`);

    let coldN = 0;
    const coldKey = () => {
      const i = coldN++;
      return { codeKey: `bench:cold:${RUN_ID}:${i}`, code: coldCode(i) };
    };
    process.stdout.write(`cold: ${CFG.cold.warmup} warm-up + ${CFG.cold.calls} sequential calls, fresh codeKey + source each… `);
    await sequential(pool, CFG.cold.warmup, CFG.cold.capMs, coldKey);
    gc();
    cold = await sequential(pool, CFG.cold.calls, CFG.cold.capMs, coldKey);
    console.log(`${cold.wallMs.toFixed(0)} ms`);

    const { concurrency, warmupMs, durationMs } = CFG.saturated;
    process.stdout.write(`saturated: ${concurrency} concurrent clients, ${warmupMs} ms warm-up + ${durationMs} ms measured… `);
    gc();
    await saturated(pool, concurrency, warmupMs, false);
    const cpuBefore = threadCpuMs();
    sat = await saturated(pool, concurrency, durationMs, true);
    satCpu = cpuPerCall(cpuBefore, threadCpuMs(), sat.completed);
    console.log(`${sat.completed} calls, queue depth up to ${sat.maxWaiting}`);
  } finally {
    await pool.close();
  }

  // ------------------------------------------------------------ report
  const rows: [string, number, Stats | null, number][] = [
    ["new Function: call (pre-created)", base.call.n, base.call, base.callsPerSec],
    ["new Function: create+call, same text", base.createCallSame.n, base.createCallSame, NaN],
    ["new Function: create+call, fresh text", base.createCallFresh.n, base.createCallFresh, base.createCallFreshPerSec],
    ["bare Worker echo, sequential (no QuickJS)", echo.latency.n, echo.latency, echo.latency.n / (echo.wallMs / 1000)],
    [`bare Worker echo, ${CFG.idle.gapMs} ms idle between`, echoIdle.latency.n, echoIdle.latency, NaN],
    ["pool WARM  (same codeKey, sequential)", warm.latency.n, warm.latency, warm.callsPerSec],
    ["  in-worker part (outcome.durationMs)", warm.inWorker.n, warm.inWorker, NaN],
    [`pool WARM, ${CFG.idle.gapMs} ms idle between calls`, idle.latency.n, idle.latency, NaN],
    ["  in-worker part (outcome.durationMs)", idle.inWorker.n, idle.inWorker, NaN],
    ["pool COLD  (fresh key+source, sequential)", cold.latency.n, cold.latency, cold.callsPerSec],
    ["  in-worker part (outcome.durationMs)", cold.inWorker.n, cold.inWorker, NaN],
    [`pool SATURATED (${CORES} workers, ${CFG.saturated.concurrency} in flight)`, sat.latency.n, sat.latency, sat.callsPerSec],
    ["  in-worker part (outcome.durationMs)", sat.inWorker.n, sat.inWorker, NaN],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const line = (cells: string[]) => `| ${cells[0]!.padEnd(w0)} | ${cells.slice(1).map((c) => c.padStart(11)).join(" | ")} |`;
  console.log("");
  console.log(line(["case", "n", "p50 µs", "p99 µs", "mean µs", "calls/s"]));
  console.log(`|${"-".repeat(w0 + 2)}|${Array(5).fill("-".repeat(12) + ":").join("|")}|`);
  for (const [name, n, s, rate] of rows) console.log(line([name, String(n), fmtUs(s?.p50 ?? NaN), fmtUs(s?.p99 ?? NaN), fmtUs(s?.mean ?? NaN), fmtRate(rate)]));
  console.log("");
  console.log(`clock-read overhead included in each new Function per-call figure: p50 ${fmtUs(base.timerOverheadUs.p50)} µs`);
  console.log(`pool start-up (${CORES} workers, wasm load): ${startupMs.toFixed(0)} ms`);
  console.log(`SATURATED CPU per call: sandbox workers ${fmtUs(satCpu.workers)} µs, main thread ${fmtUs(satCpu.main)} µs, other threads (JIT, GC) ${fmtUs(satCpu.other)} µs`);

  const ratios: [string, number][] = [
    ["WARM p50 / new Function call p50", warm.latency.p50 / base.call.p50],
    ["COLD p50 / WARM p50", cold.latency.p50 / warm.latency.p50],
    ["COLD p50 / new Function create+call (fresh text) p50", cold.latency.p50 / base.createCallFresh.p50],
    ["WARM p50 / WARM-with-idle-gap p50", warm.latency.p50 / idle.latency.p50],
    ["WARM p50 / bare Worker echo p50", warm.latency.p50 / echo.latency.p50],
    ["SATURATED calls/s / sequential WARM calls/s", sat.callsPerSec / warm.callsPerSec],
    ["new Function calls/s / SATURATED calls/s", base.callsPerSec / sat.callsPerSec],
  ];
  console.log("");
  console.log("ratios:");
  for (const [name, x] of ratios) console.log(`  ${name.padEnd(54)} ${fmtX(x)}`);
  console.log("");
  const rest = warm.latency.p50 - warm.inWorker.p50 - echo.latency.p50;
  console.log("where the WARM time goes (p50s, so only roughly additive):");
  console.log(`  in-worker, as reported by the host (durationMs: eval + call; context made beforehand, dispose after): ${fmtUs(warm.inWorker.p50)} µs`);
  console.log(`  bare Worker round trip for the same message (echo worker, no QuickJS):                              ${fmtUs(echo.latency.p50)} µs`);
  console.log(`  the rest (pool dispatch/timers, and the worker still busy outside durationMs, e.g. dispose/prepare): ~${fmtUs(rest)} µs`);
  console.log("");

  const met = warm.latency.p50 < TARGET_WARM_P50_US;
  console.log(`target: warm trivial call p50 < ${TARGET_WARM_P50_US} µs incl. worker round trip → ${met ? "MET" : "NOT MET"} (p50 ${fmtUs(warm.latency.p50)} µs)`);
  console.log(`failed calls: ${failures}${failures ? ` — e.g. ${failureSamples[0]}` : ""}`);
  console.log(`total bench time: ${(elapsed() / 1000).toFixed(1)} s`);

  if (JSON_OUT) {
    console.log(
      "RESULT_JSON " +
        JSON.stringify({
          date: new Date().toISOString(),
          bun: Bun.version,
          code: version,
          cores: CORES,
          quick: QUICK,
          baseline: base,
          echo: { latency: echo.latency, wallMs: echo.wallMs },
          echoIdle: { latency: echoIdle.latency, wallMs: echoIdle.wallMs },
          warm,
          idle,
          cold,
          saturated: { ...sat, concurrency: CFG.saturated.concurrency, cpuPerCallUs: satCpu },
          startupMs,
          targetMet: met,
          failures,
          totalMs: elapsed(),
        }),
    );
  }
  if (sink === 0) console.log("(sink)"); // keeps the baseline loops observable
  if (failures > 0) {
    console.error(`FAIL: ${failures} calls did not return their input`);
    for (const s of failureSamples) console.error(`  ${s}`);
    process.exit(1);
  }
}

// hard stop, whatever happens
const killer = setTimeout(() => {
  console.error(`FAIL: bench exceeded ${CFG.totalCapMs / 1000} s`);
  process.exit(2);
}, CFG.totalCapMs);
killer.unref?.();

await main();
clearTimeout(killer);
process.exit(0);
