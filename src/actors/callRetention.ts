/**
 * Call-log retention (SPEC "Operations"): calls older than their org's
 * `retentionDays` (default 30), and trigger events older than their 7 days,
 * are pruned at start and then every hour, on a
 * schedule scoped to the process runtime so shutdown stops it.
 */
import { Effect, Layer } from "effect";
import type { Db } from "../database/index.ts";
import { pruneCalls } from "../platform/callLog.ts";
import { pruneTriggerEvents } from "../platform/trigger.ts";

/** A layer that prunes once while the process starts (before it serves), then hourly for as long as the runtime lives. */
export function callRetentionLayer(db: Db, onError: (err: unknown) => void) {
  // trigger events past their 7 days go too: a trigger that stopped receiving prunes nothing on insert
  const prune = Effect.tryPromise(() => Promise.all([pruneCalls(db), pruneTriggerEvents(db)])).pipe(Effect.catch((err: unknown) => Effect.sync(() => onError(err))));
  return Layer.effectDiscard(
    Effect.gen(function* () {
      yield* prune;
      yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep("1 hour"), prune)));
    }),
  );
}
