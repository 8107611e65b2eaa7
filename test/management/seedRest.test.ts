/**
 * Seed 001's REST shapes, verbatim (issue 17.3): the MCP server routes take the seed's bodies
 * and answer the seed's shapes field by field — Add Tool's `{integrationName, actionName,
 * integrationAlias, toolType, connectionId, …}` → 201 `{tool: {...}}`, Update and Remove Tool,
 * Get Server's `tools` — and every row of the seed's error tables answers its status and code.
 * dzx's own `{toolId|toolSlug, alias, …}` body keeps working on the same route.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { hostedClient } from "../hosted/support.ts";
import { managementClient, op, rest } from "../support/client.ts";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

/** Seed 001's Add Tool answer, in the seed's order. */
const SEED_TOOL_FIELDS = ["id", "mcpServerId", "integrationName", "integrationAlias", "actionName", "toolType", "connectionId", "displayName", "description", "inputDefaults", "sortOrder"];
const SEED_SERVER_FIELDS = ["id", "orgId", "name", "description", "mode", "endUserId", "createdBy", "createdAt", "updatedAt", "mcpEndpoint"];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let dzx: Dzx;
let keys: Record<"admin", TestKey>;
let admin: Client;
const ids: Record<string, string> = {};
const clients: Client[] = [];

const api = (method: string, path: string, body?: unknown) => rest(dzx.url, keys.admin.key, method, path, body);
/** A REST error answer: its status and code. */
const failure = (r: { status: number; json: any }) => [r.status, r.json?.error?.code];
/** Only the seed's fields of an answer's tool, for comparing field by field. */
const seedPart = (t: Record<string, unknown>) => Object.fromEntries(SEED_TOOL_FIELDS.map((k) => [k, t[k]]));

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"] });
  dzx = s.dzx;
  keys = s.keys;
  admin = await managementClient(dzx.url, keys.admin.key);
  const tool = (t: Record<string, unknown>) => op(admin, "dwizi.tools.create", { tool: { source: "export default async (input) => input", ...t } });
  const schema = { type: "object", properties: { channel: { type: "string" }, text: { type: "string" } } };
  ids.send = (await tool({ name: "Send channel message", slug: "send_channel_message", integration: "slack", inputSchema: schema })).tool.id;
  ids.list = (await tool({ name: "List channels", slug: "list_channels", integration: "slack" })).tool.id;
  ids.issue = (await tool({ name: "Create issue", slug: "create_issue", integration: "github" })).tool.id;
  ids.echo = (await tool({ name: "Echo", slug: "echo" })).tool.id;
  ids.connection = (await op(admin, "dwizi.connections.create", { connection: { name: "conn_bot", integration: "slack", values: { SLACK_TOKEN: "xoxb-0123456789" } } })).connection.id;
  ids.workspace = (await op(admin, "dwizi.workspaces.get", { slug: "default" })).workspace.id;
}, 120_000);
afterAll(async () => {
  for (const c of [admin, ...clients]) await c?.close().catch(() => {});
  await dzx?.dispose();
});

