/**
 * Where a key's rate windows live (SPEC "Limits", "Scale-out"): one interface,
 * three backends in files of the same shape — memory.ts (one process), postgres.ts
 * and redis.ts (shared by every process) — held to one contract test suite.
 */
import { Context, Data, type Effect } from "effect";
import type { Rate } from "../platform/limits.ts";
import type { Admission } from "./rateWindow.ts";

/** The backends, as named in logs and metrics. */
export type RateBackend = "memory" | "postgres" | "redis";

/** A shared store could not answer (Redis down, a database error, a timeout). */
export class RateStoreError extends Data.TaggedError("RateStoreError")<{ backend: RateBackend; cause: unknown }> {}

/** A rate-window store; `E` is how its admissions may fail. */
export interface RateStoreShape<E = RateStoreError> {
  readonly backend: RateBackend;
  /**
   * Admits up to `count` requests of one key, in order, under `rate`, as one
   * atomic step: element i says whether request i passed. Batching lets a key's
   * actor hand the store everything queued while the previous step ran.
   */
  admit(keyId: string, rate: Rate, count: number): Effect.Effect<Admission[], E>;
  /** Forgets windows idle past the widest window. */
  readonly prune: Effect.Effect<void, E>;
  /** Releases connections. */
  readonly close: Effect.Effect<void>;
}

/**
 * Service tag for the process's store. It never fails: a shared store is
 * wrapped in the in-process fallback (fallback.ts).
 */
export class RateStore extends Context.Service<RateStore, RateStoreShape<never>>()("dzx/RateStore") {}
