/**
 * Unknown arguments (issue 15.9): every management operation, on MCP and REST (body and query),
 * refuses a top-level argument it does not declare with VALIDATION_ERROR naming it and listing
 * the ones it takes, and writes nothing; a missing wrapper is named with the shape it expects;
 * the SDK client's own `_meta` beside `arguments` is not refused.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Operation } from "../../src/management/operation.ts";
import { operations } from "../../src/management/table.ts";
import { managementClient, op, opError, rest, rpc } from "../support/client.ts";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

let dzx: Dzx;
let key: TestKey;
let admin: Client;
/** Arguments each operation would accept, built on the fixture below. */
let valid: Record<string, Record<string, unknown>>;

const SOURCE = "export default async (input) => input";

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"] });
  dzx = s.dzx;
  key = s.keys.admin;
  admin = await managementClient(dzx.url, key.key);
  const tool = (await op(admin, "dwizi.tools.create", { tool: { name: "Echo", slug: "echo", source: SOURCE } })).tool;
  const resource = (await op(admin, "dwizi.resources.create", { resource: { uri: "resource://docs/a", name: "A", text: "a" } })).resource;
  const prompt = (await op(admin, "dwizi.prompts.create", { prompt: { name: "P", messages: [{ role: "user", content: "hi" }] } })).prompt;
  const partial = (await op(admin, "dwizi.partials.create", { partial: { name: "Preset", values: { x: 1 } } })).partial;
  const server = (await op(admin, "dwizi.mcp.create", { server: { name: "Srv", slug: "srv", toolIds: [tool.id] } })).server;
  const workspace = (await op(admin, "dwizi.workspaces.create", { workspace: { name: "Team" } })).workspace;
  const attachmentId = (await op(admin, "dwizi.mcp.tools.list", { server: server.id })).tools[0].id;
  const { keyId } = await op(admin, "dwizi.keys.create", { scopes: ["tools:read"] });
  await op(admin, "dwizi.secrets.set", { name: "API_KEY", value: "s3cret-value" });
  const conn = (await op(admin, "dwizi.connections.create", { connection: { name: "conn", integration: "slack", values: { API_KEY: "s3cret-value" } } })).connection;
  const byId = (id: string) => ({ id });
  valid = {
    "dwizi.org.get": {},
    "dwizi.tools.test": { id: tool.id, input: {} },
    "dwizi.mcp.rotate_token": byId(server.id),
    "dwizi.mcp.tools.list": { server: server.id },
    "dwizi.mcp.resources.list": { server: server.id },
    "dwizi.mcp.prompts.list": { server: server.id },
    "dwizi.mcp.execute_code": { server: server.id, code: "return 1" },
    "dwizi.mcp.declarations": { server: server.id, integrationOrAlias: "echo" },
    "dwizi.mcp.tools.add": { server: server.id, toolId: tool.id, alias: "again" },
    "dwizi.mcp.tools.update": { server: server.id, attachmentId, patch: { displayName: "Echo!" } },
    "dwizi.mcp.tools.remove": { server: server.id, attachmentId },
    "dwizi.mcp.tools.rotate_webhook_secret": { server: server.id, attachmentId },
    "dwizi.keys.list": {},
    "dwizi.keys.create": { scopes: ["tools:read"] },
    "dwizi.keys.revoke": { keyId },
    "dwizi.keys.rotate": { keyId },
    "dwizi.secrets.list": {},
    "dwizi.secrets.set": { name: "API_KEY", value: "another-value" },
    "dwizi.secrets.delete": { name: "API_KEY" },
    "dwizi.connections.list": {},
    "dwizi.connections.get": byId(conn.id),
    "dwizi.connections.create": { connection: { name: "conn-2", integration: "slack", values: { API_KEY: "another-value" } } },
    "dwizi.connections.update": { id: conn.id, patch: { name: "renamed" } },
    "dwizi.connections.delete": byId(conn.id),
    "dwizi.audit.list": {},
    "dwizi.calls.list": {},
    "dwizi.notifications.list": {},
    "dwizi.usage.get": {},
    "dwizi.usage.timeseries": {},
  };
  const assets = [
    ["tools", "tool", tool.id, { name: "Echo 2", source: SOURCE }],
    ["resources", "resource", resource.id, { uri: "resource://docs/b", name: "B", text: "b" }],
    ["prompts", "prompt", prompt.id, { name: "P2", messages: [{ role: "user", content: "yo" }] }],
    ["partials", "partial", partial.id, { name: "Preset 2", values: { y: 2 } }],
    ["mcp", "server", server.id, { name: "Srv 2" }],
    ["workspaces", "workspace", workspace.id, { name: "Team 2" }],
  ] as const;
  for (const [plural, singular, id, input] of assets) {
    valid[`dwizi.${plural}.list`] = {};
    valid[`dwizi.${plural}.get`] = byId(id);
    valid[`dwizi.${plural}.create`] = { [singular]: input };
    valid[`dwizi.${plural}.update`] = { id, patch: { name: "Renamed" } };
    valid[`dwizi.${plural}.delete`] = byId(id);
  }
}, 120_000);
afterAll(async () => {
  await admin?.close();
  await dzx?.dispose();
});