describe("servers: seed 001's bodies and answers", () => {
  test("Create MCP Server: 201 {server, bearerToken, mcpEndpoint} with the seed's server fields", async () => {
    const r = await api("POST", "/mcp/servers", { name: "Sales Tools", description: "CRM and email integrations", workspaceId: ids.workspace, mode: "TOOLS" });
    expect(r.status).toBe(201);
    expect(Object.keys(r.json.server)).toEqual(expect.arrayContaining(SEED_SERVER_FIELDS));
    const s = r.json.server;
    ids.server = s.id;
    ids.token = r.json.bearerToken;
    expect(s).toMatchObject({ name: "Sales Tools", description: "CRM and email integrations", mode: "TOOLS", endUserId: null, orgId: keys.admin.orgId, createdBy: keys.admin.keyId });
    expect([s.createdAt, s.updatedAt].every((t: string) => ISO.test(t))).toBe(true);
    expect(r.json.bearerToken).toMatch(/^mcp_/);
    expect(r.json.mcpEndpoint).toBe(`${dzx.url}/mcp/srv_${s.id}`);
    expect(s.mcpEndpoint).toBe(r.json.mcpEndpoint);
  });

  test("List MCP Servers: {servers, total}", async () => {
    const r = await api("GET", "/mcp/servers");
    expect(r.status).toBe(200);
    expect(r.json.total).toBe(1);
    expect(r.json.servers.map((s: any) => s.id)).toEqual([ids.server]);
    expect(Object.keys(r.json.servers[0])).toEqual(expect.arrayContaining(SEED_SERVER_FIELDS));
  });

  test("Update MCP Server: {server} with the changes; Regenerate Token: {bearerToken, mcpEndpoint}", async () => {
    const u = await api("PATCH", `/mcp/servers/${ids.server}`, { name: "Updated Name", mode: "CODE" });
    expect(u.status).toBe(200);
    expect(u.json.server).toMatchObject({ id: ids.server, name: "Updated Name", mode: "CODE" });
    expect(ISO.test(u.json.server.updatedAt)).toBe(true);
    await api("PATCH", `/mcp/servers/${ids.server}`, { mode: "TOOLS", endUserId: null });
    const t = await api("POST", `/mcp/servers/${ids.server}/regenerate-token`);
    expect(t.status).toBe(200);
    expect(t.json).toEqual({ bearerToken: expect.stringMatching(/^mcp_/), mcpEndpoint: `${dzx.url}/mcp/srv_${ids.server}` });
    ids.token = t.json.bearerToken;
  });

  test("error rows: 400 VALIDATION_ERROR missing name; 403 QUOTA_EXCEEDED at the server limit; 404 NOT_FOUND on get, update, delete, regenerate", async () => {
    expect(failure(await api("POST", "/mcp/servers", { description: "no name" }))).toEqual([400, "VALIDATION_ERROR"]);
    const extra: string[] = [];
    for (let i = 0; i < 2; i++) extra.push((await api("POST", "/mcp/servers", { name: `Filler ${i}` })).json.server.id);
    expect(failure(await api("POST", "/mcp/servers", { name: "One too many" }))).toEqual([403, "QUOTA_EXCEEDED"]);
    for (const id of extra) await api("DELETE", `/mcp/servers/${id}`);
    const missing = "zzzzzzzzzzzz";
    expect(failure(await api("GET", `/mcp/servers/${missing}`))).toEqual([404, "NOT_FOUND"]);
    expect(failure(await api("PATCH", `/mcp/servers/${missing}`, { name: "x" }))).toEqual([404, "NOT_FOUND"]);
    expect(failure(await api("DELETE", `/mcp/servers/${missing}`))).toEqual([404, "NOT_FOUND"]);
    expect(failure(await api("POST", `/mcp/servers/${missing}/regenerate-token`))).toEqual([404, "NOT_FOUND"]);
  });
});

