/**
 * Cancelling one request's work: what AbortSignal offers the code that serves a
 * request (`aborted`, `reason`, "abort" listeners), as a plain object. A native
 * AbortController per tools/call, with its listeners and its collection, cost
 * 1–5 µs of main-thread CPU a call (bench/RESULTS.md); this costs next to nothing.
 * AbortSignal has the same shape, so either may be passed where a CancelSignal is taken.
 */

/** The reading side: what a canceller is asked. */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** A cancellation that its owner aborts; each listener runs at most once, as with `{ once: true }`. */
export class Cancellation implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] | undefined;

  addEventListener(_type: "abort", listener: () => void): void {
    // as with AbortSignal, a listener added after the abort never runs
    if (!this.aborted && !this.listeners?.includes(listener)) (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const i = this.listeners?.indexOf(listener) ?? -1;
    if (i >= 0) this.listeners!.splice(i, 1);
  }

  /** Aborts once; later calls do nothing. Every listener runs even if one throws; then the first error is rethrown. */
  abort(reason: unknown = new DOMException("This operation was aborted", "AbortError")): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    let failure: { err: unknown } | undefined;
    for (const listener of listeners ?? []) {
      try {
        listener();
      } catch (err) {
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  }
}

/** A signal that never fires, for work nothing cancels: it keeps no listeners, since none would ever run. */
export const NEVER_CANCELLED: CancelSignal = {
  aborted: false,
  reason: undefined,
  addEventListener() {},
  removeEventListener() {},
};
