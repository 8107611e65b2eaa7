/**
 * Call-log retention (SPEC "Operations"): calls older than their org's
 * `retentionDays` (default 30) are pruned at start and then every hour, on a
 * schedule scoped to the process runtime so shutdown stops it.
 */
import { Effect, Layer } from "effect";
import type { Db } from "../database/index.ts";
import { pruneCalls } from "../platform/callLog.ts";

/** A layer that prunes once while the process starts (before it serves), then hourly for as long as the runtime lives. */
export function callRetentionLayer(db: Db, onError: (err: unknown) => void) {
  const prune = Effect.tryPromise(() => pruneCalls(db)).pipe(Effect.catch((err: unknown) => Effect.sync(() => onError(err))));
  return Layer.effectDiscard(
    Effect.gen(function* () {
      yield* prune;
      yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep("1 hour"), prune)));
    }),
  );
}