describe("tools: seed 001's Add, Update and Remove Tool", () => {
  test("Add Tool with the seed's body answers 201 {tool} with exactly the seed's values", async () => {
    const body = { integrationName: "slack", actionName: "send_channel_message", integrationAlias: "slack_bot", connectionId: ids.connection };
    const r = await api("POST", `/mcp/servers/${ids.server}/tools`, body);
    expect(r.status).toBe(201);
    const t = r.json.tool;
    ids.bot = t.id;
    expect(t.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(seedPart(t)).toEqual({
      id: t.id,
      mcpServerId: ids.server,
      integrationName: "slack",
      integrationAlias: "slack_bot",
      actionName: "send_channel_message",
      toolType: "ACTION",
      connectionId: ids.connection,
      displayName: null,
      description: null,
      inputDefaults: null,
      sortOrder: 0,
    });
    expect(Object.keys(t).slice(0, SEED_TOOL_FIELDS.length)).toEqual(SEED_TOOL_FIELDS);
  });

  test("every optional field of the seed's body is taken: displayName, description, inputDefaults, partialIds, sortOrder, toolType", async () => {
    const partial = (await op(admin, "dwizi.partials.create", { partial: { name: "General", slug: "general", values: { channel: "C123" }, enforced: ["channel"] } })).partial.id;
    const body = {
      integrationName: "slack",
      actionName: "send_channel_message",
      integrationAlias: "slack_user",
      toolType: "ACTION",
      displayName: "Send as me",
      description: "Posts as the user",
      inputDefaults: { text: "Hello" },
      partialIds: [partial],
      sortOrder: 2,
    };
    const r = await api("POST", `/mcp/servers/${ids.server}/tools`, body);
    expect(r.status).toBe(201);
    ids.user = r.json.tool.id;
    expect(seedPart(r.json.tool)).toEqual({
      id: ids.user,
      mcpServerId: ids.server,
      integrationName: "slack",
      integrationAlias: "slack_user",
      actionName: "send_channel_message",
      toolType: "ACTION",
      connectionId: null,
      displayName: "Send as me",
      description: "Posts as the user",
      inputDefaults: { text: "Hello" },
      sortOrder: 2,
    });
    expect(r.json.tool.partialIds).toEqual([partial]);
  });

  test("integrationAlias defaults to integrationName (seed 002's {integrationName}__{actionName}); toolType TRIGGER is stored", async () => {
    const plain = await api("POST", `/mcp/servers/${ids.server}/tools`, { integrationName: "slack", actionName: "list_channels", sortOrder: 5 });
    expect(plain.status).toBe(201);
    expect(plain.json.tool).toMatchObject({ integrationAlias: "slack", actionName: "list_channels", toolType: "ACTION", sortOrder: 5 });
    expect(plain.json.tool.exposedName).toBe("slack__list_channels");
    const trigger = await api("POST", `/mcp/servers/${ids.server}/tools`, { integrationName: "github", actionName: "create_issue", toolType: "TRIGGER", sortOrder: 9 });
    expect(trigger.status).toBe(201);
    expect(trigger.json.tool).toMatchObject({ integrationName: "github", integrationAlias: "github", toolType: "TRIGGER" });
    ids.trigger = trigger.json.tool.id;
    expect((await op(admin, "dwizi.mcp.tools.list", { server: ids.server })).tools.find((t: any) => t.id === ids.trigger).toolType).toBe("TRIGGER");
  });

  test("the hosted server publishes the seed's names", async () => {
    const c = await hostedClient(`${dzx.url}/mcp/srv_${ids.server}`, ids.token);
    clients.push(c);
    const names = (await c.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["slack_bot__send_channel_message", "slack_user__send_channel_message", "slack__list_channels"]));
  });

  test("Get MCP Server includes tools in the seed's shape", async () => {
    const r = await api("GET", `/mcp/servers/${ids.server}`);
    expect(r.status).toBe(200);
    expect(r.json.server).toMatchObject({ id: ids.server, name: "Updated Name", mode: "TOOLS", endUserId: null });
    const bot = r.json.tools.find((t: any) => t.id === ids.bot);
    expect(seedPart(bot)).toEqual({
      id: ids.bot,
      mcpServerId: ids.server,
      integrationName: "slack",
      integrationAlias: "slack_bot",
      actionName: "send_channel_message",
      toolType: "ACTION",
      connectionId: ids.connection,
      displayName: null,
      description: null,
      inputDefaults: null,
      sortOrder: 0,
    });
    for (const t of r.json.tools) expect(Object.keys(t)).toEqual(expect.arrayContaining(SEED_TOOL_FIELDS));
  });

  test("Update Tool with the seed's body answers {tool} with the change; integrationAlias and connectionId are updatable", async () => {
    const r = await api("PATCH", `/mcp/servers/${ids.server}/tools/${ids.bot}`, { displayName: "Send Bot Message", sortOrder: 1 });
    expect(r.status).toBe(200);
    expect(r.json.tool).toMatchObject({ id: ids.bot, integrationAlias: "slack_bot", displayName: "Send Bot Message", sortOrder: 1 });
    const renamed = await api("PATCH", `/mcp/servers/${ids.server}/tools/${ids.user}`, { integrationAlias: "slack_me", connectionId: ids.connection, description: "Mine", inputDefaults: { text: "Yo" } });
    expect(renamed.status).toBe(200);
    expect(seedPart(renamed.json.tool)).toMatchObject({ integrationAlias: "slack_me", connectionId: ids.connection, description: "Mine", inputDefaults: { text: "Yo" } });
    expect(renamed.json.tool.exposedName).toBe("slack_me__send_channel_message");
  });

  test("Remove Tool answers {deleted: true, id}", async () => {
    const r = await api("DELETE", `/mcp/servers/${ids.server}/tools/${ids.trigger}`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ deleted: true, id: ids.trigger });
  });
});

