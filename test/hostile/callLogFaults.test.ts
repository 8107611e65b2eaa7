/**
 * One bad record never costs another (issue 13): a call-log batch the database
 * refuses is written row by row; a row that still fails is kept in a reduced form
 * (a note in place of its values); one that cannot be kept even so is counted.
 * The faults are real: constraints added to the calls table of a real database
 * refuse chosen rows, on PGlite and on PostgreSQL.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { sql } from "drizzle-orm";
import { openDatabase } from "../../src/database/index.ts";
import { managementClient, op } from "../support/client.ts";
import { freshDatabase } from "../support/database.ts";
import { cliKey, startDzx, type Dzx } from "../support/dzx.ts";
import { createServer, post, rawSession, type HostedServer } from "../hosted/support.ts";

setDefaultTimeout(60_000);

let dzx: Dzx;
let admin: Client;
let server: HostedServer;

beforeAll(async () => {
  const db = await freshDatabase();
  const key = await cliKey(db, "acme");
  // the faults: any row whose output mentions "poison" is refused, and so is every row of the tool "doomed"
  const database = await openDatabase({ databaseUrl: db.env.DATABASE_URL, dataDir: db.dataDir });
  await database.db.execute(sql.raw(`alter table calls add constraint fault_output check (coalesce(output::text, '') not like '%poison%')`));
  await database.db.execute(sql.raw(`alter table calls add constraint fault_tool check (tool_name <> 'doomed')`));
  await database.close();
  dzx = await startDzx({ db });
  admin = await managementClient(dzx.url, key.key);
  const echo = "export default async (input) => input";
  const schema = { type: "object", properties: { text: { type: "string" } }, required: ["text"] };
  await op(admin, "dwizi.tools.create", { tool: { name: "echo", inputSchema: schema, source: echo } });
  await op(admin, "dwizi.tools.create", { tool: { name: "doomed", inputSchema: schema, source: echo } });
  server = await createServer(admin, { name: "Faults", toolIds: ["echo", "doomed"] });
}, 60_000);
afterAll(async () => {
  await admin?.close();
  await dzx?.dispose();
});

const metric = (text: string, name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, "\\$&")} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);

test("a refused row costs no other row of its batch: it is kept reduced, or counted when even that fails", async () => {
  const sid = await rawSession(server.endpoint, server.token);
  const call = (id: number, name: string, text: string) =>
    post(server.endpoint, server.token, { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: { text } } }, { "mcp-session-id": sid });
  // one batch: the log flushes after a quiet second, and these all land well inside it
  const answers = await Promise.all([
    ...[1, 2, 3, 4, 5].map((i) => call(i, "echo", `fine-${i}`)),
    call(6, "echo", "poison"),
    call(7, "doomed", "lost"),
  ]);
  expect(answers.map((a) => a.json.result.isError ?? false)).toEqual([false, false, false, false, false, false, false]);

  const calls = (await op(admin, "dwizi.calls.list", { server: server.id, limit: 500 })).calls;
  const fine = calls.filter((c: any) => typeof c.input?.text === "string" && c.input.text.startsWith("fine-"));
  expect(fine.map((c: any) => c.output.text).sort()).toEqual(["fine-1", "fine-2", "fine-3", "fine-4", "fine-5"]);
  const reduced = calls.filter((c: any) => c.toolName === "echo" && typeof c.input === "string");
  expect(reduced).toHaveLength(1);
  expect(reduced[0]).toMatchObject({ status: "ok" });
  expect(reduced[0].input).toStartWith("[not logged: the record could not be written");
  expect(reduced[0].output).toStartWith("[not logged: the record could not be written");
  expect(calls.some((c: any) => c.toolName === "doomed")).toBe(false);

  const metrics = await (await fetch(`${dzx.url}/metrics`)).text();
  expect(metric(metrics, 'dzx_call_log_rows_total{outcome="written"}')).toBe(5);
  expect(metric(metrics, 'dzx_call_log_rows_total{outcome="reduced"}')).toBe(1);
  expect(metric(metrics, 'dzx_call_log_rows_total{outcome="dropped"}')).toBe(1);
  expect(metric(metrics, "dzx_call_log_batch_failures_total")).toBeGreaterThanOrEqual(1);
  // the loss is logged, not silent
  expect(dzx.output()).toContain("call log row could not be written");
});
