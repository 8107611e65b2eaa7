/**
 * Side-by-side A/B of hosted tools/call on two dzx builds or settings, in one run:
 * both servers run for the whole run and wrk alternates between them in short
 * rounds, so a VM that speeds up or slows down moves both alike (separate runs
 * minutes apart differed by 30 % here with the same code).
 *
 *   bun bench/ab.ts <dirA> <dirB>                 # two checkouts (e.g. a git worktree of HEAD~1)
 *   AB_ENV_B="DZX_WORKERS=1" bun bench/ab.ts . .  # one checkout, two settings (AB_ENV_A too)
 *   AB_ROUNDS=10 AB_SECONDS=3 AB_WARMUP=8 …       # defaults
 *   AB_METHOD=ping …                               # measure ping (the path without the sandbox) instead
 *
 * Prints each side's median req/s, p50/p99 and CPU µs per call by thread (main,
 * workers — the sandbox's and PGlite's —, the rest), and B ÷ A.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { expectResult, hasContent, post, setUpHosted, startDzx } from "./dzxServer.ts";
import { cpuGroups, threadCpuMs } from "./threadCpu.ts";
import { parseWrk, runWrk, writeLuaScript, type WrkResult } from "./wrk.ts";

const [dirA, dirB] = [process.argv[2], process.argv[3]];
if (!dirA || !dirB) {
  console.error("usage: bun bench/ab.ts <dirA> <dirB>  (AB_ENV_A / AB_ENV_B: extra env, \"K=V K2=V2\")");
  process.exit(1);
}
const ROUNDS = Number(process.env.AB_ROUNDS ?? 10);
const SECONDS = Number(process.env.AB_SECONDS ?? 3);
const WARMUP = Number(process.env.AB_WARMUP ?? 8);
const ACCEPT = "application/json, text/event-stream";
const PING = process.env.AB_METHOD === "ping";
const tmp = mkdtempSync(join(tmpdir(), "dzx-ab-"));
const children: Subprocess[] = [];
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
});

const envOf = (spec: string | undefined) => Object.fromEntries((spec ?? "").split(/\s+/).filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));

interface Side {
  name: string;
  pid: number;
  script: string;
  url: string;
  rounds: WrkResult[];
  cpu: { main: number; workers: number; other: number };
}

async function start(name: string, dir: string, extra: Record<string, string>): Promise<Side> {
  const adminKey = `dwz_live_ab${name}${crypto.randomUUID().replaceAll("-", "")}`;
  const dzx = await startDzx({ root: resolve(dir), dataDir: join(tmp, name), adminKey, env: extra, track: (c) => children.push(c) });
  const { endpoint, headers } = await setUpHosted(dzx.base, adminKey);
  const body = PING ? { jsonrpc: "2.0", id: 1, method: "ping" } : { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text: "hi" } } };
  expectResult(`${name}: ${body.method}`, endpoint, body, await post(endpoint, headers, body), PING ? () => true : hasContent);
  const script = writeLuaScript(join(tmp, `${name}.lua`), { "Content-Type": "application/json", Accept: ACCEPT, ...headers }, body);
  return { name, pid: dzx.child.pid, script, url: endpoint, rounds: [], cpu: { main: 0, workers: 0, other: 0 } };
}

const wrk = (s: Side, seconds: number) => runWrk(["-t1", "-c20", `-d${seconds}s`, "--latency", "-s", s.script, s.url], s.name, (p) => children.push(p));

const sides = [await start("A", dirA, envOf(process.env.AB_ENV_A)), await start("B", dirB, envOf(process.env.AB_ENV_B))];
for (const s of sides) await wrk(s, WARMUP);
for (let r = 0; r < ROUNDS; r++) {
  // every other round starts with B, so neither side always follows the other
  for (const s of r % 2 ? [...sides].reverse() : sides) {
    const before = threadCpuMs(s.pid);
    const result = parseWrk(s.name, await wrk(s, SECONDS));
    const g = cpuGroups(before, threadCpuMs(s.pid), s.pid);
    s.rounds.push(result);
    s.cpu.main += g.main;
    s.cpu.workers += g.workers;
    s.cpu.other += g.other;
  }
  process.stdout.write(`round ${r + 1}/${ROUNDS}: ${sides.map((s) => `${s.name} ${Math.round(s.rounds.at(-1)!.rps)}`).join(" · ")}\n`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = sides.map((s) => {
  const calls = s.rounds.reduce((n, r) => n + r.requests, 0);
  const us = (ms: number) => ((ms * 1000) / calls).toFixed(1);
  return { s, rps: median(s.rounds.map((r) => r.rps)), p50: median(s.rounds.map((r) => r.p50Ms)), p99: median(s.rounds.map((r) => r.p99Ms)), cpu: `main ${us(s.cpu.main)}, workers ${us(s.cpu.workers)}, other ${us(s.cpu.other)}` };
});
for (const x of summary) console.log(`${x.s.name} (${x.s.name === "A" ? dirA : dirB} ${process.env[`AB_ENV_${x.s.name}`] ?? ""}): ${Math.round(x.rps)} req/s, p50 ${x.p50.toFixed(2)} ms, p99 ${x.p99.toFixed(2)} ms; CPU µs/call ${x.cpu}`);
const wins = sides[1]!.rounds.filter((r, i) => r.rps > sides[0]!.rounds[i]!.rps).length;
console.log(`B ÷ A: ${(summary[1]!.rps / summary[0]!.rps).toFixed(3)}× req/s (B faster in ${wins} of ${ROUNDS} rounds)`);
process.exit(0);
