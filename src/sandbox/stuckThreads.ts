/**
 * Terminated workers whose threads are still running. Bun cannot preempt a thread
 * inside WebAssembly (oven-sh/bun#36356): a call caught in one of QuickJS's native
 * loops (e.g. `includes` over a 2^32-long sparse array) keeps its thread spinning
 * after terminate() until the loop ends, which can take minutes, and the thread
 * keeps its memory. Such threads are moved to the lowest priority and counted per
 * org of the call that caused them, so the pool can stop an org piling them up.
 */
import { setThreadNice, threadAlive } from "./threadPriority.ts";

/** How long a terminated worker may take to end before it counts as stuck. */
const STUCK_AFTER_MS = 2000;
/** The lowest priority: a stuck thread then only takes cycles nothing else wants. */
const STUCK_NICE = 19;
/** Whether a thread is alive is a file-system lookup: the counts are refreshed at most this often. */
const REFRESH_MS = 250;

export class StuckThreads {
  /** Stuck thread id → the org whose call it ran. */
  private readonly orgOf = new Map<number, string>();
  private refreshedAt = 0;

  constructor(private readonly onStuck?: (tid: number, stuckThreads: number) => void) {}

  /** Watches a just-terminated worker's thread; if it is still alive after STUCK_AFTER_MS, it is stuck. */
  watch(tid: number, orgId: string): void {
    const timer = setTimeout(() => {
      if (!threadAlive(tid)) return;
      setThreadNice(tid, STUCK_NICE);
      this.orgOf.set(tid, orgId);
      this.onStuck?.(tid, this.count);
    }, STUCK_AFTER_MS);
    timer.unref?.();
  }

  /** Stuck threads alive now. */
  get count(): number {
    this.refresh(true);
    return this.orgOf.size;
  }

  /** Stuck threads alive of one org's calls (refreshed at most every REFRESH_MS: it is asked on every call). */
  of(orgId: string): number {
    if (this.orgOf.size === 0) return 0;
    this.refresh(false);
    let n = 0;
    for (const org of this.orgOf.values()) if (org === orgId) n++;
    return n;
  }

  private refresh(always: boolean): void {
    const now = performance.now();
    if (!always && now - this.refreshedAt < REFRESH_MS) return;
    this.refreshedAt = now;
    for (const tid of this.orgOf.keys()) if (!threadAlive(tid)) this.orgOf.delete(tid);
  }
}
