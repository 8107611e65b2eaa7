/**
 * One Effect actor per API key, owning that key's rate windows. Messages are
 * data; each actor drains its queue in a fiber, so admissions are exact under
 * any concurrency. Idle actors are evicted.
 */
import { Context, Deferred, Effect, Fiber, Layer, Queue } from "effect";
import type { Rate } from "../platform/limits.ts";
import { RateWindow, type Admission } from "./rateWindow.ts";

/** The messages a key actor understands. */
type KeyMessage = { _tag: "Admit"; rate: Rate; reply: Deferred.Deferred<Admission> };

interface KeyActor {
  queue: Queue.Queue<KeyMessage>;
  fiber: Fiber.Fiber<never, unknown>;
  window: RateWindow;
}

/** The registry of key actors. */
export interface KeyActorsShape {
  /** Asks the key's actor to admit one request under `rate`. */
  admit(keyId: string, rate: Rate): Effect.Effect<Admission>;
  /** Stops actors idle for longer than their widest window. */
  evictIdle: Effect.Effect<void>;
  readonly size: number;
}

/** Service tag for the key actor registry. */
export class KeyActors extends Context.Service<KeyActors, KeyActorsShape>()("dzx/KeyActors") {}

/** Builds the registry; `now` is injectable so tests control time. */
export function makeKeyActors(now: () => number = Date.now): Effect.Effect<KeyActorsShape> {
  return Effect.sync(() => {
    const actors = new Map<string, KeyActor>();

    const spawn = (keyId: string) =>
      Effect.gen(function* () {
        const queue = yield* Queue.unbounded<KeyMessage>();
        const window = new RateWindow();
        const loop = Effect.gen(function* () {
          const msg = yield* Queue.take(queue);
          yield* Deferred.succeed(msg.reply, window.admit(now(), msg.rate));
        });
        const fiber = yield* Effect.forkDetach(Effect.forever(loop));
        const actor: KeyActor = { queue, fiber, window };
        actors.set(keyId, actor);
        return actor;
      });

    return {
      admit: (keyId, rate) =>
        Effect.gen(function* () {
          const actor = actors.get(keyId) ?? (yield* spawn(keyId));
          const reply = yield* Deferred.make<Admission>();
          yield* Queue.offer(actor.queue, { _tag: "Admit", rate, reply });
          return yield* Deferred.await(reply);
        }),
      evictIdle: Effect.gen(function* () {
        for (const [keyId, actor] of actors) {
          if (actor.window.idle(now(), 3_600_000)) {
            actors.delete(keyId);
            yield* Fiber.interrupt(actor.fiber);
          }
        }
      }),
      get size() {
        return actors.size;
      },
    };
  });
}

/** Layer with a real clock and a periodic idle sweep. */
export const KeyActorsLive = Layer.effect(
  KeyActors,
  Effect.gen(function* () {
    const registry = yield* makeKeyActors();
    yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep("10 minutes"), registry.evictIdle)));
    return registry;
  }),
);
