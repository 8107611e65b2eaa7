/**
 * Rate windows in this process only: embedded PGlite is single-process, and a
 * shared store falls back to this when it cannot answer.
 */
import { Effect } from "effect";
import type { RateStoreShape } from "./rateStore.ts";
import { HORIZON_MS, RateWindow } from "./rateWindow.ts";

/** A store of in-process windows; `now` is injectable so tests control time. */
export function makeMemoryRateStore(now: () => number = Date.now): RateStoreShape<never> {
  const windows = new Map<string, RateWindow>();
  return {
    backend: "memory",
    admit: (keyId, rate, count) =>
      Effect.sync(() => {
        let window = windows.get(keyId);
        if (!window) windows.set(keyId, (window = new RateWindow()));
        const at = now();
        return Array.from({ length: count }, () => window.admit(at, rate));
      }),
    prune: Effect.sync(() => {
      const at = now();
      for (const [keyId, window] of windows) if (window.idle(at, HORIZON_MS)) windows.delete(keyId);
    }),
    close: Effect.void,
  };
}

