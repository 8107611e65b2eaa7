/**
 * Picks the process's rate store from the configuration: Redis when REDIS_URL is
 * set, else PostgreSQL when DATABASE_URL is (both behind the in-process fallback),
 * else in-process windows (embedded PGlite serves one process).
 */
import { Effect, Layer } from "effect";
import type { Config } from "../config.ts";
import type { Database } from "../database/index.ts";
import { withFallback, type FallbackOptions } from "./fallback.ts";
import { makeMemoryRateStore } from "./memory.ts";
import { makePostgresRateStore } from "./postgres.ts";
import { RateStore, type RateBackend, type RateStoreShape } from "./rateStore.ts";
import { makeRedisRateStore } from "./redis.ts";

export { RateStore, RateStoreError, type RateBackend, type RateStoreShape } from "./rateStore.ts";

/** Where the configuration puts the rate windows. */
export function rateBackendOf(config: Pick<Config, "redisUrl" | "databaseUrl">, database: Pick<Database, "driver">): RateBackend {
  if (config.redisUrl) return "redis";
  return config.databaseUrl && database.driver === "postgres" ? "postgres" : "memory";
}

/** The store the configuration asks for; a shared one falls back to in-process windows. */
export function openRateStore(config: Pick<Config, "redisUrl" | "databaseUrl">, database: Database, report: FallbackOptions): RateStoreShape<never> {
  const local = makeMemoryRateStore();
  const backend = rateBackendOf(config, database);
  if (backend === "redis") return withFallback(makeRedisRateStore(config.redisUrl!), local, report);
  if (backend === "postgres") return withFallback(makePostgresRateStore(database.db), local, report);
  return local;
}

/** Layer providing the configured store, closed with the runtime. */
export function rateStoreLayer(config: Pick<Config, "redisUrl" | "databaseUrl">, database: Database, report: FallbackOptions): Layer.Layer<RateStore> {
  return Layer.effect(
    RateStore,
    Effect.acquireRelease(
      Effect.sync(() => openRateStore(config, database, report)),
      (store) => store.close,
    ),
  );
}
