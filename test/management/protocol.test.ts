/**
 * The MCP protocol surface of /mcp/dwizi: version negotiation, Mcp-Session-Id
 * sessions (with the official SDK client), sessionless calls, notifications,
 * dotted method names, SSE framing, and the DZX_MANAGEMENT_MCP feature flag.
 */
import type { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { managementClient, rawCall, rest, rpc } from "../support/client.ts";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

let dzx: Dzx;
let key: TestKey;
let other: TestKey;

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"], other: ["acme"] });
  dzx = s.dzx;
  key = s.keys.admin;
  other = s.keys.other;
}, 120_000);
afterAll(() => dzx?.dispose());

const initialize = (protocolVersion: unknown, headers: Record<string, string> = {}) =>
  rpc(
    dzx.url,
    key.key,
    { jsonrpc: "2.0", id: "init", method: "initialize", params: { protocolVersion, capabilities: {}, clientInfo: { name: "proto-test", version: "1.0.0" } } },
    { headers },
  );

/** Parses an SSE body into its frames. */
function sseFrames(text: string): { event?: string; data: any }[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n");
      const event = lines.find((l) => l.startsWith("event:"))?.slice(6).trim();
      const data = lines
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, ""))
        .join("\n");
      return { event, data: JSON.parse(data) };
    });
}

describe("protocol version negotiation", () => {
  const versions = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

  test("the SDK's supported versions include every version the spec names", () => {
    for (const v of versions) expect(SUPPORTED_PROTOCOL_VERSIONS).toContain(v);
    expect(LATEST_PROTOCOL_VERSION).toBe("2025-11-25");
  });

  for (const v of [...new Set([...versions, ...SUPPORTED_PROTOCOL_VERSIONS])]) {
    test(`initialize with ${v} is answered with ${v} and a session id`, async () => {
      const r = await initialize(v);
      expect(r.status).toBe(200);
      expect(r.json.id).toBe("init");
      expect(r.json.result.protocolVersion).toBe(v);
      expect(r.json.result.serverInfo.name).toBe("dwizi");
      expect(r.json.result.capabilities.tools).toBeDefined();
      expect(r.headers.get("mcp-session-id")).toMatch(/^[\x21-\x7e]{16,}$/);
    });
  }

  for (const v of ["1999-01-01", "2026-99-99", "latest"]) {
    test(`an unsupported requested version (${v}) is answered with the latest, 2025-11-25`, async () => {
      const r = await initialize(v);
      expect(r.status).toBe(200);
      expect(r.json.result.protocolVersion).toBe("2025-11-25");
      expect(r.headers.get("mcp-session-id")).toBeTruthy();
    });
  }

  test("each initialize opens a distinct session", async () => {
    const ids = await Promise.all([1, 2, 3].map(async () => (await initialize("2025-06-18")).headers.get("mcp-session-id")));
    expect(new Set(ids).size).toBe(3);
  });

  test("a supported MCP-Protocol-Version header is accepted; an unknown one is 400", async () => {
    const ok = await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 1, method: "ping" }, { headers: { "mcp-protocol-version": "2025-03-26" } });
    expect(ok.status).toBe(200);
    expect(ok.json.result).toEqual({});
    const bad = await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 1, method: "ping" }, { headers: { "mcp-protocol-version": "1999-01-01" } });
    expect(bad.status).toBe(400);
    expect(bad.json.jsonrpc).toBe("2.0");
    expect(bad.json.error.code).toBe(-32600);
    expect(bad.json.error.message).toContain("1999-01-01");
  });
});

