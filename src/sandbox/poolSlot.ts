/**
 * What the pool keeps per call and per worker: a job, the job as posted to a
 * worker (running or queued behind the running one), and the worker's slot.
 */
import type { CallLimits } from "./limits.ts";
import type { CallRequest } from "./pool.ts";
import type { CallOutcome, CodeCache } from "./protocol.ts";

export interface Job {
  req: CallRequest;
  limits: CallLimits;
  resolve(outcome: CallOutcome): void;
  settled: boolean;
  /** performance.now() by which it must have started (set once it has to wait). */
  startBy?: number;
  /** Handed to a worker (or failed on the way). */
  started?: boolean;
  queueTimer?: Timer;
}

/** A job posted to a worker. */
export interface Posted {
  job: Job;
  callId: number;
  /** The shared cell a queued call is claimed through. */
  cell?: number;
  /** While queued in the worker: waiting still counts against its deadline. */
  waitTimer?: Timer;
  watchdog?: Timer;
  graceTimer?: Timer;
  detachAbort?: () => void;
}

export interface Slot {
  worker: Worker;
  /** Shared with the worker: [ABORT] the callId to stop; [1] and [2] the callIds of queued calls not yet started. */
  flag: Int32Array;
  ready: boolean;
  /** The sources this worker holds (a mirror of its own cache). */
  codes: CodeCache;
  /** The worker's thread id (Linux), once it is ready. */
  tid?: number;
  /** performance.now() when the worker last became idle. */
  idleSince: number;
  /** The call the worker runs (or is about to start). */
  running?: Posted;
  /** The call queued in the worker behind it. */
  next?: Posted;
}

/** Index of the shared cell naming the call to abort (see Slot.flag). */
export const ABORT = 0;
const CLAIM_CELLS = [1, 2] as const;

/**
 * The claim cell for a call queued behind the slot's running one. Two cells: a
 * queued call promoted to running may not have been claimed by the worker yet
 * (a low-priority worker can be descheduled right after its last "done"), and its
 * cell must not be reused until it is. Taking the cells in turn was not enough: a
 * queued call taken back for an idle worker freed its cell, and the post after it
 * overwrote the promoted call's, so the worker skipped that call and its client
 * waited until the watchdog.
 */
export function claimCell(slot: Pick<Slot, "running">): number {
  return slot.running?.cell === CLAIM_CELLS[0] ? CLAIM_CELLS[1] : CLAIM_CELLS[0];
}

/** A failed call's outcome. */
export function failure(message: string, limit?: string): CallOutcome {
  return { ok: false, error: limit ? { message, limit } : { message }, logs: [], durationMs: 0 };
}

/** The slot's job with this callId, running or queued. */
export const posted = (slot: Slot, callId: number) => [slot.running, slot.next].find((p) => p?.callId === callId);

export const waitedTooLong = (job: Job) => failure(`Timed out after ${job.limits.timeoutMs} ms waiting for a sandbox worker`, "timeout");