describe("seed 001's error tables, row by row", () => {
  const add = (body: unknown, server = ids.server) => api("POST", `/mcp/servers/${server}/tools`, body);

  test("Add Tool 400 VALIDATION_ERROR: missing required fields or invalid alias format", async () => {
    expect(failure(await add({ integrationName: "slack" }))).toEqual([400, "VALIDATION_ERROR"]);
    const noAction = await add({ integrationName: "slack" });
    expect(noAction.json.error.message).toContain(`"actionName"`);
    expect(failure(await add({ actionName: "send_channel_message" }))).toEqual([400, "VALIDATION_ERROR"]);
    expect(failure(await add({}))).toEqual([400, "VALIDATION_ERROR"]);
    for (const integrationAlias of ["Slack", "1slack", "slack.bot", "slack__bot", `s${"a".repeat(64)}`]) {
      expect(failure(await add({ integrationName: "slack", actionName: "send_channel_message", integrationAlias }))).toEqual([400, "VALIDATION_ERROR"]);
    }
    expect(failure(await add({ integrationName: "slack", actionName: "send_channel_message", integrationAlias: "x", toolType: "WEBHOOK" }))).toEqual([400, "VALIDATION_ERROR"]);
    // one tool, named once
    expect(failure(await add({ toolSlug: "echo", integrationName: "slack", actionName: "send_channel_message" }))).toEqual([400, "VALIDATION_ERROR"]);
  });

  test("Add Tool 404 NOT_FOUND: the server (and an action no integration has)", async () => {
    expect(failure(await add({ integrationName: "slack", actionName: "send_channel_message" }, "zzzzzzzzzzzz"))).toEqual([404, "NOT_FOUND"]);
    expect(failure(await add({ integrationName: "slack", actionName: "create_issue" }))).toEqual([404, "NOT_FOUND"]);
  });

  test("Add Tool 409 DUPLICATE: the tool already exists on this server (under that alias)", async () => {
    const r = await add({ integrationName: "slack", actionName: "send_channel_message", integrationAlias: "slack_bot" });
    expect(failure(r)).toEqual([409, "DUPLICATE"]);
    expect(failure(await add({ integrationName: "slack", actionName: "list_channels" }))).toEqual([409, "DUPLICATE"]);
  });

  test("Add Tool 409 ALIAS_CONFLICT: the alias is already mapped to a different integration", async () => {
    const r = await add({ integrationName: "github", actionName: "create_issue", integrationAlias: "slack_bot" });
    expect(failure(r)).toEqual([409, "ALIAS_CONFLICT"]);
    expect(r.json.error.message).toStartWith("Alias is already mapped to a different integration");
  });

  test("Update Tool 400 VALIDATION_ERROR on invalid fields; 404 NOT_FOUND for the server or the tool", async () => {
    const path = `/mcp/servers/${ids.server}/tools/${ids.bot}`;
    for (const body of [{ sortOrder: "first" }, { integrationAlias: "Bad Alias" }, { displayName: 5 }, { inputDefaults: [] }, { bogus: true }]) {
      expect(failure(await api("PATCH", path, body))).toEqual([400, "VALIDATION_ERROR"]);
    }
    expect(failure(await api("PATCH", `/mcp/servers/zzzzzzzzzzzz/tools/${ids.bot}`, { sortOrder: 1 }))).toEqual([404, "NOT_FOUND"]);
    expect(failure(await api("PATCH", `/mcp/servers/${ids.server}/tools/${crypto.randomUUID()}`, { sortOrder: 1 }))).toEqual([404, "NOT_FOUND"]);
  });

  test("Remove Tool 404 NOT_FOUND for the server or the tool", async () => {
    expect(failure(await api("DELETE", `/mcp/servers/zzzzzzzzzzzz/tools/${ids.bot}`))).toEqual([404, "NOT_FOUND"]);
    expect(failure(await api("DELETE", `/mcp/servers/${ids.server}/tools/${crypto.randomUUID()}`))).toEqual([404, "NOT_FOUND"]);
    expect(failure(await api("DELETE", `/mcp/servers/${ids.server}/tools/${ids.trigger}`))).toEqual([404, "NOT_FOUND"]);
  });

  test("Delete MCP Server answers {deleted: true, id}", async () => {
    const extra = (await api("POST", "/mcp/servers", { name: "Doomed" })).json.server.id;
    const r = await api("DELETE", `/mcp/servers/${extra}`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ deleted: true, id: extra });
  });
});

describe("dzx's own body on the same route", () => {
  test("{toolSlug|toolId, alias, …} still attaches, answering {attachment} (also as {tool})", async () => {
    const r = await api("POST", `/mcp/servers/${ids.server}/tools`, { toolSlug: "echo", alias: "util", displayName: "Echo it", sortOrder: 7 });
    expect(r.status).toBe(201);
    expect(r.json.attachment).toMatchObject({ toolId: ids.echo, toolSlug: "echo", alias: "util", exposedName: "util__echo", displayName: "Echo it", sortOrder: 7 });
    expect(r.json.tool).toEqual(r.json.attachment);
    expect(r.json.attachment).toMatchObject({ integrationName: null, integrationAlias: "util", actionName: "echo", toolType: "ACTION", connectionId: null });
    const byId = await api("POST", `/mcp/servers/${ids.server}/tools`, { toolId: ids.echo });
    expect(byId.status).toBe(201);
    expect(byId.json.attachment).toMatchObject({ alias: null, integrationAlias: null, exposedName: "echo" });
    const patched = await api("PATCH", `/mcp/servers/${ids.server}/tools/${r.json.attachment.id}`, { alias: "tools", secretBindings: { A: "B" } });
    expect(patched.json.attachment).toMatchObject({ alias: "tools", integrationAlias: "tools", secretBindings: { A: "B" } });
    expect(failure(await api("PATCH", `/mcp/servers/${ids.server}/tools/${r.json.attachment.id}`, { alias: "a", integrationAlias: "b" }))).toEqual([400, "VALIDATION_ERROR"]);
    const viaMcp = await op(admin, "dwizi.mcp.tools.add", { server: ids.server, integrationName: "slack", actionName: "list_channels", integrationAlias: "slack_bot" });
    expect(viaMcp.tool).toMatchObject({ integrationAlias: "slack_bot", actionName: "list_channels", exposedName: "slack_bot__list_channels" });
  });
});
