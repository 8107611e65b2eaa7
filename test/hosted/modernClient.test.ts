/**
 * The v2 SDK client (`@modelcontextprotocol/client` 2.x) on hosted servers: the
 * 2026-07-28 lane (server/discover, per-request envelope, no session,
 * subscriptions/listen for change notifications) in auto and pinned negotiation,
 * and its default 2025 handshake.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import type { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { op } from "../support/client.ts";
import { startWithClients, startWithKeys, type Dzx, type Stack } from "../support/dzx.ts";
import { createServer, eventually, post, type HostedServer } from "./support.ts";

setDefaultTimeout(60_000);

let stack: Stack<"admin">;
let dzx: Dzx;
let admin: V1Client;
let server: HostedServer;

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] });
  ({ dzx, clients: { admin } } = stack);
  await op(admin, "dwizi.tools.create", {
    tool: { name: "echo", inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] }, source: "export default async (i, c) => { c.progress(1, 1, 'done'); return { said: i.text }; }" },
  });
  await op(admin, "dwizi.tools.create", { tool: { name: "extra", source: "export default async () => 'extra'" } });
  await op(admin, "dwizi.resources.create", { resource: { uri: "resource://docs/welcome", name: "Welcome", text: "Hello" } });
  await op(admin, "dwizi.prompts.create", { prompt: { name: "greet", arguments: [{ name: "who", required: true }], messages: [{ role: "user", content: "Hi {{who}}" }] } });
  server = await createServer(admin, { name: "Modern", toolIds: ["echo"], resourceIds: ["welcome"], promptIds: ["greet"] });
}, 60_000);
afterAll(async () => {
  await stack?.dispose();
});

function v2(endpoint: string, token: string, options: Record<string, unknown> = {}) {
  const client = new Client({ name: "dzx-v2-test", version: "1.0.0" }, options as never);
  const transport = new StreamableHTTPClientTransport(new URL(endpoint), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  return { client, connect: () => client.connect(transport) };
}

async function flow(client: Client) {
  expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["echo"]);
  const progress: number[] = [];
  const r = await client.callTool({ name: "echo", arguments: { text: "hi" } }, { onprogress: (p: { progress: number }) => void progress.push(p.progress) } as never);
  expect(r.structuredContent).toEqual({ said: "hi" });
  expect(progress).toEqual([1]);
  expect((await client.readResource({ uri: "resource://docs/welcome" })).contents).toEqual([{ uri: "resource://docs/welcome", mimeType: "text/plain", text: "Hello" }]);
  expect((await client.getPrompt({ name: "greet", arguments: { who: "Ada" } })).messages).toEqual([{ role: "user", content: { type: "text", text: "Hi Ada" } }]);
}

describe("2026-07-28 lane", () => {
  test("auto negotiation lands on 2026-07-28: discover, then list, call, read and get without a session", async () => {
    const { client, connect } = v2(server.endpoint, server.token, { versionNegotiation: { mode: "auto" } });
    await connect();
    try {
      expect(client.getProtocolEra()).toBe("modern");
      expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
      expect(client.getServerVersion()).toMatchObject({ name: "dzx" });
      await flow(client);
    } finally {
      await client.close();
    }
  });

  test("subscriptions/listen delivers tools/list_changed when a tool is attached through /mcp/dwizi", async () => {
    const seen: string[][] = [];
    const { client, connect } = v2(server.endpoint, server.token, {
      versionNegotiation: { mode: { pin: "2026-07-28" } },
      listChanged: { tools: { onChanged: (_err: unknown, tools?: { name: string }[]) => void (tools && seen.push(tools.map((t) => t.name))) } },
    });
    await connect();
    try {
      const added = await op(admin, "dwizi.mcp.tools.add", { server: server.id, toolSlug: "extra" });
      await eventually(() => seen.some((names) => names.includes("extra")), 10_000, "list_changed on the listen stream");
      expect(seen.at(-1)).toEqual(["echo", "extra"]);
      await op(admin, "dwizi.mcp.tools.remove", { server: server.id, attachmentId: added.attachment.id });
      await eventually(() => seen.at(-1)?.join() === "echo", 10_000, "second list_changed");
    } finally {
      await client.close();
    }
  });

  test("a listen stream with resourceSubscriptions hears resources/updated", async () => {
    const { client, connect } = v2(server.endpoint, server.token, { versionNegotiation: { mode: "auto" } });
    await connect();
    const updated: string[] = [];
    client.setNotificationHandler("notifications/resources/updated" as never, ((n: { params: { uri: string } }) => void updated.push(n.params.uri)) as never);
    const sub = await client.listen({ resourceSubscriptions: ["resource://docs/welcome"] } as never);
    try {
      await op(admin, "dwizi.resources.update", { slug: "welcome", patch: { text: "Hello again" } });
      await eventually(() => updated.length > 0, 10_000, "resources/updated");
      expect(updated).toEqual(["resource://docs/welcome"]);
    } finally {
      await op(admin, "dwizi.resources.update", { slug: "welcome", patch: { text: "Hello" } });
      await sub.close();
      await client.close();
    }
  });

  test("raw: discover's shape, every result carries resultType, an unknown revision is -32022 naming the supported ones", async () => {
    const env = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} };
    const d = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: "d", method: "server/discover", params: { _meta: env } }, { "mcp-protocol-version": "2026-07-28" });
    expect(d.status).toBe(200);
    expect(d.headers.get("mcp-session-id")).toBeNull();
    expect(d.json.result).toMatchObject({ resultType: "complete", supportedVersions: expect.arrayContaining(["2026-07-28", "2025-11-25"]), capabilities: { tools: { listChanged: true } }, ttlMs: 0, _meta: { "io.modelcontextprotocol/serverInfo": { name: "dzx" } } });
    const list = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: env } });
    expect(list.json.result).toMatchObject({ resultType: "complete", ttlMs: 0, cacheScope: "private", tools: [{ name: "echo" }] });
    const bad = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 2, method: "tools/list", params: { _meta: { ...env, "io.modelcontextprotocol/protocolVersion": "2099-01-01" } } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: -32022, data: { supported: ["2026-07-28"], requested: "2099-01-01" } });
    const noCaps = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 3, method: "tools/list", params: { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } } });
    expect(noCaps.status).toBe(400);
    expect(noCaps.json.error.code).toBe(-32602);
    // routing headers must agree with the body (proxies route on them)
    const call = { jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "echo", arguments: { text: "x" }, _meta: env } };
    const wrongMethod = await post(server.endpoint, server.token, call, { "mcp-method": "tools/list" });
    expect(wrongMethod.status).toBe(400);
    expect(wrongMethod.json.error.code).toBe(-32020);
    const wrongName = await post(server.endpoint, server.token, call, { "mcp-method": "tools/call", "mcp-name": "other" });
    expect(wrongName.json.error).toMatchObject({ code: -32020, message: expect.stringContaining("Mcp-Name") });
    const encoded = await post(server.endpoint, server.token, call, { "mcp-method": "tools/call", "mcp-name": `=?base64?${Buffer.from("echo").toString("base64")}?=` });
    expect(encoded.json.result).toMatchObject({ resultType: "complete", structuredContent: { said: "x" } });
    // in a batch the headers speak for every request: the ones they misdescribe are refused, the rest run
    const batch = await post(server.endpoint, server.token, [call, { ...call, id: 6, method: "tools/list" }, { ...call, id: 7, params: { ...call.params, name: "other" } }], { "mcp-method": "tools/call", "mcp-name": "echo" });
    expect(batch.status).toBe(200);
    const byId = Object.fromEntries((batch.json as any[]).map((r) => [r.id, r]));
    expect(byId[5].result).toMatchObject({ structuredContent: { said: "x" } });
    expect(byId[6].error).toMatchObject({ code: -32020, message: expect.stringContaining("Mcp-Method") });
    expect(byId[7].error).toMatchObject({ code: -32020, message: expect.stringContaining("Mcp-Name") });
    // without routing headers a batch is checked only against its envelopes
    const plain = await post(server.endpoint, server.token, [call, { ...call, id: 8, method: "tools/list" }]);
    expect((plain.json as any[]).every((r) => "result" in r)).toBe(true);
    // the lane needs the server's token like any other
    expect((await post(server.endpoint, null, { jsonrpc: "2.0", id: 4, method: "tools/list", params: { _meta: env } })).status).toBe(401);
  });
});

describe("v2 client, 2025 handshake", () => {
  test("the default (legacy) negotiation initializes a session and works the same", async () => {
    const { client, connect } = v2(server.endpoint, server.token);
    await connect();
    try {
      expect(client.getProtocolEra()).not.toBe("modern");
      await flow(client);
    } finally {
      await client.close();
    }
  });
});

describe("v2 client on the management server", () => {
  test("auto negotiation lands on 2026-07-28 at /mcp/dwizi too, and operations run", async () => {
    const s = await startWithKeys({ admin: ["v2mgmt"] });
    const { client, connect } = v2(`${s.dzx.url}/mcp/dwizi`, s.keys.admin.key, { versionNegotiation: { mode: "auto" } });
    try {
      await connect();
      expect(client.getProtocolEra()).toBe("modern");
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("dwizi.tools.create");
      const r = await client.callTool({ name: "dwizi.org.get", arguments: {} });
      expect(r.isError).toBeFalsy();
      expect(r.structuredContent).toMatchObject({ org: { name: "v2mgmt" } });
    } finally {
      await client.close();
      await s.dzx.dispose();
    }
  });
});
