/**
 * HTTP throughput of a hosted dzx server against the official MCP SDK.
 *
 * `bun run bench` (or `bun bench/http.ts`). Needs wrk on PATH. Every server runs
 * as its own process on 127.0.0.1 (all of them for the whole run) and is stopped
 * on exit. Each row gets one warm-up run (BENCH_WARMUP, default 10 s), then the
 * rows are measured in turn, BENCH_ROUNDS times (default 3) for BENCH_SECONDS
 * each (default 4): a VM that speeds up or slows down during the run then moves
 * every row alike instead of skewing the ratios. A row's figure is its median round.
 * See bench/README.md for what each row measures.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { cpuGroups, threadCpuMs } from "./threadCpu.ts";
import { collect, expectResult, hasContent, post, setUpHosted, startDzx } from "./dzxServer.ts";
import { BenchError, parseWrk, runWrk, writeLuaScript, type WrkResult } from "./wrk.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const SECONDS = positiveInt("BENCH_SECONDS", 4);
const ROUNDS = positiveInt("BENCH_ROUNDS", 3);
// long enough for the steady state: after a start, Bun's JIT thread spends ~15 s tiering up
// PGlite's and QuickJS's wasm, and that CPU would otherwise land in dzx's first row
const WARMUP_SECONDS = positiveInt("BENCH_WARMUP", 10);
const CONNECTIONS = 20;
/** The tail bound of hosted tools/call at CONNECTIONS connections (issue 13). */
const P99_TARGET_MS = 10;
const ACCEPT = "application/json, text/event-stream";
const ECHO_CALL = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text: "hi" } } };
const PING = { jsonrpc: "2.0", id: 1, method: "ping" };

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (/^\d+$/.test(raw) && Number(raw) >= 1) return Number(raw);
  console.error(`${name} must be a whole number ≥ 1, got "${raw}"`);
  process.exit(1);
}

function fail(message: string): never {
  throw new BenchError(message);
}

// ---------------------------------------------------------------- child processes

const children: Subprocess[] = [];
const tmp = mkdtempSync(join(tmpdir(), "dzx-bench-http-"));

/** Stops a child politely (dzx closes its database on SIGTERM), then for good after 5 s. */
async function stop(child: Subprocess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await child.exited;
  clearTimeout(timer);
}

// last resort when we die before the orderly cleanup: only a synchronous kill is possible here
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
});
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));

/** Starts one of bench/servers/* on a free port; resolves once it printed "listening <port>". */
async function startServer(name: string, cmd: string[]): Promise<{ url: string; child: Subprocess }> {
  const child = Bun.spawn(cmd, { cwd: ROOT, env: { ...process.env, PORT: "0" }, stdout: "pipe", stderr: "pipe" });
  children.push(child);
  const err = collect(child.stderr);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BenchError(`${name} did not start within 20 s:\n${err.text()}`)), 20_000);
    collect(child.stdout, (out) => {
      const m = /listening (\d+)/.exec(out);
      if (m) (clearTimeout(timer), resolve(Number(m[1])));
    });
    void child.exited.then((code) => reject(new BenchError(`${name} exited (${code}) before listening:\n${err.text()}`)));
  });
  return { url: `http://127.0.0.1:${port}/mcp`, child };
}

