/**
 * Threads by their Linux thread id: a sandbox worker lowers its own priority so it
 * yields to the main thread (HTTP, dispatch, the database) without touching the
 * rest of the process, and reports its id so the pool can find it again after
 * terminating it (see SandboxPool: a terminated worker can keep running).
 * Everything here is a no-op where /proc is absent (not Linux).
 */
import { existsSync, readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/** The calling thread's id (/proc/thread-self → "<pid>/task/<tid>"), or undefined. */
export function thisThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** Sets a thread's niceness (a thread of this process); false where the platform refuses. */
export function setThreadNice(tid: number, nice: number): boolean {
  try {
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}

/** Sets this thread's niceness; false where the platform cannot name the thread or refuses. */
export function niceThisThread(nice: number): boolean {
  if (nice <= 0) return false;
  const tid = thisThreadId();
  return tid !== undefined && setThreadNice(tid, nice);
}

/** Whether a thread of this process still exists. */
export function threadAlive(tid: number): boolean {
  return existsSync(`/proc/self/task/${tid}`);
}
