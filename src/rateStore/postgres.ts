/**
 * Rate windows in PostgreSQL, shared by every process on one database: one row
 * per key holding its sliding log. Each step locks the row, reads the database's
 * clock, runs RateWindow over the log and writes it back, in one transaction —
 * so admissions are exact across processes, and hosts with skewed clocks agree.
 */
import { eq, sql } from "drizzle-orm";
import { Effect } from "effect";
import { rateWindows } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { RateStoreError, type RateStoreShape } from "./rateStore.ts";
import { HORIZON_MS, RateWindow } from "./rateWindow.ts";

const DB_NOW = sql`clock_timestamp()`;
// clock_timestamp(), not now(): now() is the transaction's start, before the lock was granted
const DB_NOW_MS = sql<number>`floor(extract(epoch from clock_timestamp()) * 1000)::float8`;

/** A store of windows in the `rate_windows` table of `db`; `now` replaces the database's clock (tests). */
export function makePostgresRateStore(db: Db, now?: () => number): RateStoreShape {
  const fail = (cause: unknown) => new RateStoreError({ backend: "postgres", cause });
  return {
    backend: "postgres",
    admit: (keyId, rate, count) =>
      Effect.tryPromise({
        try: () =>
          db.transaction(async (tx) => {
            // The upsert creates the row or waits for its lock; RETURNING is computed once the
            // lock is held, so this clock reading is later than every entry already in the log.
            const [row] = await tx
              .insert(rateWindows)
              .values({ keyId })
              .onConflictDoUpdate({ target: rateWindows.keyId, set: { updatedAt: DB_NOW } })
              .returning({ log: rateWindows.log, now: DB_NOW_MS });
            const window = new RateWindow(row.log.map(Number));
            const at = now?.() ?? Number(row.now);
            const admissions = Array.from({ length: count }, () => window.admit(at, rate));
            const log = window.entries();
            // a refusal that expired nothing leaves the log as it was: no second write
            if (admissions.some((a) => a.ok) || log.length !== row.log.length) {
              await tx.update(rateWindows).set({ log: [...log] }).where(eq(rateWindows.keyId, keyId));
            }
            return admissions;
          }),
        catch: fail,
      }),
    prune: Effect.tryPromise({
      try: () => db.delete(rateWindows).where(sql`${rateWindows.updatedAt} < clock_timestamp() - make_interval(secs => ${HORIZON_MS / 1000})`),
      catch: fail,
    }).pipe(Effect.asVoid),
    close: Effect.void,
  };
}
