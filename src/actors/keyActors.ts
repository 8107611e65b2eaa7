/**
 * One Effect actor per API key, serializing that key's admissions in this
 * process in front of the rate store (which holds the windows, in process or
 * shared). Messages are data; each actor drains its queue in a fiber, handing
 * the store everything that queued up while its previous step ran, so a shared
 * store sees one round trip per batch rather than per request. Idle actors are evicted.
 */
import { Context, Deferred, Effect, Fiber, Layer, Queue } from "effect";
import type { Rate } from "../platform/limits.ts";
import { RateStore, type RateStoreShape } from "../rateStore/rateStore.ts";
import type { Admission } from "../rateStore/rateWindow.ts";

/** The messages a key actor understands. */
type KeyMessage = { _tag: "Admit"; rate: Rate; reply: Deferred.Deferred<Admission> };

interface KeyActor {
  queue: Queue.Queue<KeyMessage>;
  fiber: Fiber.Fiber<never, unknown>;
  lastUsed: number;
}

/** How long an actor with nothing to do is kept. */
const IDLE_MS = 10 * 60_000;

/** The registry of key actors. */
export interface KeyActorsShape {
  /** Asks the key's actor to admit one request under `rate`. */
  admit(keyId: string, rate: Rate): Effect.Effect<Admission>;
  /** Stops idle actors and lets the store forget idle windows. */
  evictIdle: Effect.Effect<void>;
  readonly size: number;
}

/** Service tag for the key actor registry. */
export class KeyActors extends Context.Service<KeyActors, KeyActorsShape>()("dzx/KeyActors") {}

const sameRate = (a: Rate, b: Rate) =>
  a.burst === b.burst && a.burstWindowSec === b.burstWindowSec && a.perMinute === b.perMinute && a.perHour === b.perHour;

/** Builds the registry over `store`; `now` is injectable so tests control idleness. */
export function makeKeyActors(store: RateStoreShape<never>, now: () => number = Date.now): Effect.Effect<KeyActorsShape> {
  return Effect.sync(() => {
    const actors = new Map<string, KeyActor>();

    const spawn = (keyId: string) =>
      Effect.gen(function* () {
        const queue = yield* Queue.unbounded<KeyMessage>();
        const loop = Effect.gen(function* () {
          const batch = yield* Queue.takeAll(queue);
          // one store step per run of equal rates (a rate differs only when the key was just changed)
          for (let i = 0; i < batch.length; ) {
            let j = i + 1;
            while (j < batch.length && sameRate(batch[j].rate, batch[i].rate)) j++;
            const admissions = yield* store.admit(keyId, batch[i].rate, j - i);
            for (let k = i; k < j; k++) yield* Deferred.succeed(batch[k].reply, admissions[k - i]);
            i = j;
          }
        });
        const fiber = yield* Effect.forkDetach(Effect.forever(loop));
        const actor: KeyActor = { queue, fiber, lastUsed: now() };
        actors.set(keyId, actor);
        return actor;
      });

    return {
      admit: (keyId, rate) =>
        Effect.gen(function* () {
          const actor = actors.get(keyId) ?? (yield* spawn(keyId));
          actor.lastUsed = now();
          const reply = yield* Deferred.make<Admission>();
          yield* Queue.offer(actor.queue, { _tag: "Admit", rate, reply });
          return yield* Deferred.await(reply);
        }),
      evictIdle: Effect.gen(function* () {
        for (const [keyId, actor] of actors) {
          if (actor.lastUsed <= now() - IDLE_MS) {
            actors.delete(keyId);
            yield* Fiber.interrupt(actor.fiber);
          }
        }
        yield* store.prune;
      }),
      get size() {
        return actors.size;
      },
    };
  });
}

/** Layer over the process's RateStore, with a periodic idle sweep. */
export const KeyActorsLive = Layer.effect(
  KeyActors,
  Effect.gen(function* () {
    const registry = yield* makeKeyActors(yield* RateStore);
    yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep("10 minutes"), registry.evictIdle)));
    return registry;
  }),
);
