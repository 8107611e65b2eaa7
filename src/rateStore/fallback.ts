/**
 * A shared store with the in-process windows behind it: when the shared store
 * fails or is slow (Redis down, a database error), requests are still answered,
 * limited per process, until it answers again. The outage is reported once, not
 * per request, and the store is retried at most every `retryMs` meanwhile.
 */
import { Effect } from "effect";
import { RateStoreError, type RateStoreShape } from "./rateStore.ts";

/** What the fallback reports, and how patient it is. */
export interface FallbackOptions {
  /** A step slower than this counts as a failure (default 2 s). */
  timeoutMs?: number;
  /** How long to stay on the local windows after a failure before trying the store again (default 1 s). */
  retryMs?: number;
  now?: () => number;
  /** The store failed after answering (or at the first try): once per outage. */
  onOutage(error: RateStoreError): void;
  /** The store answers again. */
  onRecovery(): void;
  /** `count` requests were decided by the local windows. */
  onFallback(count: number): void;
}

/** Wraps `shared` so that its failures fall back to `local`; the result never fails. */
export function withFallback(shared: RateStoreShape, local: RateStoreShape<never>, opts: FallbackOptions): RateStoreShape<never> {
  const { timeoutMs = 2_000, retryMs = 1_000, now = Date.now } = opts;
  let down = false;
  let retryAt = 0;
  const locally = (keyId: string, rate: Parameters<RateStoreShape["admit"]>[1], count: number) => {
    opts.onFallback(count);
    return local.admit(keyId, rate, count);
  };
  return {
    backend: shared.backend,
    admit: (keyId, rate, count) => {
      if (down && now() < retryAt) return locally(keyId, rate, count);
      return shared.admit(keyId, rate, count).pipe(
        Effect.timeoutOrElse({
          duration: timeoutMs,
          orElse: () => Effect.fail(new RateStoreError({ backend: shared.backend, cause: new Error(`no answer within ${timeoutMs} ms`) })),
        }),
        Effect.matchEffect({
          onSuccess: (admissions) => {
            if (down) {
              down = false;
              opts.onRecovery();
            }
            return Effect.succeed(admissions);
          },
          onFailure: (error) => {
            if (!down) {
              down = true;
              opts.onOutage(error);
            }
            retryAt = now() + retryMs;
            return locally(keyId, rate, count);
          },
        }),
      );
    },
    prune: Effect.andThen(Effect.ignore(shared.prune), local.prune),
    close: Effect.andThen(shared.close, local.close),
  };
}
