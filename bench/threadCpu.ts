/**
 * CPU time per thread of this process (Linux /proc), for bench/sandbox.ts: on a
 * shared machine wall-clock throughput swings with other people's load, while
 * CPU time per call says what a call costs each thread.
 */
import { readdirSync, readFileSync } from "node:fs";

/** CPU ms (user + system) of each thread of `pid` (default: this process), keyed "tid:name"; empty where /proc is absent. */
export function threadCpuMs(pid: number | "self" = "self"): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(`${tid}:${name}`, (Number(f[11]) + Number(f[12])) * tick);
    } catch {}
  }
  return out;
}

/** CPU ms between two snapshots, grouped: main thread, sandbox workers, the rest. */
export function cpuGroups(before: Map<string, number>, after: Map<string, number>, pid = process.pid): { main: number; workers: number; other: number } {
  const mainTid = String(pid);
  const r = { main: 0, workers: 0, other: 0 };
  for (const [key, ms] of after) {
    const d = ms - (before.get(key) ?? 0);
    const [tid, name] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
    if (tid === mainTid) r.main += d;
    else if (name === "Worker") r.workers += d;
    else r.other += d;
  }
  return r;
}

/** µs of CPU per call between two snapshots, grouped as cpuGroups does. */
export function cpuPerCall(before: Map<string, number>, after: Map<string, number>, calls: number, pid = process.pid): { main: number; workers: number; other: number } {
  const r = cpuGroups(before, after, pid);
  const per = (ms: number) => (calls > 0 ? (ms * 1000) / calls : NaN);
  return { main: per(r.main), workers: per(r.workers), other: per(r.other) };
}
