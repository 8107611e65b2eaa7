/**
 * One contract for every rate store (src/rateStore/): memory, PostgreSQL and
 * Redis must give the same admissions, remaining counts, resets and
 * Retry-After values. Scenarios run on a clock the test moves (each store takes
 * one in place of its own); then each store runs on its real clock (Redis TIME,
 * clock_timestamp()) under concurrency and with a 1 s window that must slide.
 * Real PostgreSQL and Redis, no mocks; PostgreSQL even on a PGlite run.
 * Known gap: the memory store is per process, so "two instances share one
 * window" is checked on the shared stores only.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Effect } from "effect";
import { openPostgres } from "../../src/database/postgres.ts";
import type { Database } from "../../src/database/index.ts";
import type { Rate } from "../../src/platform/limits.ts";
import { makeMemoryRateStore } from "../../src/rateStore/memory.ts";
import { makePostgresRateStore } from "../../src/rateStore/postgres.ts";
import type { RateStoreShape } from "../../src/rateStore/rateStore.ts";
import { makeRedisRateStore } from "../../src/rateStore/redis.ts";
import type { Admission } from "../../src/rateStore/rateWindow.ts";
import { freshDatabase, type TestDatabase } from "../support/database.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const REDIS_URL = "redis://127.0.0.1:6379";

let pgDb: TestDatabase;
const pools: Database[] = [];
const opened: RateStoreShape<unknown>[] = [];

beforeAll(async () => {
  pgDb = await freshDatabase({ postgres: true });
  // two pools on one database stand for two processes
  pools.push(await openPostgres(pgDb.env.DATABASE_URL), await openPostgres(pgDb.env.DATABASE_URL));
}, 60_000);
afterAll(async () => {
  for (const s of opened) await Effect.runPromise(s.close);
  for (const p of pools) await p.close();
  await pgDb?.drop();
});

interface Backend {
  name: string;
  /** Whether two instances (two processes) share windows. */
  shared: boolean;
  /** Instance `i` of the store, on `now` when given, else on the store's own clock. */
  open(i: number, now?: () => number): RateStoreShape<unknown>;
}

const backends: Backend[] = [
  { name: "memory", shared: false, open: (_i, now) => makeMemoryRateStore(now) },
  { name: "postgres", shared: true, open: (i, now) => makePostgresRateStore(pools[i].db, now) },
  { name: "redis", shared: true, open: (_i, now) => makeRedisRateStore(REDIS_URL, { now }) },
];

const rate = (r: Partial<Rate>): Rate => ({ burst: 100, burstWindowSec: 10, perMinute: 1000, perHour: 10_000, ...r });
const newKey = () => `key_${crypto.randomUUID()}`;
const refused = (retryAfterMs: number, limit: number, resetSec: number): Admission => ({ ok: false, limit, remaining: 0, resetSec, retryAfterMs });
const passed = (limit: number, remaining: number, resetSec: number): Admission => ({ ok: true, limit, remaining, resetSec, retryAfterMs: 0 });

