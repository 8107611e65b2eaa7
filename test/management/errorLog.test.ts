/**
 * Faults no answer can name are logged as structured JSON lines carrying the
 * request's id, the same id the response's X-Request-Id shows, so an operator
 * can find the log line behind a 500 a user reports. The answer itself names
 * no internals. The fault is made real: the database loses a table under a
 * running dzx (started in this process to reach its database and its log).
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { startServer, type Running } from "../../src/server.ts";
import { postTo, rpc, rest } from "../support/client.ts";
import { freshDatabase, type TestDatabase } from "../support/database.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const KEY = `dwz_live_${"e".repeat(32)}`;
const STACK = /\n\s+at\s|\bat \S+ \(|\.ts:\d+|node_modules/;
let db: TestDatabase;
let running: Running;
const lines: Record<string, any>[] = [];
let serverUrl = "";
let serverToken = "";

beforeAll(async () => {
  db = await freshDatabase();
  const config = loadConfig({ ...db.env, PORT: "0", DZX_HOST: "127.0.0.1", DZX_ADMIN_KEY: KEY, DZX_LOG_LEVEL: "info" });
  running = await startServer(config, createLogger("info", (line) => lines.push(JSON.parse(line))));
  const created = await rest(running.url, KEY, "POST", "/mcp/servers", { name: "Faults", slug: "faults" });
  expect(created.status).toBe(201);
  serverUrl = created.json.mcpEndpoint;
  serverToken = created.json.bearerToken;
  // the faults below: the tables these requests read are gone
  await running.services.database.db.execute(sql`alter table tools rename to tools_gone`);
  await running.services.database.db.execute(sql`alter table servers rename to servers_gone`);
}, 60_000);
afterAll(async () => {
  await running?.stop();
  await db?.drop();
});

/** The error line logged with this request id. */
const loggedFor = (requestId: string) => lines.filter((l) => l.level === "error" && l.requestId === requestId);

test("a REST operation that fails inside is a 500 without internals, logged with the request's id", async () => {
  const r = await rest(running.url, KEY, "GET", "/tools", undefined, { "x-request-id": "trace-rest-1" });
  expect(r.status).toBe(500);
  expect(r.json.error.code).toBe("INTERNAL");
  expect(r.text).not.toMatch(STACK);
  expect(r.headers.get("x-request-id")).toBe("trace-rest-1");
  const logged = loggedFor("trace-rest-1");
  expect(logged.map((l) => l.msg)).toEqual(["REST operation failed"]);
  expect(logged[0].operation).toBe("dwizi.tools.list");
  expect(logged[0].err.message).toContain("tools");
});

test("a management MCP operation that fails inside is logged with the id dzx gave the request", async () => {
  const r = await rpc(running.url, KEY, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "dwizi.tools.list", arguments: {} } });
  expect(r.status).toBe(200);
  expect(r.json.result.isError).toBe(true);
  expect(r.text).not.toMatch(STACK);
  const id = r.headers.get("x-request-id")!;
  expect(id).toBeTruthy();
  expect(loggedFor(id).map((l) => l.msg)).toEqual(["management operation failed"]);
});

test("a hosted request that fails before any MCP handling is logged with its id too", async () => {
  // this token was never used, so admitting it reads the servers table
  const r = await postTo(serverUrl, serverToken, { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } }, { "x-request-id": "trace-hosted-1" });
  expect(r.status).toBe(500);
  expect(r.text).not.toMatch(STACK);
  expect(r.headers.get("x-request-id")).toBe("trace-hosted-1");
  expect(loggedFor("trace-hosted-1").map((l) => l.msg)).toEqual(["unhandled request error"]);
});

test("a fault outside every handler is a JSON 500 without internals, never Bun's development page", async () => {
  // the request log's sink fails: the request's answer was made, then logging it throws past every handler
  const own = await freshDatabase();
  const config = loadConfig({ ...own.env, PORT: "0", DZX_HOST: "127.0.0.1", DZX_ADMIN_KEY: KEY, DZX_LOG_LEVEL: "debug" });
  const logged: Record<string, any>[] = [];
  const dzx = await startServer(
    config,
    createLogger("debug", (line) => {
      const rec = JSON.parse(line);
      if (rec.msg === "request") throw new Error("log sink broke at /secret/path/sink.ts:12");
      logged.push(rec);
    }),
  );
  try {
    const created = await rest(dzx.url, KEY, "POST", "/mcp/servers", { name: "Sink", slug: "sink" });
    for (const r of [created, await postTo(created.json?.mcpEndpoint ?? `${dzx.url}/mcp/srv_x`, "mcp_nope", { jsonrpc: "2.0", id: 1, method: "ping" })]) {
      expect(r.status).toBe(500);
      expect(r.headers.get("content-type")).toStartWith("application/json");
      expect(r.json).toEqual({ error: { code: "INTERNAL", message: "Internal error" } });
      expect(r.text).not.toMatch(STACK);
      expect(r.text).not.toContain("secret");
    }
    expect(logged.filter((l) => l.msg === "request failed outside every handler")).toHaveLength(2);
  } finally {
    await dzx.stop();
    await own.drop();
  }
});
