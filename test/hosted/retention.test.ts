/**
 * Call-log retention: calls older than the org's retentionDays (default 30) are
 * pruned when dzx starts and on its hourly schedule; younger ones stay.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { calls } from "../../db/schema.ts";
import { openDatabase } from "../../src/database/index.ts";
import { managementClient, op } from "../support/client.ts";
import { runCli, startDzx, startWithKeys } from "../support/dzx.ts";

setDefaultTimeout(90_000);

const DAY = 86_400_000;

test("calls older than the org's retention window are pruned at start; the rest stay", async () => {
  const { dzx, keys } = await startWithKeys({ short: ["short-retention"], long: ["default-retention"] });
  try {
    await dzx.stop();
    expect((await runCli(dzx.db, ["orgs", "limits", "--org", "short-retention", "--set", '{"retentionDays":5}'])).code).toBe(0);
    // write aged call records as the log would have, straight into the stopped server's database
    const database = await openDatabase({ databaseUrl: dzx.db.env.DATABASE_URL, dataDir: dzx.db.dataDir });
    const row = (orgId: string, id: string, ageDays: number) => ({
      id,
      orgId,
      serverId: "srv",
      toolName: id,
      status: "ok" as const,
      durationMs: 1,
      at: new Date(Date.now() - ageDays * DAY),
    });
    await database.db.insert(calls).values([
      row(keys.short.orgId, "short-40d", 40),
      row(keys.short.orgId, "short-10d", 10),
      row(keys.short.orgId, "short-1d", 1),
      row(keys.long.orgId, "long-40d", 40),
      row(keys.long.orgId, "long-10d", 10),
    ]);
    await database.close();

    const again = await startDzx({ db: dzx.db });
    try {
      const names = async (key: string) => {
        const c = await managementClient(again.url, key);
        const list = (await op(c, "dwizi.calls.list", { limit: 500 })).calls.map((x: any) => x.toolName).sort();
        await c.close();
        return list;
      };
      expect(await names(keys.short.key)).toEqual(["short-1d"]);
      expect(await names(keys.long.key)).toEqual(["long-10d"]);
    } finally {
      await again.stop();
    }
  } finally {
    await dzx.dispose();
  }
});
