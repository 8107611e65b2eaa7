/**
 * A request's "the client went away" signal, for answers sent as one JSON body.
 * Reading `request.signal` makes Bun track the request's abort: with the native
 * AbortController it fed, 5–14 µs of CPU per tools/call (bench/RESULTS.md), while most calls end within a
 * few ms. So the request's own signal is read only once an answer has been pending
 * for LINK_MS. Bun reports a disconnect that came earlier as already aborted, so
 * none is missed: it is noticed up to LINK_MS late.
 */
import { Cancellation, type CancelSignal } from "../mcp/cancellation.ts";

/** How long an answer may be pending before the request's own signal is read. */
const LINK_MS = 10;

/** The watch over one request: `signal()` for whoever can be cancelled, `abort()` when its SSE answer's reader left, `stop()` once the answer is made. */
export interface DisconnectWatch {
  signal: () => CancelSignal;
  abort(reason: unknown): void;
  stop(): void;
}

/** Watches one request for its client going away. */
export function disconnectWatch(request: Request): DisconnectWatch {
  let cancellation: Cancellation | undefined;
  let timer: Timer | undefined;
  let stopped = false;
  const link = () => {
    timer = undefined;
    const c = cancellation!;
    const gone = request.signal;
    if (gone.aborted) c.abort(gone.reason);
    else gone.addEventListener("abort", () => c.abort(gone.reason), { once: true });
  };
  return {
    signal: () => {
      if (!cancellation) {
        cancellation = new Cancellation();
        if (!stopped) timer = setTimeout(link, LINK_MS);
      }
      return cancellation;
    },
    abort: (reason) => (cancellation ??= new Cancellation()).abort(reason),
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