/** Starts the dzx under test with the BENCH_* settings (see bench/README.md). */
function startBenchDzx(adminKey: string) {
  const env: Record<string, string> = {};
  // BENCH_WORKERS=<n>: the sandbox pool's size (default: dzx's own, the core count)
  if (process.env.BENCH_WORKERS) env.DZX_WORKERS = process.env.BENCH_WORKERS;
  // BENCH_WORKER_NICE=<n>: the sandbox workers' niceness (DZX_WORKER_NICE; default 0)
  if (process.env.BENCH_WORKER_NICE) env.DZX_WORKER_NICE = process.env.BENCH_WORKER_NICE;
  // BENCH_WORKER_QUEUE=<n>: calls a busy worker may hold queued (DZX_WORKER_QUEUE; default 8)
  if (process.env.BENCH_WORKER_QUEUE) env.DZX_WORKER_QUEUE = process.env.BENCH_WORKER_QUEUE;
  // BENCH_CPU_PROF=<dir>: dzx writes a CPU profile (markdown) there when it stops
  const bunArgs = process.env.BENCH_CPU_PROF ? ["--cpu-prof-md", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  return startDzx({ root: ROOT, dataDir: join(tmp, "dzx-data"), adminKey, env, bunArgs, track: (c) => children.push(c) });
}

// ---------------------------------------------------------------- wrk

/** One row of the table: an endpoint, the request sent to it, and its measured rounds. */
interface Row {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  /** dzx's pid: its CPU per request is read from /proc. */
  pid?: number;
  script?: string;
  rounds: WrkResult[];
  cpuMs: { main: number; workers: number; other: number };
}

const newRow = (name: string, url: string, headers: Record<string, string>, body: unknown, pid?: number): Row => ({ name, url, headers, body, pid, rounds: [], cpuMs: { main: 0, workers: 0, other: 0 } });

/** One wrk run against a row's endpoint. */
function runRow(r: Row, seconds: number): Promise<string> {
  r.script ??= writeLuaScript(join(tmp, `${r.name.replace(/\W+/g, "_")}.lua`), { "Content-Type": "application/json", Accept: ACCEPT, ...r.headers }, r.body);
  return runWrk(["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency", "-s", r.script, r.url], r.name, (p) => children.push(p));
}

/**
 * One measured round of a row. With the server's pid, it also adds up the
 * server's CPU per thread (main, sandbox workers, the rest): what each request
 * costs, whatever else the machine is doing.
 */
async function measure(r: Row): Promise<void> {
  const before = r.pid ? threadCpuMs(r.pid) : undefined;
  const result = parseWrk(r.name, await runRow(r, SECONDS));
  if (before && r.pid) {
    const cpu = cpuGroups(before, threadCpuMs(r.pid), r.pid);
    r.cpuMs.main += cpu.main;
    r.cpuMs.workers += cpu.workers;
    r.cpuMs.other += cpu.other;
  }
  r.rounds.push(result);
}

/** A row's figure: its median round by req/s, with the request and error counts of all rounds. */
function summary(r: Row): WrkResult {
  const sorted = [...r.rounds].sort((a, b) => a.rps - b.rps);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const sum = (f: (x: WrkResult) => number) => r.rounds.reduce((s, x) => s + f(x), 0);
  return { ...median, name: r.name, requests: sum((x) => x.requests), non2xx: sum((x) => x.non2xx), socketErrors: sum((x) => x.socketErrors) };
}

/** "name: 4,033 · 4,100 · 3,900 req/s → 4,033", with CPU per request for dzx's rows and each round's p50/p99. */
function describeRow(r: Row, s: WrkResult): string {
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  const cpu = r.pid ? `; CPU µs/request: main ${((r.cpuMs.main * 1000) / s.requests).toFixed(1)}, workers ${((r.cpuMs.workers * 1000) / s.requests).toFixed(1)}, other ${((r.cpuMs.other * 1000) / s.requests).toFixed(1)}` : "";
  const errors = s.non2xx || s.socketErrors ? "  ERRORS, see table" : "";
  const tail = `; p50/p99 ms by round: ${r.rounds.map((x) => `${x.p50Ms.toFixed(2)}/${x.p99Ms.toFixed(2)}`).join(" · ")}`;
  return `${r.name}: ${r.rounds.map((x) => fmt(x.rps)).join(" · ")} req/s → ${fmt(s.rps)}${cpu}${tail}${errors}`;
}

/**
 * A fast row is worthless if calls failed inside it (a 200 can carry an isError
 * result) or workers were replaced: /metrics says, and dzx's warnings show why.
 */
async function reportHealth(base: string, err: { text: () => string }): Promise<void> {
  const text = await fetch(`${base}/metrics`).then((r) => r.text(), () => "");
  const metric = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);
  const ok = metric('dzx_tool_calls_total\\{status="ok"\\}');
  const failed = metric('dzx_tool_calls_total\\{status="error"\\}');
  // wrk closes its connections with requests in flight at the end of each run: those calls are cancelled
  const cancelled = metric('dzx_tool_calls_total\\{status="cancelled"\\}');
  const replaced = metric("dzx_sandbox_workers_replaced");
  console.log(`dzx /metrics: ${ok} calls ok, ${failed} failed, ${cancelled} cancelled, ${replaced} sandbox workers replaced${failed || replaced ? "  (see dzx's log below)" : ""}`);
  if (failed || replaced) console.log(err.text().split("\n").slice(-20).join("\n"));
}

