/**
 * Seed 000's curl examples, sent as written (only host and key changed), in order.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { rpc } from "../support/client.ts";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

let dzx: Dzx;
let key: TestKey;
const ids: Record<string, string> = {};

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"] });
  dzx = s.dzx;
  key = s.keys.admin;
}, 60_000);
afterAll(() => dzx.dispose());

const send = (body: string) => rpc(dzx.url, key.key, undefined, { raw: body });

test("List Dwizi MCP tools", async () => {
  const r = await send('{"jsonrpc":"2.0","id":1,"method":"tools/list"}');
  expect(r.status).toBe(200);
  expect(r.json.id).toBe(1);
  const names = r.json.result.tools.map((t: any) => t.name);
  for (const n of [
    "dwizi.org.get",
    "dwizi.tools.list", "dwizi.tools.get", "dwizi.tools.create", "dwizi.tools.update", "dwizi.tools.delete",
    "dwizi.resources.list", "dwizi.resources.get", "dwizi.resources.create", "dwizi.resources.update", "dwizi.resources.delete",
    "dwizi.prompts.list", "dwizi.prompts.get", "dwizi.prompts.create", "dwizi.prompts.update", "dwizi.prompts.delete",
    "dwizi.mcp.list", "dwizi.mcp.get", "dwizi.mcp.create", "dwizi.mcp.update", "dwizi.mcp.delete",
    "dwizi.mcp.tools.list", "dwizi.mcp.resources.list", "dwizi.mcp.prompts.list",
    "dwizi.mcp.rotate_token", "dwizi.secrets.list", "dwizi.secrets.set", "dwizi.secrets.delete",
    "dwizi.keys.list", "dwizi.keys.create", "dwizi.keys.revoke", "dwizi.keys.rotate", "dwizi.audit.list",
  ]) expect(names).toContain(n);
  for (const t of r.json.result.tools) {
    expect(t.inputSchema.type).toBe("object");
    expect(t.description.length).toBeGreaterThan(10);
  }
});

test("Create a tool", async () => {
  const r = await send(
    `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"dwizi.tools.create","arguments":{"tool":{"name":"Send Email","slug":"send-email","language":"js","description":"Send email","outputPolicy":"retain","inputSchema":{"type":"object","required":["to","subject","body"],"properties":{"to":{"type":"string"},"subject":{"type":"string"},"body":{"type":"string"}}},"source":"export default async (input) => ({ ok: true })"}}}}`,
  );
  expect(r.status).toBe(200);
  const res = r.json.result;
  expect(res.isError).toBeFalsy();
  expect(res.structuredContent.tool).toMatchObject({ slug: "send-email", name: "Send Email", language: "js", outputPolicy: "retain" });
  expect(JSON.parse(res.content[0].text)).toEqual(res.structuredContent);
  ids.tool = res.structuredContent.tool.id;
});

test("Create a resource", async () => {
  const r = await send(
    '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"dwizi.resources.create","arguments":{"resource":{"uri":"resource://docs/welcome","name":"Welcome","mimeType":"text/plain","text":"Hello"}}}}',
  );
  expect(r.json.result.isError).toBeFalsy();
  expect(r.json.result.structuredContent.resource).toMatchObject({ uri: "resource://docs/welcome", name: "Welcome", text: "Hello" });
  ids.resource = r.json.result.structuredContent.resource.id;
});

test("Create a prompt", async () => {
  const r = await send(
    '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"dwizi.prompts.create","arguments":{"prompt":{"name":"triage-ticket","description":"Triage a support ticket","arguments":[{"name":"ticketBody","required":true}],"messages":[{"role":"system","content":"You are a helpful support agent."},{"role":"user","content":"{{ticketBody}}"}]}}}}',
  );
  expect(r.json.result.isError).toBeFalsy();
  expect(r.json.result.structuredContent.prompt).toMatchObject({ name: "triage-ticket", slug: "triage-ticket" });
  ids.prompt = r.json.result.structuredContent.prompt.id;
});

test("Create an MCP server (attach existing assets)", async () => {
  const r = await send(
    `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"dwizi.mcp.create","arguments":{"server":{"name":"Support Suite","slug":"support-suite","toolIds":["${ids.tool}"],"resourceIds":["${ids.resource}"],"promptIds":["${ids.prompt}"]}}}}`,
  );
  const out = r.json.result.structuredContent;
  expect(r.json.result.isError).toBeFalsy();
  expect(out.server.slug).toBe("support-suite");
  expect(out.bearerToken).toMatch(/^mcp_[A-Za-z0-9]{32,}$/);
  expect(out.mcpEndpoint).toBe(`${dzx.url}/mcp/srv_${out.server.id}`);
  expect(out.tools.map((t: any) => t.toolId)).toEqual([ids.tool]);
  expect(out.resources.map((x: any) => x.id)).toEqual([ids.resource]);
  expect(out.prompts.map((x: any) => x.id)).toEqual([ids.prompt]);
});

test("Update MCP server attachments", async () => {
  const second = await send(
    '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"dwizi.tools.create","arguments":{"tool":{"name":"Lookup","source":"export default async () => 1"}}}}',
  );
  const other = second.json.result.structuredContent.tool.id;
  const r = await send(
    `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"dwizi.mcp.update","arguments":{"slug":"support-suite","patch":{"toolIds":["${ids.tool}","${other}"],"resourceIds":["${ids.resource}"],"promptIds":["${ids.prompt}"]}}}}`,
  );
  expect(r.json.result.isError).toBeFalsy();
  expect(r.json.result.structuredContent.tools.map((t: any) => t.toolId)).toEqual([ids.tool, other]);
});

test("Soft delete a tool", async () => {
  const r = await send('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"dwizi.tools.delete","arguments":{"slug":"send-email"}}}');
  expect(r.json.result.structuredContent).toMatchObject({ deleted: true, id: ids.tool });
  const list = await send('{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"dwizi.tools.list","arguments":{}}}');
  expect(list.json.result.structuredContent.tools.map((t: any) => t.slug)).toEqual(["lookup"]);
  const server = await send('{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"dwizi.mcp.get","arguments":{"slug":"support-suite"}}}');
  expect(server.json.result.structuredContent.tools.map((t: any) => t.toolSlug)).toEqual(["lookup"]);
});
