/**
 * What watches a call once the pool has posted it to a worker: its watchdog while
 * it runs, its deadline while it waits in the worker's queue, and its client's
 * cancel. Each ends the call one way — withdrawn before it started, stopped through
 * the worker's abort cell, or, when the worker cannot stop it, by replacing the
 * worker — and `releasePosted` takes all of them down once the call is settled.
 */
import type { Parking } from "./parking.ts";
import { ABORT, failure, waitedTooLong, withdraw, type Posted, type Slot } from "./poolSlot.ts";

/** How long a worker gets to stop a call (an overrun, a cancel) before it is replaced. */
const GRACE_MS = 1000;

/** What the watches need of the pool. */
export interface WatchedPool {
  readonly parking: Parking;
  /** Drops a call from its worker's queue (it no longer counts as waiting). */
  unqueue(slot: Slot, p: Posted): void;
  /** Terminates the worker, failing `culprit` with `message` (see SandboxPool.replace). */
  replace(slot: Slot, culprit: Posted, message: string, limit: string): void;
}

/** The watchdog of a call its worker runs now: the interrupt handler should stop it at the deadline (what is left of it, for a resumed call); if it cannot, the worker goes. */
export function armWatchdog(pool: WatchedPool, slot: Slot, p: Posted): void {
  p.since = performance.now();
  clearTimeout(p.waitTimer);
  const left = p.job.limits.timeoutMs - (p.ranMs ?? 0);
  p.watchdog = setTimeout(() => pool.replace(slot, p, `Timed out after ${p.job.limits.timeoutMs} ms`, "timeout"), Math.max(0, left) + GRACE_MS);
}

/** A call queued in a worker that has not started by its deadline is withdrawn and times out. */
export function watchQueueWait(pool: WatchedPool, slot: Slot, p: Posted): void {
  const { job } = p;
  p.waitTimer = setTimeout(() => {
    if (!slot.queued.includes(p) || !withdraw(slot, p)) return;
    pool.unqueue(slot, p);
    releasePosted(pool.parking, p);
    job.resolve(waitedTooLong(job));
  }, (job.startBy ?? performance.now() + job.limits.timeoutMs) - performance.now());
}

/** The client's cancel: a parked call is let go, a queued one withdrawn, a running one stopped (or its worker replaced after GRACE_MS). */
export function watchAbort(pool: WatchedPool, slot: Slot, p: Posted): void {
  const signal = p.job.req.signal;
  if (!signal) return;
  const onAbort = () => {
    if (slot.parked.get(p.callId) === p) return pool.parking.cancel(slot, p);
    if (slot.queued.includes(p) && withdraw(slot, p)) {
      // it never started: nothing to stop
      pool.unqueue(slot, p);
      releasePosted(pool.parking, p);
      p.job.resolve(failure("The call was cancelled", "cancelled"));
      return;
    }
    Atomics.store(slot.flag, ABORT, p.callId);
    p.graceTimer = setTimeout(() => pool.replace(slot, p, "The call was cancelled", "cancelled"), GRACE_MS);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  p.detachAbort = () => signal.removeEventListener("abort", onAbort);
}

/** Stops a posted call's timers and listeners, and withdraws its questions to the client. */
export function releasePosted(parking: Parking, p: Posted): void {
  clearTimeout(p.waitTimer);
  clearTimeout(p.watchdog);
  clearTimeout(p.graceTimer);
  p.detachAbort?.();
  p.detachAbort = undefined;
  parking.withdraw(p);
}
