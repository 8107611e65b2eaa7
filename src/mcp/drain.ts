/**
 * Draining on shutdown (SPEC "Operations"): the engine requests in flight across
 * the process, so a shutdown can wait for them to answer and, at its deadline,
 * stop the rest with a reason the engine tells apart from a client's
 * notifications/cancelled. Transport-free; the HTTP side reads `draining`.
 * Tracking is a Set add and delete on work that is already asynchronous: no
 * promise, timer or AbortController per request.
 */

/** What the engine registers for each request still running: the same canceller notifications/cancelled uses. */
export interface Stoppable {
  abort(reason?: unknown): void;
}

/** The reason a request was stopped by the shutdown's deadline (not by its client). */
export class ServerShutdown extends Error {
  constructor() {
    super("Server is shutting down: the call was stopped before it finished");
    this.name = "ServerShutdown";
  }
}

/** The process's requests in flight and the shutdown's state. */
export class Drain {
  private readonly running = new Set<Stoppable>();
  private stopReason: ServerShutdown | undefined;
  /** Set once the shutdown began: new work is refused at the edge. */
  draining = false;

  /** Registers a request that outlives its first turn; one arriving after the deadline is stopped at once. */
  track(request: Stoppable): void {
    this.running.add(request);
    if (this.stopReason) request.abort(this.stopReason);
  }

  /** Forgets a request that answered. */
  untrack(request: Stoppable): void {
    this.running.delete(request);
  }

  /** Requests still running. */
  get size(): number {
    return this.running.size;
  }

  /** Starts draining: the edge refuses new work, running requests go on. */
  begin(): void {
    this.draining = true;
  }

  /** The deadline: stops every running request (and any that arrives later) with a ServerShutdown; returns how many were running. */
  stopAll(): number {
    this.draining = true;
    const reason = (this.stopReason ??= new ServerShutdown());
    const stopped = [...this.running];
    for (const r of stopped) {
      try {
        r.abort(reason);
      } catch {
        // one canceller's fault must not keep the others running
      }
    }
    return stopped.length;
  }
}