describe("sessions", () => {
  test("SDK client: connect, list tools, call one, terminate; the old session id then answers 404", async () => {
    const client = await managementClient(dzx.url, key.key);
    const transport = client.transport as StreamableHTTPClientTransport;
    expect(client.getServerVersion()?.name).toBe("dwizi");
    expect(client.getServerCapabilities()?.tools).toBeDefined();
    expect(client.getInstructions()).toContain("dzx");
    const sessionId = transport.sessionId!;
    expect(sessionId).toBeTruthy();
    expect(transport.protocolVersion).toBe(LATEST_PROTOCOL_VERSION);

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("dwizi.tools.create");
    const org = await client.callTool({ name: "dwizi.org.get", arguments: {} });
    expect((org.structuredContent as any).org.name).toBe("acme");
    expect(await client.ping()).toEqual({});

    // the live session works for raw requests too
    const live = await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 7, method: "tools/list" }, { headers: { "mcp-session-id": sessionId } });
    expect(live.status).toBe(200);
    expect(live.json.result.tools.length).toBeGreaterThan(10);

    await transport.terminateSession();
    expect(transport.sessionId).toBeUndefined();
    await client.close();

    const gone = await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 8, method: "tools/list" }, { headers: { "mcp-session-id": sessionId } });
    expect(gone.status).toBe(404);
    expect(gone.json.jsonrpc).toBe("2.0");
    expect(gone.json.error.message).toMatch(/session/i);
    const again = await fetch(`${dzx.url}/mcp/dwizi`, { method: "DELETE", headers: { authorization: `Bearer ${key.key}`, "mcp-session-id": sessionId } });
    expect(again.status).toBe(404);
  });

  test("an unknown session id is 404, for requests and notifications alike", async () => {
    const headers = { "mcp-session-id": "no-such-session-0123456789" };
    const r = await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 1, method: "ping" }, { headers });
    expect(r.status).toBe(404);
    expect(typeof r.json.error.code).toBe("number");
    const n = await rpc(dzx.url, key.key, { jsonrpc: "2.0", method: "notifications/initialized" }, { headers });
    expect(n.status).toBe(404);
  });

  test("a session belongs to the key that opened it: another key gets 404", async () => {
    const sid = (await initialize("2025-06-18")).headers.get("mcp-session-id")!;
    const mine = await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 1, method: "ping" }, { headers: { "mcp-session-id": sid } });
    expect(mine.status).toBe(200);
    const theirs = await rpc(dzx.url, other.key, { jsonrpc: "2.0", id: 1, method: "ping" }, { headers: { "mcp-session-id": sid } });
    expect(theirs.status).toBe(404);
  });

  test("DELETE without Mcp-Session-Id is 400; with a live one 2xx", async () => {
    const noId = await fetch(`${dzx.url}/mcp/dwizi`, { method: "DELETE", headers: { authorization: `Bearer ${key.key}` } });
    expect(noId.status).toBe(400);
    const sid = (await initialize("2025-11-25")).headers.get("mcp-session-id")!;
    const del = await fetch(`${dzx.url}/mcp/dwizi`, { method: "DELETE", headers: { authorization: `Bearer ${key.key}`, "mcp-session-id": sid } });
    expect(del.status).toBeGreaterThanOrEqual(200);
    expect(del.status).toBeLessThan(300);
  });

  test("sessionless tools/call works, as seed 000's curl examples do", async () => {
    const r = await rawCall(dzx.url, key.key, "dwizi.org.get", {});
    expect(r.status).toBe(200);
    expect(r.json.result.structuredContent.org.name).toBe("acme");
    expect(r.headers.get("mcp-session-id")).toBeNull();
  });

  test("notifications are accepted with 202 and no body, with or without a session", async () => {
    const n = await rpc(dzx.url, key.key, { jsonrpc: "2.0", method: "notifications/initialized" });
    expect(n.status).toBe(202);
    expect(n.text).toBe("");
    const sid = (await initialize("2025-06-18")).headers.get("mcp-session-id")!;
    const withSession = await rpc(dzx.url, key.key, { jsonrpc: "2.0", method: "notifications/initialized" }, { headers: { "mcp-session-id": sid } });
    expect(withSession.status).toBe(202);
    const cancelled = await rpc(dzx.url, key.key, { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } });
    expect(cancelled.status).toBe(202);
    const batch = await rpc(dzx.url, key.key, [
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", method: "notifications.initialized" },
    ]);
    expect(batch.status).toBe(202);
    expect(batch.text).toBe("");
  });
});

describe("method names", () => {
  test("tools.list answers exactly like tools/list", async () => {
    const slash = await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    const dotted = await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 1, method: "tools.list" });
    expect(dotted.status).toBe(200);
    expect(dotted.json).toEqual(slash.json);
  });

  test("tools.call and logging.setLevel work dotted as well", async () => {
    const r = await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 2, method: "tools.call", params: { name: "dwizi.org.get", arguments: {} } });
    expect(r.json.result.structuredContent.org.name).toBe("acme");
    expect((await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 3, method: "ping" })).json.result).toEqual({});
    const lvl = await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 4, method: "logging.setLevel", params: { level: "debug" } });
    expect(lvl.json.result).toEqual({});
  });
});

