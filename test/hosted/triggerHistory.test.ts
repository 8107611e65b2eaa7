/**
 * A trigger's event history is bounded (issue 17.6): each kept event prunes its
 * trigger to the newest 1,000 and to the last 7 days, and the hourly retention
 * drops what is older for triggers that stopped receiving. Run on a real database
 * of the suite's driver (a thousand webhook deliveries would take minutes under
 * the per-trigger rate limit, so the rows are kept through the platform function
 * the webhook itself calls).
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { sql } from "drizzle-orm";
import { openDatabase, type Database } from "../../src/database/index.ts";
import { EVENT_HISTORY, keepEvent, pruneTriggerEvents, recentEvents } from "../../src/platform/trigger.ts";
import { freshDatabase, type TestDatabase } from "../support/database.ts";

setDefaultTimeout(120_000);

let testDb: TestDatabase;
let database: Database;
const DAY = 86_400_000;

beforeAll(async () => {
  testDb = await freshDatabase();
  database = await openDatabase({ databaseUrl: testDb.env.DATABASE_URL, dataDir: testDb.dataDir });
});
afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

/** The rows of a raw query: postgres.js answers an array, PGlite `{rows}`. */
async function rowsOf<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  const r = (await database.db.execute(query)) as unknown;
  return Array.isArray(r) ? (r as T[]) : (r as { rows: T[] }).rows;
}

const count = async (attachmentId: string) => (await rowsOf<{ n: number }>(sql`select count(*)::int as n from trigger_events where attachment_id = ${attachmentId}`))[0].n;

test("each kept event prunes its trigger to the newest 1,000 and the last 7 days; other triggers keep theirs", async () => {
  const now = Date.now();
  const base = { orgId: "org", serverId: "srv" };
  // one event 8 days old, then 1,010 recent ones a second apart, and one of another trigger
  await keepEvent(database.db, { ...base, id: "0-old", attachmentId: "t1", receivedAt: new Date(now - 8 * DAY), event: { n: -1 } });
  await keepEvent(database.db, { ...base, id: "other", attachmentId: "t2", receivedAt: new Date(now - 6 * DAY), event: { n: 0 } });
  for (let i = 0; i < EVENT_HISTORY.max + 10; i++) {
    const id = `1-${String(i).padStart(5, "0")}`;
    await keepEvent(database.db, { ...base, id, attachmentId: "t1", receivedAt: new Date(now - (EVENT_HISTORY.max + 10 - i) * 1000), event: { n: i } });
  }
  expect(await count("t1")).toBe(EVENT_HISTORY.max);
  const recent = await recentEvents(database.db, "t1");
  expect(recent).toHaveLength(100);
  expect(recent[0].event).toEqual({ n: EVENT_HISTORY.max + 9 });
  expect(recent[99].event).toEqual({ n: EVENT_HISTORY.max + 9 - 99 });
  // the oldest ten recent ones and the 8-day-old one are gone
  const [oldest] = await rowsOf<{ id: string }>(sql`select id from trigger_events where attachment_id = 't1' order by id limit 1`);
  expect(oldest.id).toBe("1-00010");
  expect(await count("t2")).toBe(1);
});

test("the hourly retention drops events past 7 days of a trigger that stopped receiving", async () => {
  await keepEvent(database.db, { orgId: "org", serverId: "srv", id: "quiet", attachmentId: "t3", receivedAt: new Date(Date.now() - DAY), event: {} });
  expect(await count("t3")).toBe(1);
  await pruneTriggerEvents(database.db, new Date(Date.now() + 7 * DAY));
  expect(await count("t3")).toBe(0);
  expect(await count("t2")).toBe(0);
});
