/**
 * JSON depth is bounded at the edge (issue 13, findings 1–3): a body nested past
 * DZX_MAX_JSON_DEPTH (64) is refused before any work, naming the limit, on hosted
 * servers, the management MCP and REST; what a tool returns and what a CODE-mode
 * script passes to tools.* are held to the same bound. The instance keeps serving
 * and the ordinary calls beside a hostile one are all logged.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { managementClient, op, rest, rpc } from "../support/client.ts";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";
import { createServer, post, rawSession, type HostedServer } from "../hosted/support.ts";

setDefaultTimeout(60_000);

let dzx: Dzx;
let key: TestKey;
let admin: Client;
let server: HostedServer;
let code: HostedServer;
let session: string;

/** JSON text of arrays nested `levels` deep around a string. */
const nested = (levels: number) => "[".repeat(levels) + '"x"' + "]".repeat(levels);
/** A tools/call body whose `extra` argument is nested `levels` deep (the body itself is levels + 3 deep). */
const deepCall = (id: number, levels: number) =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"deep","extra":${nested(levels)}}}}`;
const STACK = /\n\s+at\s|\.ts:\d+|node_modules/;

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"] }, { DZX_WORKERS: "2" });
  dzx = s.dzx;
  key = s.keys.admin;
  admin = await managementClient(dzx.url, key.key);
  await op(admin, "dwizi.tools.create", {
    tool: { name: "echo", inputSchema: { type: "object", properties: { text: { type: "string" }, extra: {} }, required: ["text"] }, source: "export default async (input) => input" },
  });
  await op(admin, "dwizi.tools.create", {
    tool: {
      name: "tower",
      inputSchema: { type: "object", properties: { levels: { type: "integer" } }, required: ["levels"] },
      source: "export default async ({ levels }) => { let v = 'top'; for (let i = 0; i < levels; i++) v = [v]; return { v }; }",
    },
  });
  server = await createServer(admin, { name: "Deep", toolIds: ["echo", "tower"] });
  code = await createServer(admin, { name: "DeepCode", mode: "CODE", toolIds: ["echo"] });
  session = await rawSession(server.endpoint, server.token);
}, 60_000);
afterAll(async () => {
  await admin?.close();
  await dzx?.dispose();
});

/** Every answer of a refused body: 400, a JSON-RPC -32600 naming the limit, no internals. */
function expectRefused(r: { status: number; json: any; text: string }) {
  expect(r.status).toBe(400);
  expect(r.json.jsonrpc).toBe("2.0");
  expect(r.json.error.code).toBe(-32600);
  expect(r.json.error.message).toContain("nested deeper than 64 levels");
  expect(r.text).not.toMatch(STACK);
}

describe("hosted servers", () => {
  test("a tools/call 20,000 levels deep is refused at the edge, and the instance keeps serving valid keys and calls", async () => {
    const r = await post(server.endpoint, server.token, deepCall(1, 20_000), { "mcp-session-id": session });
    expectRefused(r);
    expect((await op(admin, "dwizi.org.get")).org).toBeDefined();
    expect((await fetch(`${dzx.url}/ready`)).status).toBe(200);
    const ok = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "echo", arguments: { text: "after" } } }, { "mcp-session-id": session });
    expect(ok.json.result.structuredContent).toEqual({ text: "after" });
  });

  test("the bound is exact: a body 64 deep is served, 65 deep is refused", async () => {
    const within = await post(server.endpoint, server.token, deepCall(3, 61), { "mcp-session-id": session });
    expect(within.status).toBe(200);
    expect(within.json.result.isError).toBeUndefined();
    expectRefused(await post(server.endpoint, server.token, deepCall(4, 62), { "mcp-session-id": session }));
  });

  test("brackets inside strings are not nesting", async () => {
    const text = "[".repeat(5000) + "{".repeat(5000);
    const r = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "echo", arguments: { text } } }, { "mcp-session-id": session });
    expect(r.json.result.structuredContent).toEqual({ text });
  });

  test("the ordinary calls sent in the same second as a deep one are all in the call log", async () => {
    const marks = Array.from({ length: 5 }, (_, i) => `same-second-${i}-${Date.now()}`);
    const answers = await Promise.all([
      ...marks.map((text, i) => post(server.endpoint, server.token, { jsonrpc: "2.0", id: 10 + i, method: "tools/call", params: { name: "echo", arguments: { text } } }, { "mcp-session-id": session })),
      post(server.endpoint, server.token, deepCall(20, 20_000), { "mcp-session-id": session }),
    ]);
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expectRefused(answers[5]!);
    const logged = (await op(admin, "dwizi.calls.list", { server: server.id, limit: 500 })).calls.map((c: any) => c.input?.text);
    for (const m of marks) expect(logged).toContain(m);
  });

  test("a tool whose result nests past the limit fails with isError naming it, and the call is logged", async () => {
    const r = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 30, method: "tools/call", params: { name: "tower", arguments: { levels: 100 } } }, { "mcp-session-id": session });
    expect(r.json.result.isError).toBe(true);
    expect(r.json.result.content[0].text).toContain("nested deeper than 64 levels");
    const within = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 31, method: "tools/call", params: { name: "tower", arguments: { levels: 50 } } }, { "mcp-session-id": session });
    expect(within.json.result.isError).toBeUndefined();
    const calls = (await op(admin, "dwizi.calls.list", { server: server.id, limit: 500 })).calls.filter((c: any) => c.toolName === "tower");
    expect(calls.map((c: any) => c.status).sort()).toEqual(["error", "ok"]);
  });

  test("a CODE-mode script cannot pass tools.* an input past the limit", async () => {
    const sid = await rawSession(code.endpoint, code.token);
    const script = "let v = 'x'; for (let i = 0; i < 200; i++) v = [v]; return await tools.echo({ text: 'a', extra: v });";
    const r = await post(code.endpoint, code.token, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "execute", arguments: { code: script } } }, { "mcp-session-id": sid });
    expect(r.json.result.isError).toBe(true);
    expect(r.json.result.content[0].text).toContain("nested deeper than 64 levels");
  });
});

describe("management", () => {
  const deepValues = (levels: number) => `{"partial":{"name":"Deep","slug":"deep","values":{"a":${nested(levels)}}}}`;

  test("REST: a partial with values 30,000 deep is 400 VALIDATION_ERROR naming the limit, and nothing is written", async () => {
    const r = await rest(dzx.url, key.key, "POST", "/partials", deepValues(30_000));
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe("VALIDATION_ERROR");
    expect(r.json.error.message).toContain("nested deeper than 64 levels");
    expect(r.text).not.toMatch(STACK);
    expect((await op(admin, "dwizi.partials.list")).partials ?? []).toEqual([]);
  });

  test("MCP: dwizi.partials.create and dwizi.mcp.tools.update with deep values are refused naming the limit, nothing written", async () => {
    const create = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"dwizi.partials.create","arguments":${deepValues(30_000)}}}`;
    expectRefused(await rpc(dzx.url, key.key, null, { raw: create }));
    const attachments = (await op(admin, "dwizi.mcp.get", { id: server.id })).server.tools ?? [];
    const attachmentId = attachments[0]?.id ?? attachments[0]?.attachmentId ?? "any";
    const update = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"dwizi.mcp.tools.update","arguments":{"server":"${server.id}","attachmentId":"${attachmentId}","patch":{"inputDefaults":{"extra":${nested(30_000)}}}}}}`;
    expectRefused(await rpc(dzx.url, key.key, null, { raw: update }));
    expect((await op(admin, "dwizi.partials.list")).partials ?? []).toEqual([]);
    expect((await rest(dzx.url, key.key, "GET", "/partials")).status).toBe(200);
  });
});
