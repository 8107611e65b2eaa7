/**
 * The legacy HTTP+SSE transport on /mcp/dwizi (issue 14, point 8), as hosted
 * servers have it: GET /mcp/dwizi/sse opens a session whose `endpoint` event names
 * where to POST; the key is checked on every request; a session belongs to its key;
 * DZX_MANAGEMENT_MCP=off ships it dark with the rest of the management MCP.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { postTo } from "../support/client.ts";
import { startDzx, startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";
import { SseReader } from "../support/sseReader.ts";

setDefaultTimeout(60_000);

let dzx: Dzx;
let key: TestKey;
let other: TestKey;

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["legacy-org"], other: ["legacy-org"] });
  dzx = s.dzx;
  key = s.keys.admin;
  other = s.keys.other;
});
afterAll(async () => {
  await dzx?.dispose();
});

/** An SDK v1 client on /mcp/dwizi over the legacy transport. */
async function legacyManagementClient(baseUrl: string, apiKey: string): Promise<Client> {
  const headers = { Authorization: `Bearer ${apiKey}` };
  const transport = new SSEClientTransport(new URL(`${baseUrl}/mcp/dwizi/sse`), {
    requestInit: { headers },
    eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
  });
  const client = new Client({ name: "dzx-legacy-management", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

/** Opens GET /mcp/dwizi/sse raw; returns the stream and the messages URL its endpoint event names. */
async function openLegacy(apiKey: string) {
  const res = await fetch(`${dzx.url}/mcp/dwizi/sse`, { headers: { authorization: `Bearer ${apiKey}`, accept: "text/event-stream" } });
  expect(res.status).toBe(200);
  const stream = new SseReader(res.body);
  const endpoint = (await stream.until((b) => b.event === "endpoint")).at(-1)!.data!;
  return { res, stream, messages: new URL(endpoint, dzx.url).href };
}

describe("legacy HTTP+SSE on /mcp/dwizi", () => {
  test("the SDK v1 SSE client connects, lists the operations and calls one", async () => {
    const client = await legacyManagementClient(dzx.url, key.key);
    try {
      expect(client.getServerVersion()?.name).toBe("dwizi");
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain("dwizi.org.get");
      expect(names).toContain("dwizi.mcp.create");
      const org = await client.callTool({ name: "dwizi.org.get", arguments: {} });
      expect(org.isError).toBeFalsy();
      expect((org.structuredContent as any).org.id).toBe(key.orgId);
    } finally {
      await client.close();
    }
  });

  test("the endpoint event names /mcp/dwizi/messages with the session; answers come on the stream with the rate headers on each POST", async () => {
    const { res, stream, messages } = await openLegacy(key.key);
    expect(res.headers.get("ratelimit-limit")).toBeTruthy();
    expect(new URL(messages).pathname).toBe("/mcp/dwizi/messages");
    const posted = await postTo(messages, key.key, { jsonrpc: "2.0", id: 1, method: "ping" });
    expect(posted.status).toBe(202);
    expect(posted.headers.get("ratelimit-remaining")).toBeTruthy();
    expect((await stream.until((b) => b.json !== undefined)).at(-1)!.json).toEqual({ jsonrpc: "2.0", id: 1, result: {} });
    await stream.cancel();
  });

  test("no key is 401; a session belongs to the key that opened it; an unknown session is 404", async () => {
    const anonymous = await fetch(`${dzx.url}/mcp/dwizi/sse`, { headers: { accept: "text/event-stream" } });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as any).error.code).toBe(-32001);
    const { stream, messages } = await openLegacy(key.key);
    const stolen = await postTo(messages, other.key, { jsonrpc: "2.0", id: 1, method: "ping" });
    expect(stolen.status).toBe(404);
    expect(stolen.json.error.code).toBe(-32002);
    const unknown = await postTo(`${dzx.url}/mcp/dwizi/messages?sessionId=nope`, key.key, { jsonrpc: "2.0", id: 1, method: "ping" });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.message).toContain("open GET …/sse first");
    await stream.cancel();
  });

  test("closing the stream ends the session", async () => {
    const { stream, messages } = await openLegacy(key.key);
    await stream.cancel();
    let status = 0;
    // the server notices the closed stream on its next turn; poll the session's answer, not a fixed delay
    for (let i = 0; i < 1000 && status !== 404; i++) {
      status = (await postTo(messages, key.key, { jsonrpc: "2.0", method: "notifications/initialized" })).status;
      if (status !== 404) await Bun.sleep(10);
    }
    expect(status).toBe(404);
  });
});

describe("DZX_MANAGEMENT_MCP=off", () => {
  test("ships the legacy transport dark too", async () => {
    const dark = await startDzx({ env: { DZX_MANAGEMENT_MCP: "off" } });
    try {
      expect((await fetch(`${dark.url}/mcp/dwizi/sse`, { headers: { accept: "text/event-stream" } })).status).toBe(404);
      expect((await postTo(`${dark.url}/mcp/dwizi/messages?sessionId=x`, null, { jsonrpc: "2.0", id: 1, method: "ping" })).status).toBe(404);
    } finally {
      await dark.dispose();
    }
  });
});
