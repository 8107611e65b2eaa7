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

test("every character a value may hold comes back as it was logged, and so does the call's time", async () => {
  const tdb = await freshDatabase();
  try {
    const database = await openDatabase({ databaseUrl: tdb.env.DATABASE_URL, dataDir: tdb.dataDir });
    const errors: unknown[] = [];
    const log = new CallLog(database, { onError: (e) => errors.push(e), flushMs: 60_000 });
    // COPY's own separators and escapes, JSON's escapes, a NUL, astral and combining characters, a line separator
    const odd = "tab\there\nnew\rline \\ back\\slash \\N \\t \"quoted\" \u0000nul é 🙂 e\u0301 \u2028";
    const before = Date.now();
    log.record({
      orgId: "org_chars",
      serverId: "srv_chars",
      toolId: "tool_chars",
      toolName: "odd\ttool\\name",
      endUserId: "user\nwith newline",
      outputPolicy: "retain",
      status: "error",
      durationMs: 7,
      input: { odd, nested: [odd, { odd }] },
      output: { odd },
      error: `failed: ${odd}`,
      logs: [{ level: "log", message: odd }],
    });
    await log.flush();
    const after = Date.now();
    const [row] = await database.db.select().from(calls).where(eq(calls.orgId, "org_chars"));
    await database.close();
    expect(errors).toEqual([]);
    // the one exception: no driver stores U+0000 alike, so the log keeps U+FFFD in its place
    const kept = odd.replace("\u0000", "\uFFFD");
    expect(row!.toolName).toBe("odd\ttool\\name");
    expect(row!.endUserId).toBe("user\nwith newline");
    expect(row!.input).toEqual({ odd: kept, nested: [kept, { odd: kept }] });
    expect(row!.output).toEqual({ odd: kept });
    expect(row!.logs).toEqual([{ level: "log", message: kept }]);
    expect(row!.error).toBe(`failed: ${kept}`);
    expect(row!.at.getTime()).toBeGreaterThanOrEqual(before);
    expect(row!.at.getTime()).toBeLessThanOrEqual(after);
  } finally {
    await tdb.drop();
  }
});
