/**
 * Lowers the scheduling priority of the calling thread. On Linux niceness is per
 * thread, so a sandbox worker can yield to the main thread (HTTP, dispatch, the
 * database) without touching the rest of the process.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/** Sets this thread's niceness; false where the platform cannot name the thread (not Linux) or refuses. */
export function niceThisThread(nice: number): boolean {
  if (nice <= 0) return false;
  try {
    // /proc/thread-self → "<pid>/task/<tid>"
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