// ---------------------------------------------------------------- main

function header(): void {
  const git = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT }).stdout.toString().trim() || "no git";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--", "src"], { cwd: ROOT }).stdout.toString().trim();
  const node = Bun.spawnSync(["node", "--version"]).stdout.toString().trim() || "node missing";
  const v = Bun.spawnSync(["wrk", "-v"]);
  const wrkV = /wrk \S+/.exec(v.stdout.toString() + v.stderr.toString())?.[0] ?? "wrk ?";
  console.log(`dzx HTTP bench — ${new Date().toISOString()}`);
  console.log(`Bun ${Bun.version} (${Bun.revision.slice(0, 9)}), Node ${node}, ${wrkV}, ${process.platform}/${process.arch}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"})`);
  console.log(`code: git ${git}${dirty ? " + uncommitted changes under src/" : ""}; load average at start ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log(`wrk -t1 -c${CONNECTIONS} --latency on 127.0.0.1: one ${WARMUP_SECONDS} s warm-up per row, then ${ROUNDS} rounds of ${SECONDS} s per row, the rows in turn`);
  console.log("");
}

async function main(): Promise<number> {
  if (!Bun.which("wrk")) {
    console.error("bench/http.ts needs wrk on PATH. Install it (Debian/Ubuntu: apt-get install -y wrk) and run again.");
    return 1;
  }
  if (!Bun.which("node")) fail("bench/http.ts needs node on PATH for the SDK-on-Node row.");
  header();
  const rows: Row[] = [];

  // 1–2: dzx, hosted server with the sandboxed echo tool
  const adminKey = `dwz_live_bench${crypto.randomUUID().replace(/-/g, "")}`;
  process.stdout.write("starting dzx (temp PGlite)… ");
  const dzx = await startBenchDzx(adminKey);
  const { endpoint, headers } = await setUpHosted(dzx.base, adminKey);
  console.log(endpoint);
  expectResult("dzx tools/call echo", endpoint, ECHO_CALL, await post(endpoint, headers, ECHO_CALL), hasContent);
  expectResult("dzx ping", endpoint, PING, await post(endpoint, headers, PING), (r) => typeof r === "object");
  const only = process.env.BENCH_ONLY;
  if (only !== "ping") rows.push(newRow("dzx tools/call (sandboxed echo)", endpoint, headers, ECHO_CALL, dzx.child.pid));
  if (only !== "call") rows.push(newRow("dzx ping", endpoint, headers, PING, dzx.child.pid));

  // 3–5: the references; idle while another row is measured
  if (!only) {
    const refs: [string, string[], boolean][] = [
      ["SDK v1 on Bun (WebStandard, stateless)", ["bun", "bench/servers/sdkBun.ts"], true],
      ["SDK v1 on Node (Express, stateless)", ["node", "bench/servers/sdkNode.mjs"], true],
      ["raw Bun.serve JSON echo", ["bun", "bench/servers/rawBun.ts"], false],
    ];
    for (const [name, cmd, mcp] of refs) {
      const s = await startServer(name, cmd);
      expectResult(name, s.url, ECHO_CALL, await post(s.url, {}, ECHO_CALL), mcp ? hasContent : () => true);
      rows.push(newRow(name, s.url, {}, ECHO_CALL));
    }
  }

  for (const r of rows) {
    process.stdout.write(`warm-up ${WARMUP_SECONDS} s: ${r.name}\n`);
    await runRow(r, WARMUP_SECONDS);
  }
  for (let round = 0; round < ROUNDS; round++) {
    // each round starts with another row, so none is always measured right after the same neighbour
    const order = rows.map((_, i) => rows[(i + round) % rows.length]!);
    process.stdout.write(`round ${round + 1}/${ROUNDS}… `);
    for (const r of order) await measure(r);
    // the 1-minute load average shows whether something else competed for the cores
    console.log(`done (load avg ${loadavg()[0]!.toFixed(2)})`);
  }
  const results = rows.map(summary);
  console.log("");
  rows.forEach((r, i) => console.log(describeRow(r, results[i]!)));
  await reportHealth(dzx.base, dzx.err);
  if (only) return results.some((r) => r.non2xx > 0 || r.socketErrors > 0) ? 1 : 0;

  // report
  const [call, ping, sdkBun, sdkNode, raw] = results as [WrkResult, WrkResult, WrkResult, WrkResult, WrkResult];
  const bad = (r: WrkResult) => r.non2xx > 0 || r.socketErrors > 0;
  const w = Math.max(...results.map((r) => r.name.length));
  const row = (c: string[]) => `| ${c[0]!.padEnd(w)} | ${c.slice(1).map((x) => x.padStart(9)).join(" | ")} |`;
  console.log("");
  console.log(row(["server", "req/s", "p50 ms", "p99 ms", "requests", "non-2xx", "sock err"]));
  console.log(`|${"-".repeat(w + 2)}|${Array(6).fill("-".repeat(10) + ":").join("|")}|`);
  for (const r of results) console.log(row([r.name, Math.round(r.rps).toLocaleString("en-US"), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), String(r.requests), String(r.non2xx), String(r.socketErrors)]));
  console.log("");

  const targets: [string, WrkResult, WrkResult, number][] = [
    ["dzx tools/call ÷ SDK on Bun", call, sdkBun, 2],
    ["dzx tools/call ÷ SDK on Node", call, sdkNode, 6],
    ["dzx ping ÷ raw Bun.serve", ping, raw, 0.5],
  ];
  console.log("targets (req/s ratios):");
  for (const [name, a, b, goal] of targets) {
    const x = a.rps / b.rps;
    // error answers are fast: a ratio built on them would flatter whichever side failed
    const verdict = bad(a) || bad(b) ? "INVALID (errors during the run)" : x >= goal ? "met" : "not met";
    console.log(`  ${name.padEnd(30)} ${x.toFixed(2).padStart(6)}×   target ≥ ${goal}×   ${verdict}`);
  }
  // the tail is held to a bound of its own (issue 13): the median round's p99, as wrk measured it
  const p99Verdict = bad(call) ? "INVALID (errors during the run)" : call.p99Ms <= P99_TARGET_MS ? "met" : "not met";
  console.log(`  ${"dzx tools/call p99".padEnd(30)} ${call.p99Ms.toFixed(2).padStart(6)} ms target ≤ ${P99_TARGET_MS} ms  ${p99Verdict}`);
  const failed = results.filter(bad);
  for (const r of failed) console.error(`ERROR: ${r.name}: ${r.non2xx} non-2xx responses, ${r.socketErrors} socket errors — its req/s is not a valid figure`);
  return failed.length ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(e instanceof BenchError ? `\nFAIL: ${e.message}` : e);
} finally {
  await Promise.all(children.map(stop));
}
process.exit(code);