for (const b of backends) {
  describe(`RateStore contract: ${b.name}`, () => {
    /** A store on a clock the test sets, and a helper admitting at a given time. */
    const onClock = () => {
      let t = 0;
      const store = b.open(0, () => t);
      opened.push(store);
      const key = newKey();
      return {
        store,
        at: async (time: number, r: Rate, count = 1, k = key) => {
          t = time;
          return Effect.runPromise(store.admit(k, r, count));
        },
      };
    };
    const T = 1_800_000_000_000;

    test("admits the burst counting down, then refuses for as long as the oldest entry needs to leave", async () => {
      const s = onClock();
      const r = rate({ burst: 3 });
      expect(await s.at(T, r)).toEqual([passed(3, 2, 10)]);
      expect(await s.at(T + 1000, r)).toEqual([passed(3, 1, 9)]);
      expect(await s.at(T + 2000, r)).toEqual([passed(3, 0, 8)]);
      expect(await s.at(T + 3000, r)).toEqual([refused(7000, 3, 7)]);
      expect(await s.at(T + 3500, r)).toEqual([refused(6500, 3, 7)]);
    });

    test("the window slides: each entry leaving makes room for exactly one more", async () => {
      const s = onClock();
      const r = rate({ burst: 3 });
      for (const dt of [0, 1000, 2000]) expect((await s.at(T + dt, r))[0].ok).toBe(true);
      expect(await s.at(T + 9999, r)).toEqual([refused(1, 3, 1)]);
      expect(await s.at(T + 10_000, r)).toEqual([passed(3, 0, 1)]);
      expect(await s.at(T + 10_000, r)).toEqual([refused(1000, 3, 1)]);
      expect(await s.at(T + 11_000, r)).toEqual([passed(3, 0, 1)]);
    });

    test("a batch is admitted in order: the first requests pass, the rest are refused", async () => {
      const s = onClock();
      expect(await s.at(T, rate({ burst: 3 }), 5)).toEqual([passed(3, 2, 10), passed(3, 1, 10), passed(3, 0, 10), refused(10_000, 3, 10), refused(10_000, 3, 10)]);
    });

    test("the tightest window is the one reported: per minute", async () => {
      const s = onClock();
      const r = rate({ perMinute: 2 });
      expect(await s.at(T, r)).toEqual([passed(2, 1, 60)]);
      expect(await s.at(T + 20_000, r)).toEqual([passed(2, 0, 40)]);
      expect(await s.at(T + 30_000, r)).toEqual([refused(30_000, 2, 30)]);
      expect(await s.at(T + 60_000, r)).toEqual([passed(2, 0, 20)]);
    });

    test("per hour", async () => {
      const s = onClock();
      const r = rate({ perHour: 2 });
      expect((await s.at(T, r))[0].ok).toBe(true);
      expect(await s.at(T + 120_000, r)).toEqual([passed(2, 0, 3480)]);
      expect(await s.at(T + 180_000, r)).toEqual([refused(3_420_000, 2, 3420)]);
    });

    test("keys are independent", async () => {
      const s = onClock();
      const other = newKey();
      expect((await s.at(T, rate({ burst: 2 }), 3)).map((a) => a.ok)).toEqual([true, true, false]);
      expect(await s.at(T, rate({ burst: 2 }), 1, other)).toEqual([passed(2, 1, 10)]);
    });

    test("a changed rate applies at once", async () => {
      const s = onClock();
      expect((await s.at(T, rate({ burst: 2 }), 3)).map((a) => a.ok)).toEqual([true, true, false]);
      expect(await s.at(T, rate({ burst: 4 }), 3)).toEqual([passed(4, 1, 10), passed(4, 0, 10), refused(10_000, 4, 10)]);
    });

    test("a clock stepping back does not reopen the window", async () => {
      const s = onClock();
      expect((await s.at(T, rate({ burst: 2 }), 2)).every((a) => a.ok)).toBe(true);
      expect(await s.at(T - 5000, rate({ burst: 2 }))).toEqual([refused(10_000, 2, 10)]);
    });

    test(`on its own clock, ${b.shared ? "two instances" : "one instance"} admit exactly the burst of 40 concurrent requests`, async () => {
      const stores = b.shared ? [b.open(0), b.open(1)] : [b.open(0)];
      opened.push(...stores);
      const key = newKey();
      const r = rate({ burst: 20, burstWindowSec: 600 }); // wide: a loaded machine must not see it slide
      // 10 single requests and 5 batches of 6, spread over the instances, all at once
      const calls = [...Array.from({ length: 10 }, () => 1), ...Array.from({ length: 5 }, () => 6)];
      const results = (await Promise.all(calls.map((n, i) => Effect.runPromise(stores[i % stores.length].admit(key, r, n))))).flat();
      expect(results.length).toBe(40);
      const ok = results.filter((a) => a.ok);
      expect(ok.length).toBe(20);
      expect(ok.map((a) => a.remaining).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      for (const a of results.filter((a) => !a.ok)) {
        expect(a.remaining).toBe(0);
        expect(a.retryAfterMs).toBeGreaterThan(0);
        expect(a.retryAfterMs).toBeLessThanOrEqual(600_000);
      }
    });

    test("on its own clock, a 1 s window slides once its Retry-After has passed", async () => {
      const store = b.open(0);
      opened.push(store);
      const key = newKey();
      const r = rate({ burst: 2, burstWindowSec: 1 });
      expect((await Effect.runPromise(store.admit(key, r, 3))).map((a) => a.ok)).toEqual([true, true, false]);
      // wait as long as the store says, then ask again: the answer must come, and no refusal may ask for more than the window
      let answer = (await Effect.runPromise(store.admit(key, r, 1)))[0];
      for (let tries = 0; !answer.ok && tries < 50; tries++) {
        expect(answer.retryAfterMs).toBeGreaterThan(0);
        expect(answer.retryAfterMs).toBeLessThanOrEqual(1000);
        await Bun.sleep(answer.retryAfterMs);
        answer = (await Effect.runPromise(store.admit(key, r, 1)))[0];
      }
      expect(answer.ok).toBe(true);
      expect(answer.limit).toBe(2);
    });

    test("prune leaves windows in use alone", async () => {
      const s = onClock();
      expect((await s.at(T, rate({ burst: 1 })))[0].ok).toBe(true);
      await Effect.runPromise(s.store.prune);
      expect((await s.at(T + 1, rate({ burst: 1 })))[0].ok).toBe(false);
    });
  });
}
