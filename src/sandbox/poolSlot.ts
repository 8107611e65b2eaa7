/**
 * What the pool keeps per call and per worker: a job, the job as posted to a
 * worker (running, queued behind the running one, or parked waiting on its
 * client), and the worker's slot.
 */
import type { Questions } from "./askRelay.ts";
import type { CallLimits } from "./limits.ts";
import type { CallRequest } from "./callRequest.ts";
import { CodeCache, type CallOutcome } from "./protocol.ts";

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
  /** performance.now() when it became the worker's running call (as the pool saw it). */
  since?: number;
  graceTimer?: Timer;
  detachAbort?: () => void;
  /** Time it ran before it last parked, ms (its deadline does not count the waits). */
  ranMs?: number;
  /** Requests (tools.*, asks) whose answer has not been sent to the worker yet. */
  outstanding?: Set<number>;
  /** Its questions to the client in flight (see AskRelay). */
  questions?: Questions;
  /** Parked, and an answer it waits for has been sent: the worker should take it back. */
  resumable?: boolean;
}

export interface Slot {
  worker: Worker;
  /** Shared with the worker: [ABORT] the callId to stop; the rest claim cells of queued calls (ClaimCells). */
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
  /** Calls queued in the worker behind it, oldest first. */
  queued: Posted[];
  /** Calls the worker set aside while they wait on their clients, by callId (they hold no turn). */
  parked: Map<number, Posted>;
  /** How long this worker's calls have been taking, ms (a moving average). */
  recentMs: number;
  cells: ClaimCells;
  /** What counts as short and as overrun here (the pool's options). */
  timing: SlotTiming;
}

/** A worker's thresholds, ms: its calls are short at or below `shortCallMs`; a short call has overrun past `overrunMs`. */
export interface SlotTiming {
  shortCallMs: number;
  overrunMs: number;
}

/** Index of the shared cell naming the call to abort (see Slot.flag). */
export const ABORT = 0;

/**
 * A worker holds more than one queued call only while its calls take about this
 * long or less. A queued call is committed to its worker ahead of calls that
 * arrive later, from any org: deep queues of slow calls would undo the fair queue.
 */
export const SHORT_CALL_MS = 0.5;
/** A short call running this long has overrun: the calls queued behind it may move to an idle worker. */
export const OVERRUN_MS = 2;

/** A slot for a new worker; its shared cells go to the worker in the init message. */
export function newSlot(worker: Worker, depth: number, timing: SlotTiming): Slot {
  // cell 0 is ABORT; a cell per queued call, one for a promoted call not claimed yet, one to spare
  const cells = new ClaimCells(depth + 2);
  const flag = new Int32Array(new SharedArrayBuffer(4 * (1 + cells.count)));
  // a new worker's calls count as long until some have been timed
  return { worker, flag, ready: false, codes: new CodeCache(), idleSince: 0, queued: [], parked: new Map(), cells, recentMs: timing.shortCallMs * 2, timing };
}

/** The idle worker that became idle last: its thread is the warmest. One about to take back a parked call is not idle. */
export function warmestIdle(slots: Slot[]): Slot | undefined {
  let slot: Slot | undefined;
  for (const s of slots) if (s.ready && !s.running && !hasResumable(s) && (!slot || s.idleSince > slot.idleSince)) slot = s;
  return slot;
}

/** Whether a call the worker parked is ready to go on (it then takes no new queued calls, so it drains). */
export function hasResumable(s: Slot): boolean {
  if (s.parked.size === 0) return false;
  for (const p of s.parked.values()) if (p.resumable) return true;
  return false;
}

/** The busy worker with room and the fewest queued calls; `shortOnly`: among those running short calls. */
export function shortestQueue(slots: Slot[], depth: number, shortOnly: boolean): Slot | undefined {
  let slot: Slot | undefined;
  for (const s of slots) {
    if (shortOnly && !runsShort(s)) continue;
    if (canQueue(s, depth) && (!slot || s.queued.length < slot.queued.length)) slot = s;
  }
  return slot;
}

/** Whether the worker's calls are short, and its running one has not overrun that. */
export function runsShort(s: Slot): boolean {
  return s.recentMs <= s.timing.shortCallMs && s.running !== undefined && performance.now() - (s.running.since ?? 0) < s.timing.overrunMs;
}

/**
 * A worker busy with calls that are not CODE-mode scripts (which may wait on
 * calls of their own), with room in its queue: `depth` calls while its calls
 * are short, one otherwise.
 */
export function canQueue(s: Slot, depth: number): boolean {
  const room = runsShort(s) ? depth : Math.min(1, depth);
  if (!s.ready || !s.running || s.queued.length >= room || s.cells.available === 0) return false;
  if (s.running.job.req.kind === "script" || hasResumable(s)) return false;
  for (const p of s.queued) if (p.job.req.kind === "script") return false;
  return true;
}

/** Takes back a call queued in a worker; false once the worker has started it. */
export function withdraw(slot: Slot, p: Posted): boolean {
  if (p.cell === undefined || Atomics.compareExchange(slot.flag, p.cell, p.callId, 0) !== p.callId) return false;
  // the worker will find the cell changed and skip the call, whatever the cell holds by then
  freeCell(slot, p);
  return true;
}

/** Gives the call's claim cell back to the worker's free list, once it can no longer be claimed. */
export function freeCell(slot: Slot, p: Posted): void {
  slot.cells.give(p.cell);
  p.cell = undefined;
}

/**
 * The claim cells of one worker. A cell stays taken from the post of a queued
 * call until the worker has certainly claimed it (its "done" arrived) or the pool
 * took the call back: a call promoted to running may not have been claimed yet
 * (a worker can be descheduled right after its previous "done"), and reusing its
 * cell then made the worker skip it while its client waited for the watchdog.
 */
export class ClaimCells {
  private readonly free: number[] = [];

  /** Cells 1..count of the shared array (cell 0 is ABORT). */
  constructor(readonly count: number) {
    for (let i = count; i >= 1; i--) this.free.push(i);
  }

  /** A free cell; undefined when all are taken. */
  take(): number | undefined {
    return this.free.pop();
  }

  give(cell: number | undefined): void {
    if (cell !== undefined) this.free.push(cell);
  }

  get available(): number {
    return this.free.length;
  }
}

/** A failed call's outcome. */
export function failure(message: string, limit?: string): CallOutcome {
  return { ok: false, error: limit ? { message, limit } : { message }, logs: [], durationMs: 0 };
}

/** The slot's job with this callId, running or queued. */
export function posted(slot: Slot, callId: number): Posted | undefined {
  if (slot.running?.callId === callId) return slot.running;
  for (const p of slot.queued) if (p.callId === callId) return p;
  return slot.parked.get(callId);
}

export const waitedTooLong = (job: Job) => failure(`Timed out after ${job.limits.timeoutMs} ms waiting for a sandbox worker`, "timeout");