describe("SSE framing", () => {
  const body = { jsonrpc: "2.0", id: 11, method: "tools/call", params: { name: "dwizi.org.get", arguments: {} } };

  test("Accept: text/event-stream gets one event: message frame with the same answer", async () => {
    const plain = await rpc(dzx.url, key.key, body);
    const res = await fetch(`${dzx.url}/mcp/dwizi`, {
      method: "POST",
      headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    const text = await res.text();
    expect(text).toStartWith("event: message\ndata: ");
    const frames = sseFrames(text);
    expect(frames.length).toBe(1);
    expect(frames[0].event).toBe("message");
    expect(frames[0].data.id).toBe(11);
    expect(frames[0].data.result.structuredContent.org).toEqual(plain.json.result.structuredContent.org);
  });

  test("?stream=1 gets SSE even with Accept: application/json", async () => {
    const r = await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 12, method: "tools/list" }, { query: "?stream=1", headers: { accept: "application/json" } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toStartWith("text/event-stream");
    const frames = sseFrames(r.text);
    expect(frames.length).toBe(1);
    expect(frames[0].event).toBe("message");
    expect(frames[0].data.id).toBe(12);
    expect(frames[0].data.result.tools.length).toBeGreaterThan(10);
  });

  test("Accept naming both JSON and SSE (what the SDK sends) gets plain JSON", async () => {
    const r = await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 13, method: "ping" }, { headers: { accept: "application/json, text/event-stream" } });
    expect(r.headers.get("content-type")).toStartWith("application/json");
    expect(r.json).toEqual({ jsonrpc: "2.0", id: 13, result: {} });
  });

  test("initialize over SSE still issues Mcp-Session-Id; errors are framed too", async () => {
    const init = await initialize("2025-03-26", { accept: "text/event-stream" });
    expect(init.headers.get("mcp-session-id")).toBeTruthy();
    expect(sseFrames(init.text)[0].data.result.protocolVersion).toBe("2025-03-26");
    const err = await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 14, method: "no/such" }, { query: "?stream=1" });
    expect(sseFrames(err.text)[0].data).toMatchObject({ id: 14, error: { code: -32601 } });
  });

  test("a batch over SSE gets one frame per response", async () => {
    const r = await rpc(
      dzx.url,
      key.key,
      [
        { jsonrpc: "2.0", id: "a", method: "ping" },
        { jsonrpc: "2.0", method: "notifications/initialized" },
        { jsonrpc: "2.0", id: "b", method: "tools/list" },
      ],
      { query: "?stream=1" },
    );
    const frames = sseFrames(r.text);
    expect(frames.map((f) => f.data.id)).toEqual(["a", "b"]);
    expect(frames.every((f) => f.event === "message")).toBe(true);
  });
});

describe("DZX_MANAGEMENT_MCP=off", () => {
  let dark: Dzx;
  let darkKey: TestKey;
  beforeAll(async () => {
    const s = await startWithKeys({ admin: ["acme"] }, { DZX_MANAGEMENT_MCP: "off" });
    dark = s.dzx;
    darkKey = s.keys.admin;
  }, 120_000);
  afterAll(() => dark?.dispose());

  test("/mcp/dwizi answers 404 to POST, GET and DELETE", async () => {
    const post = await rpc(dark.url, darkKey.key, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(post.status).toBe(404);
    expect(post.text).not.toContain("dwizi.tools.create");
    const init = await rpc(dark.url, darkKey.key, { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } } });
    expect(init.status).toBe(404);
    expect(init.headers.get("mcp-session-id")).toBeNull();
    for (const method of ["GET", "DELETE"]) {
      const r = await fetch(`${dark.url}/mcp/dwizi`, { method, headers: { authorization: `Bearer ${darkKey.key}` } });
      expect(r.status).toBe(404);
    }
  });

  test("the SDK client cannot connect", async () => {
    await expect(managementClient(dark.url, darkKey.key)).rejects.toThrow();
  });

  test("REST keeps working", async () => {
    const org = await rest(dark.url, darkKey.key, "GET", "/org");
    expect(org.status).toBe(200);
    expect(org.json.org.name).toBe("acme");
    const made = await rest(dark.url, darkKey.key, "POST", "/tools", { name: "Dark", source: "export default async () => 1" });
    expect(made.status).toBe(201);
    expect(made.json.tool.slug).toBe("dark");
  });
});