/** What the org holds, to show a refused call wrote nothing: every write is audited, and the lists carry updatedAt. */
async function holdings() {
  const lists = await Promise.all(
    ["dwizi.audit.list", "dwizi.tools.list", "dwizi.resources.list", "dwizi.prompts.list", "dwizi.partials.list", "dwizi.mcp.list", "dwizi.secrets.list", "dwizi.connections.list"].map((name) => op(admin, name)),
  );
  const keys = (await op(admin, "dwizi.keys.list")).keys.map((k: any) => ({ keyId: k.keyId, prefix: k.prefix, revokedAt: k.revokedAt }));
  return { lists, keys, attachments: await op(admin, "dwizi.mcp.tools.list", { server: "srv" }) };
}

/** A refusal names "bogus" and every argument the operation takes. */
function expectNamesBogus(error: { code: string; message: string }, o: Operation) {
  expect(error.code).toBe("VALIDATION_ERROR");
  expect(error.message).toContain(`"bogus"`);
  expect(error.message).toContain(o.name);
  const accepted = Object.keys((o.args as any).properties);
  if (accepted.length) expect(error.message).toContain(`it accepts: ${accepted.join(", ")}`);
  else expect(error.message).toContain("it takes no arguments");
}

/** The REST request for `args` as the operation's route takes them: path parameters, then the body argument or the rest as body (query on GET/DELETE). */
function restRequest(o: Operation, args: Record<string, unknown>) {
  const left = { ...args };
  const path = o.rest.path.replace(/:(\w+)/g, (_, param: string) => {
    const arg = o.rest.rename?.[param] ?? param;
    const value = left[arg];
    delete left[arg];
    return encodeURIComponent(String(value));
  });
  const hasBody = o.rest.method !== "GET" && o.rest.method !== "DELETE";
  if (!hasBody) return { path, body: undefined, query: left };
  if (!o.rest.body) return { path, body: left, query: {} };
  const { [o.rest.body]: body, ...query } = left;
  return { path, body, query };
}

const withQuery = (path: string, query: Record<string, unknown>) => (Object.keys(query).length ? `${path}?${new URLSearchParams(query as Record<string, string>)}` : path);

test("the fixture has valid arguments for every operation of the table", () => {
  expect(Object.keys(valid).sort()).toEqual(operations.map((o) => o.name).sort());
});

