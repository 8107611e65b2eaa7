/**
 * The call log's batches: full batches written as they fill, the rest by a final
 * flush, every row stored (tab escaped for COPY on PGlite) once the database
 * closes cleanly.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { count, eq } from "drizzle-orm";
import { calls } from "../../db/schema.ts";
import { openDatabase } from "../../src/database/index.ts";
import { CallLog } from "../../src/platform/callLog.ts";
import { freshDatabase } from "../support/database.ts";

setDefaultTimeout(60_000);

test("full batches and the final flush store every record, and a reopened database has them all", async () => {
  const tdb = await freshDatabase();
  try {
    const open = () => openDatabase({ databaseUrl: tdb.env.DATABASE_URL, dataDir: tdb.dataDir });
    const errors: unknown[] = [];
    let database = await open();
    // batches of 50 and no quiet-timer flush: 130 records are two full batches and 30 left for the final flush
    const log = new CallLog(database, { onError: (e) => errors.push(e), flushMs: 60_000, batch: 50 });
    for (let i = 0; i < 130; i++) {
      log.record({
        orgId: "org_batch",
        serverId: "srv_batch",
        toolId: null,
        toolName: `t${i}`,
        endUserId: null,
        outputPolicy: "retain",
        status: "ok",
        durationMs: 1,
        input: { i },
        output: { tab: "a\tb", i },
        error: null,
        logs: [],
      });
    }
    await log.flush();
    await database.close();

    database = await open();
    const [row] = await database.db.select({ n: count() }).from(calls).where(eq(calls.orgId, "org_batch"));
    const last = await database.db.select().from(calls).where(eq(calls.toolName, "t99"));
    await database.close();
    expect(errors).toEqual([]);
    expect(row!.n).toBe(130);
    expect(last[0]!.output).toEqual({ tab: "a\tb", i: 99 });
  } finally {
    await tdb.drop();
  }
});
