/**
 * The sandbox budget's windows in every rate store (issue 17.4): N runs per minute,
 * refused with the wait until the oldest run leaves the minute, and — because an
 * hour of 60 minutes is already bounded by the minute window (rateWindow.ts
 * hourImplied) — a log that keeps one minute of runs, not an hour of them.
 * Real PostgreSQL and Redis on a clock the test moves; no mocks.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { RedisClient } from "bun";
import { eq } from "drizzle-orm";
import { Effect } from "effect";
import { rateWindows } from "../../db/schema.ts";
import type { Database } from "../../src/database/index.ts";
import { openPostgres } from "../../src/database/postgres.ts";
import { DEFAULT_RATE, sandboxRate, type Rate } from "../../src/platform/limits.ts";
import { makeMemoryRateStore } from "../../src/rateStore/memory.ts";
import { makePostgresRateStore } from "../../src/rateStore/postgres.ts";
import type { RateStoreShape } from "../../src/rateStore/rateStore.ts";
import { makeRedisRateStore } from "../../src/rateStore/redis.ts";
import { RateWindow } from "../../src/rateStore/rateWindow.ts";
import { freshDatabase, type TestDatabase } from "../support/database.ts";

setDefaultTimeout(60_000);

const REDIS_URL = "redis://127.0.0.1:6379";
const PREFIX = `dzx:test:sandbox:${crypto.randomUUID()}:`;
const BUDGET = sandboxRate({ sandbox: { runsPerMinute: 3 } })!;

let pgDb: TestDatabase;
let pool: Database;
let redis: RedisClient;
const opened: RateStoreShape<unknown>[] = [];

beforeAll(async () => {
  pgDb = await freshDatabase({ postgres: true });
  pool = await openPostgres(pgDb.env.DATABASE_URL);
  redis = new RedisClient(REDIS_URL);
});
afterAll(async () => {
  for (const s of opened) await Effect.runPromise(s.close);
  redis?.close();
  await pool?.close();
  await pgDb?.drop();
});

/** A store on the test's clock, and how many entries it keeps for a key. */
interface Backend {
  name: string;
  open(now: () => number): RateStoreShape<unknown>;
  kept(key: string): Promise<number>;
}
const backends: Backend[] = [
  { name: "postgres", open: (now) => makePostgresRateStore(pool.db, now), kept: async (key) => (await pool.db.select().from(rateWindows).where(eq(rateWindows.keyId, key)))[0].log.length },
  { name: "redis", open: (now) => makeRedisRateStore(REDIS_URL, { prefix: PREFIX, now }), kept: async (key) => Number(await redis.send("ZCARD", [`${PREFIX}{${key}}`])) },
];

describe("the sandbox budget's rate", () => {
  test("is N runs per minute with the hour implied by the minute", () => {
    expect(BUDGET).toEqual({ burst: 3, burstWindowSec: 60, perMinute: 3, perHour: 180 });
  });

  test("RateWindow (memory store) admits N a minute and keeps a minute of log; a key's hour window still keeps an hour", () => {
    const budget = new RateWindow();
    for (let i = 0; i < 3; i++) expect(budget.admit(1_000, BUDGET).ok).toBe(true);
    const refused = budget.admit(2_000, BUDGET);
    expect(refused.ok).toBe(false);
    expect(refused.retryAfterMs).toBe(59_000);
    expect(budget.admit(61_001, BUDGET).ok).toBe(true);
    expect(budget.entries()).toHaveLength(1);

    const key = new RateWindow();
    const rate: Rate = { ...DEFAULT_RATE, burst: 100 };
    for (let i = 0; i < 3; i++) key.admit(1_000, rate);
    key.admit(61_001, rate);
    expect(key.entries()).toHaveLength(4);
  });

  test("the memory store decides the same", async () => {
    let now = 1_000;
    const store = makeMemoryRateStore(() => now);
    const a = await Effect.runPromise(store.admit("sandbox:org_m", BUDGET, 4));
    expect(a.map((x) => x.ok)).toEqual([true, true, true, false]);
    now = 61_001;
    expect((await Effect.runPromise(store.admit("sandbox:org_m", BUDGET, 1)))[0].ok).toBe(true);
  });

  for (const b of backends) {
    test(`${b.name}: admits N a minute, refuses the next until a minute passes, and keeps a minute of log`, async () => {
      let now = 1_700_000_000_000;
      const store = b.open(() => now);
      opened.push(store);
      const key = `sandbox:org_${crypto.randomUUID()}`;
      const first = await Effect.runPromise(store.admit(key, BUDGET, 4));
      expect(first.map((x) => x.ok)).toEqual([true, true, true, false]);
      expect(first[3].retryAfterMs).toBe(60_000);
      now += 60_001;
      expect((await Effect.runPromise(store.admit(key, BUDGET, 1)))[0].ok).toBe(true);
      expect(await b.kept(key)).toBe(1);
    });
  }
});