describe("an extra argument is refused, naming it and the accepted ones, with nothing written", () => {
  for (const o of operations) {
    test(`${o.name} over MCP`, async () => {
      const before = await holdings();
      expectNamesBogus(await opError(admin, o.name, { ...valid[o.name], bogus: 1 }), o);
      expect(await holdings()).toEqual(before);
    });

    test(`${o.name} over REST (${o.rest.method} ${o.rest.path}), in the query${o.rest.method !== "GET" && o.rest.method !== "DELETE" && !o.rest.body ? " and in the body" : ""}`, async () => {
      const before = await holdings();
      const { path, body, query } = restRequest(o, valid[o.name]!);
      const asQuery = await rest(dzx.url, key.key, o.rest.method, withQuery(path, { ...query, bogus: "1" }), body);
      expect(asQuery.status).toBe(400);
      expectNamesBogus(asQuery.json.error, o);
      if (body !== undefined && !o.rest.body) {
        const inBody = await rest(dzx.url, key.key, o.rest.method, withQuery(path, query), { ...(body as object), bogus: 1 });
        expect(inBody.status).toBe(400);
        expectNamesBogus(inBody.json.error, o);
      }
      expect(await holdings()).toEqual(before);
    });
  }
});

describe("dwizi.usage.timeseries", () => {
  test('{window: "30d"} is refused and names "range", the argument that sets the window', async () => {
    const e = await opError(admin, "dwizi.usage.timeseries", { window: "30d" });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toBe(`Unknown argument "window" for dwizi.usage.timeseries; it accepts: range, server`);
    const r = await rest(dzx.url, key.key, "GET", "/usage/timeseries?window=30d");
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe(e.message);
  });

  test('{range: "30d"} answers 30 days', async () => {
    const out = await op(admin, "dwizi.usage.timeseries", { range: "30d" });
    expect(out.range).toBe("30d");
    expect(out.buckets.length).toBeGreaterThanOrEqual(30);
  });
});

describe("a missing wrapper names the property and the shape it expects", () => {
  test("dwizi.tools.create with the tool's fields at the top level", async () => {
    const before = await holdings();
    const e = await opError(admin, "dwizi.tools.create", { name: "Loose", source: SOURCE });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toStartWith(`dwizi.tools.create needs "tool": {name, slug?, description?, language?, source, `);
    expect(e.message).toEndWith(`; "name", "source" belong inside "tool"`);
    expect(e.message).not.toContain("Expected required property");
    expect(await holdings()).toEqual(before);
  });

  test("dwizi.mcp.create with no arguments at all", async () => {
    const e = await opError(admin, "dwizi.mcp.create", {});
    expect(e.message).toStartWith(`dwizi.mcp.create needs "server": {name, slug?, `);
  });

  test("dwizi.keys.create without scopes shows an array of strings", async () => {
    const e = await opError(admin, "dwizi.keys.create", { name: "ci" });
    expect(e.message).toBe(`dwizi.keys.create needs "scopes": [string]`);
  });
});

describe("what the client adds beside the arguments is not an argument", () => {
  test("the SDK client's _meta (progressToken, custom keys) passes", async () => {
    const r = await admin.callTool({ name: "dwizi.usage.get", arguments: { range: "7d" }, _meta: { progressToken: "p1", "example.com/trace": "t" } });
    expect(r.isError).toBeFalsy();
    let progressed = false;
    const withProgress = await admin.callTool({ name: "dwizi.usage.get", arguments: {} }, undefined, { onprogress: () => (progressed = true) });
    expect(withProgress.isError).toBeFalsy();
    expect(progressed).toBe(false); // nothing reports progress here; the option only adds _meta.progressToken
  });

  test("raw JSON-RPC params._meta beside arguments passes", async () => {
    const r = await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "dwizi.org.get", arguments: {}, _meta: { progressToken: 7 } } });
    expect(r.json.result.isError).toBeFalsy();
    expect(r.json.result.structuredContent.org.name).toBe("acme");
  });

  test("tools/list publishes closed argument objects", async () => {
    const { tools } = await admin.listTools();
    for (const t of tools) expect(t.inputSchema.additionalProperties).toBe(false);
  });
});
