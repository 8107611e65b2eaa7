/**
 * One request being answered: the CallContext its method reads, and the canceller that
 * notifications/cancelled and the shutdown's drain reach. One object per request with
 * its behaviour on the prototype, so a method that answers at once (ping, a cached list)
 * pays for no closures; what only some calls read (the signal, ask) is made on first read.
 */
import type { CallContext } from "./catalog.ts";
import { Cancellation, type CancelSignal } from "./cancellation.ts";
import { ServerShutdown, type Drain, type Stoppable } from "./drain.ts";
import type { RequestScope } from "./engine.ts";
import { failure, result, RpcCode, RpcError, type RpcId, type RpcResponse } from "./jsonrpc.ts";

export class Call implements CallContext, Stoppable {
  readonly requestId: string;
  private controller: Cancellation | undefined;
  private cancelled: { reason: unknown } | undefined;
  /** Set while the request is in its session's table and the drain's set (work that outlived its first turn). */
  private tracked = false;

  constructor(
    private readonly id: RpcId,
    private readonly scope: RequestScope,
    private readonly drain: Drain | undefined,
  ) {
    this.requestId = String(id);
  }

  get sessionId(): string | undefined {
    return this.scope.session?.id;
  }

  get progress(): CallContext["progress"] {
    return this.scope.progress;
  }

  get log(): CallContext["log"] {
    return this.scope.log;
  }

  get signal(): CancelSignal {
    if (!this.controller) {
      const c = (this.controller = new Cancellation());
      // the request's own signal (client gone) feeds this one: a listener costs less than AbortSignal.any
      const outer = this.scope.signal;
      if (this.cancelled) c.abort(this.cancelled.reason);
      else if (outer.aborted) c.abort(outer.reason);
      else outer.addEventListener("abort", () => c.abort(outer.reason), { once: true });
    }
    return this.controller;
  }

  // read by the few calls that ask the client: nothing is made for the others
  get clientCapabilities(): Record<string, unknown> | undefined {
    return this.scope.clientCapabilities ?? this.scope.session?.clientCapabilities;
  }

  get ask(): CallContext["ask"] {
    const ask = this.scope.ask;
    return ask && ((method, params, signal) => ask(method, params, this.signal, signal));
  }

  /** Stops the request (its client's cancel, or the shutdown's deadline). */
  abort(reason?: unknown): void {
    this.cancelled ??= { reason };
    this.controller?.abort(reason);
  }

  /** Registers work that outlives this turn: only then can a notifications/cancelled or the drain reach it. */
  track(): void {
    this.tracked = true;
    this.scope.session?.inflight.set(this.requestId, this);
    this.drain?.track(this);
  }

  /** The answer for the method's value. */
  answer(value: unknown): RpcResponse | null {
    this.untrack();
    const stopped = this.cancelled && this.stoppedAnswer();
    return stopped !== undefined ? stopped : result(this.id, value);
  }

  /** The answer for the method's fault: its RpcError, or an internal error without details. */
  fail(err: unknown): RpcResponse | null {
    this.untrack();
    const stopped = this.cancelled && this.stoppedAnswer();
    if (stopped !== undefined) return stopped;
    if (err instanceof RpcError) return failure(this.id, err.toBody());
    this.scope.onInternalError?.(err);
    return failure(this.id, { code: RpcCode.InternalError, message: "Internal error" });
  }

  private untrack(): void {
    if (!this.tracked) return;
    const inflight = this.scope.session?.inflight;
    if (inflight?.get(this.requestId) === this) inflight.delete(this.requestId);
    this.drain?.untrack(this);
  }

  /**
   * A cancelled request's answer: none for its client's cancel; the shutdown's error when the
   * shutdown stopped it; undefined (its own outcome stands) when the work never read its signal,
   * so was never stopped.
   */
  private stoppedAnswer(): RpcResponse | null | undefined {
    const reason = this.cancelled!.reason;
    if (!(reason instanceof ServerShutdown)) return null;
    return this.controller ? failure(this.id, { code: RpcCode.InternalError, message: reason.message }) : undefined;
  }
}
