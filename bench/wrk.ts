/**
 * wrk plumbing for bench/http.ts: a request-only Lua script, one run, and the
 * parsing of `wrk --latency` output.
 */
import { writeFileSync } from "node:fs";
import type { Subprocess } from "bun";

/** A failure the bench explains itself; printed without a stack trace. */
export class BenchError extends Error {}

/** The figures of one measured wrk run. */
export interface WrkResult {
  name: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** "Non-2xx or 3xx responses": error answers are fast and would fake throughput. */
  non2xx: number;
  /** connect + read + write + timeout. */
  socketErrors: number;
}

/** Writes a Lua script that only sets method, body and headers (a response() callback would cap wrk itself). */
export function writeLuaScript(path: string, headers: Record<string, string>, body: unknown): string {
  const lit = (s: string) => `[==[${s}]==]`; // long brackets: JSON needs no escaping
  const lines = [`wrk.method = "POST"`, `wrk.body = ${lit(JSON.stringify(body))}`];
  // the spaces matter: "[[" would open a long string and wrk would then send plain GETs
  for (const [k, v] of Object.entries(headers)) lines.push(`wrk.headers[ ${lit(k)} ] = ${lit(v)}`);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

/** Runs wrk with `args` and returns its stdout; throws on a non-zero exit or anything on stderr. */
export async function runWrk(args: string[], name: string, track: (p: Subprocess) => void): Promise<string> {
  const p = Bun.spawn(["wrk", ...args], { stdout: "pipe", stderr: "pipe" });
  track(p); // so the caller can kill it if the bench dies mid-run
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  // a Lua error goes to stderr, yet wrk goes on benchmarking GETs and exits 0
  if (code !== 0 || err.trim()) throw new BenchError(`wrk failed for ${name} (exit ${code}):\n${out}${err}`);
  return out;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Parses `wrk --latency` output; throws if a figure is missing rather than report a zero. */
export function parseWrk(name: string, out: string): WrkResult {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const latency = (pct: string) => {
    const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(out);
    return m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const r: WrkResult = {
    name,
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: latency("50"),
    p99Ms: latency("99"),
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) || 0,
    socketErrors: sock ? sock.slice(1).reduce((s, v) => s + Number(v), 0) : 0,
  };
  if ([r.rps, r.p50Ms, r.p99Ms, r.requests].some(Number.isNaN)) throw new BenchError(`could not parse wrk output for ${name}:\n${out}`);
  return r;
}
