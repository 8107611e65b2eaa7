/**
 * Hosted-server protocol behaviour: tokens and rotation, sessions (404, re-initialize,
 * TTL), DNS-rebinding refusal, cancellation, progress on SSE, partials and defaults,
 * argument validation, secrets, the call log, and malformed messages.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { managementClient, op, opError, postTo, rpc } from "../support/client.ts";
import { startDzx, startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";
import { createServer, hostedClient, post, rawSession, type HostedServer } from "./support.ts";

setDefaultTimeout(60_000);

let dzx: Dzx;
let key: TestKey;
let otherKey: TestKey;
let admin: Client;
let server: HostedServer;

const echoSchema = { type: "object", properties: { text: { type: "string" }, region: { type: "string" }, limit: { type: "integer" } }, required: ["text", "region"], additionalProperties: false };

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"], other: ["globex"] }, { DZX_WORKERS: "1" });
  dzx = s.dzx;
  key = s.keys.admin;
  otherKey = s.keys.other;
  admin = await managementClient(dzx.url, key.key);
  await op(admin, "dwizi.tools.create", { tool: { name: "echo", inputSchema: echoSchema, source: "export default async (input) => input" } });
  await op(admin, "dwizi.tools.create", { tool: { name: "sleeper", source: "export default async () => { await new Promise((r) => setTimeout(r, 25000)); return 'woke'; }" } });
  await op(admin, "dwizi.tools.create", {
    tool: { name: "stepper", source: "export default async (i, context) => { context.progress(1, 2, 'half'); console.log('working'); context.progress(2, 2, 'done'); return 'finished'; }" },
  });
  await op(admin, "dwizi.tools.create", {
    tool: { name: "keyed", secrets: ["API_KEY"], outputPolicy: "obfuscate", source: "export default async (i, context) => ({ key: context.secrets.API_KEY, nested: { n: 1 } })" },
  });
  server = await createServer(admin, { name: "Proto", toolIds: ["echo", "sleeper", "stepper", "keyed"] });
}, 60_000);
afterAll(async () => {
  await admin?.close();
  await dzx?.dispose();
});

describe("tokens", () => {
  test("no token, a malformed header, another server's token and an API key are all 401", async () => {
    const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } };
    const other = await createServer(admin, { name: "Other" });
    for (const token of [null, "mcp_wrong", other.token, key.key]) {
      const r = await post(server.endpoint, token, init);
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe(-32001);
      expect(r.headers.get("www-authenticate")).toContain("Bearer");
    }
    await op(admin, "dwizi.mcp.delete", { id: other.id });
  });

  test("Authorization is read as RFC 6750 spells it: any case of Bearer, any spacing; other shapes are 401", async () => {
    const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } };
    const send = (authorization: string) => postTo(server.endpoint, null, init, { accept: "application/json, text/event-stream", authorization });
    for (const ok of [`Bearer ${server.token}`, `bearer ${server.token}`, `BEARER   ${server.token}`, `Bearer\t${server.token}  `]) {
      expect({ ok, status: (await send(ok)).status }).toEqual({ ok, status: 200 });
    }
    for (const bad of [`Bearer ${server.token} extra`, `Bearer ${server.token}x`, `Basic ${server.token}`, `Bearer`, `Bearer `, server.token]) {
      expect({ bad, status: (await send(bad)).status }).toEqual({ bad, status: 401 });
    }
  });

  test("rotation cuts off an open session at once, stream included; the new token works", async () => {
    const s = await createServer(admin, { name: "Rotating", toolIds: ["echo"] });
    const client = await hostedClient(s.endpoint, s.token);
    let closed = false;
    client.onclose = () => void (closed = true);
    expect((await client.listTools()).tools).toHaveLength(1);
    const sid = (client.transport as any).sessionId as string;
    const rotated = await op(admin, "dwizi.mcp.rotate_token", { id: s.id });
    expect(rotated.bearerToken).not.toBe(s.token);
    // the old token is refused on the very next request, and its session is gone
    const old = await post(s.endpoint, s.token, { jsonrpc: "2.0", id: 2, method: "tools/list" }, { "mcp-session-id": sid });
    expect(old.status).toBe(401);
    const sameSessionNewToken = await post(s.endpoint, rotated.bearerToken, { jsonrpc: "2.0", id: 3, method: "tools/list" }, { "mcp-session-id": sid });
    expect(sameSessionNewToken.status).toBe(404);
    await expect(client.listTools()).rejects.toThrow();
    await client.close();
    const fresh = await hostedClient(s.endpoint, rotated.bearerToken);
    expect((await fresh.listTools()).tools.map((t) => t.name)).toEqual(["echo"]);
    await fresh.close();
    await op(admin, "dwizi.mcp.delete", { id: s.id });
    // a deleted server's endpoint refuses its token
    expect((await post(s.endpoint, rotated.bearerToken, { jsonrpc: "2.0", id: 4, method: "ping" })).status).toBe(401);
  });
});

describe("sessions", () => {
  test("initialize issues Mcp-Session-Id; requests without it are 400, unknown ones 404, and re-initialize works", async () => {
    const sid = await rawSession(server.endpoint, server.token);
    expect(sid).toMatch(/^[0-9a-f]{32}$/);
    const ok = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 1, method: "ping" }, { "mcp-session-id": sid });
    expect(ok.json).toEqual({ jsonrpc: "2.0", id: 1, result: {} });
    const none = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 2, method: "ping" });
    expect(none.status).toBe(400);
    expect(none.json.error.message).toContain("Mcp-Session-Id");
    const unknown = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 3, method: "ping" }, { "mcp-session-id": "f".repeat(32) });
    expect(unknown.status).toBe(404);
    // DELETE ends it; the next request is 404 and a new initialize starts over
    const del = await fetch(server.endpoint, { method: "DELETE", headers: { authorization: `Bearer ${server.token}`, "mcp-session-id": sid } });
    expect(del.status).toBe(204);
    expect((await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 4, method: "ping" }, { "mcp-session-id": sid })).status).toBe(404);
    const again = await rawSession(server.endpoint, server.token);
    expect(again).not.toBe(sid);
  });

  test("protocol versions: each supported one is echoed, an unknown one gets the latest, a bad header is 400", async () => {
    for (const v of ["2024-10-07", "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]) {
      const r = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: v, capabilities: {}, clientInfo: { name: "v", version: "1" } } });
      expect(r.json.result.protocolVersion).toBe(v);
    }
    const r = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "1999-01-01", capabilities: {}, clientInfo: { name: "v", version: "1" } } });
    expect(r.json.result.protocolVersion).toBe("2025-11-25");
    const sid = r.headers.get("mcp-session-id")!;
    const bad = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 2, method: "ping" }, { "mcp-session-id": sid, "mcp-protocol-version": "1999-01-01" });
    expect(bad.status).toBe(400);
  });

  test("idle sessions are reaped after DZX_SESSION_TTL_MS; past DZX_MAX_SESSIONS_PER_SERVER initialize is refused; idle servers unload", async () => {
    const short = await startWithKeys({ admin: ["ttl"] }, { DZX_SESSION_TTL_MS: "1000", DZX_MAX_SESSIONS_PER_SERVER: "2" });
    try {
      const c = await managementClient(short.dzx.url, short.keys.admin.key);
      const s = await createServer(c, { name: "Short" });
      await c.close();
      const first = await rawSession(s.endpoint, s.token);
      await rawSession(s.endpoint, s.token);
      const third = await post(s.endpoint, s.token, { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } });
      expect(third.status).toBe(429);
      expect(third.json.error.message).toContain("Too many sessions");
      await Bun.sleep(2500);
      const reaped = await post(s.endpoint, s.token, { jsonrpc: "2.0", id: 2, method: "ping" }, { "mcp-session-id": first });
      expect(reaped.status).toBe(404);
      // reaped sessions no longer count against the cap
      expect(await rawSession(s.endpoint, s.token)).toMatch(/^[0-9a-f]{32}$/);
      // a server nobody uses or holds a session on is unloaded, and loads again on the next request
      const loaded = async () => Number((await (await fetch(`${short.dzx.url}/metrics`)).text()).match(/^dzx_hosted_servers_loaded (\d+)$/m)?.[1]);
      expect(await loaded()).toBe(1);
      await Bun.sleep(3000);
      expect(await loaded()).toBe(0);
      expect(await rawSession(s.endpoint, s.token)).toMatch(/^[0-9a-f]{32}$/);
      expect(await loaded()).toBe(1);
    } finally {
      await short.dzx.dispose();
    }
  });
});

describe("DNS rebinding", () => {
  test("a foreign Host or Origin is refused with 403; loopback and same-host origins pass", async () => {
    const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } };
    const port = new URL(dzx.url).port;
    const host = await post(server.endpoint, server.token, init, { host: `evil.example:${port}` });
    expect(host.status).toBe(403);
    expect(host.json.error.message).toContain("Host");
    const origin = await post(server.endpoint, server.token, init, { origin: "http://evil.example" });
    expect(origin.status).toBe(403);
    expect(origin.json.error.message).toContain("Origin");
    expect((await post(server.endpoint, server.token, init, { origin: `http://localhost:${port}` })).status).toBe(200);
    expect((await post(server.endpoint, server.token, init, { origin: dzx.url })).status).toBe(200);
  });

  test("DZX_ALLOWED_HOSTS and DZX_ALLOWED_ORIGINS admit the names they list", async () => {
    const other = await startWithKeys({ admin: ["hosts"] }, { DZX_ALLOWED_HOSTS: "mcp.example.com", DZX_ALLOWED_ORIGINS: "https://app.example.com" });
    try {
      // the guard covers /mcp/dwizi too: the management call must name an allowed host
      const call = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "dwizi.mcp.create", arguments: { server: { name: "Hosts" } } } };
      expect((await rpc(other.dzx.url, other.keys.admin.key, call)).status).toBe(403);
      const created = (await rpc(other.dzx.url, other.keys.admin.key, call, { headers: { host: "mcp.example.com" } })).json.result.structuredContent;
      const s = { endpoint: created.mcpEndpoint.replace("http://mcp.example.com", other.dzx.url), token: created.bearerToken };
      const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } };
      expect((await post(s.endpoint, s.token, init, { host: "mcp.example.com" })).status).toBe(200);
      expect((await post(s.endpoint, s.token, init, { host: "mcp.example.com", origin: "https://app.example.com" })).status).toBe(200);
      expect((await post(s.endpoint, s.token, init, { host: "mcp.example.com", origin: "https://evil.example.com" })).status).toBe(403);
      expect((await post(s.endpoint, s.token, init)).status).toBe(403); // 127.0.0.1 is not listed
    } finally {
      await other.dzx.dispose();
    }
  });
});

describe("tools/call", () => {
  test("arguments are validated against the published schema before the sandbox runs; the error is a result the model can act on", async () => {
    const client = await hostedClient(server.endpoint, server.token);
    try {
      const r = await client.callTool({ name: "echo", arguments: { region: "eu" } });
      expect(r.isError).toBe(true);
      expect((r.content as any)[0].text).toContain("text");
      const extra = await client.callTool({ name: "echo", arguments: { text: "a", region: "eu", bogus: 1 } });
      expect(extra.isError).toBe(true);
      expect((extra.content as any)[0].text).toContain("bogus");
      await expect(client.callTool({ name: "nope", arguments: {} })).rejects.toThrow(/Unknown tool/);
    } finally {
      await client.close();
    }
  });

  test("partials: enforced keys vanish from the schema and always win; presets and inputDefaults fill absent arguments", async () => {
    const partial = await op(admin, "dwizi.partials.create", { partial: { name: "EU only", values: { region: "eu", limit: 5 }, enforced: ["region"] } });
    const s = await createServer(admin, { name: "Partials" });
    await op(admin, "dwizi.mcp.tools.add", { server: s.id, toolSlug: "echo", alias: "eu", partialIds: [partial.partial.slug], inputDefaults: { text: "default text" } });
    const client = await hostedClient(s.endpoint, s.token);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(["eu__echo"]);
      expect(Object.keys((tools[0].inputSchema as any).properties)).toEqual(["text", "limit"]);
      expect((tools[0].inputSchema as any).required).toEqual(["text"]);
      const r = await client.callTool({ name: "eu__echo", arguments: { text: "hi", region: "us" } });
      expect(r.structuredContent).toEqual({ text: "hi", region: "eu", limit: 5 });
      const d = await client.callTool({ name: "eu__echo", arguments: { limit: 7 } });
      expect(d.structuredContent).toEqual({ text: "default text", region: "eu", limit: 7 });
      // a partial change reaches the server
      await op(admin, "dwizi.partials.update", { id: partial.partial.id, patch: { values: { region: "de", limit: 5 } } });
      let out: any;
      for (let i = 0; i < 100 && out?.region !== "de"; i++) {
        out = (await client.callTool({ name: "eu__echo", arguments: { text: "x" } })).structuredContent;
        if (out?.region !== "de") await Bun.sleep(20);
      }
      expect(out).toEqual({ text: "x", region: "de", limit: 5 });
      // an unknown partial is refused at attach time
      expect((await opError(admin, "dwizi.mcp.tools.add", { server: s.id, toolSlug: "stepper", partialIds: ["missing"] })).code).toBe("NOT_FOUND");
    } finally {
      await client.close();
      await op(admin, "dwizi.mcp.delete", { id: s.id });
    }
  });

  test("attachments present tools their own way: displayName as title, description, and sortOrder", async () => {
    const s = await createServer(admin, { name: "Presented" });
    await op(admin, "dwizi.mcp.tools.add", { server: s.id, toolSlug: "stepper", sortOrder: 2 });
    await op(admin, "dwizi.mcp.tools.add", { server: s.id, toolSlug: "echo", alias: "first", displayName: "The First Echo", description: "Echo, shown first", sortOrder: 1 });
    const c = await hostedClient(s.endpoint, s.token);
    try {
      const { tools } = await c.listTools();
      expect(tools.map((t) => t.name)).toEqual(["first__echo", "stepper"]);
      expect(tools[0]).toMatchObject({ title: "The First Echo", description: "Echo, shown first" });
    } finally {
      await c.close();
      await op(admin, "dwizi.mcp.delete", { id: s.id });
    }
  });

  test("progress notifications and log messages stream before the result on SSE", async () => {
    const sid = await rawSession(server.endpoint, server.token);
    const res = await fetch(server.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${server.token}`, "mcp-session-id": sid },
      body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "stepper", arguments: {}, _meta: { progressToken: "p1" } } }),
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const frames = (await res.text())
      .split("\n\n")
      .filter((f) => f.includes("data: "))
      .map((f) => JSON.parse(f.slice(f.indexOf("data: ") + 6)));
    // in the order the tool wrote them: the log line goes out as it is written, not after the tool returns
    expect(frames.map((f) => f.method ?? "result")).toEqual(["notifications/progress", "notifications/message", "notifications/progress", "result"]);
    expect(frames[0].params).toEqual({ progressToken: "p1", progress: 1, total: 2, message: "half" });
    expect(frames[1].params).toMatchObject({ level: "info", data: { tool: "stepper", message: "working" } });
    expect(frames[3]).toMatchObject({ id: 9, result: { content: [{ type: "text", text: "finished" }] } });
  });

  test("the SDK client's onprogress sees the tool's progress", async () => {
    const client = await hostedClient(server.endpoint, server.token);
    const seen: number[] = [];
    try {
      const r = await client.callTool({ name: "stepper", arguments: {} }, undefined, { onprogress: (p) => void seen.push(p.progress) });
      expect(r.content).toEqual([{ type: "text", text: "finished" }]);
      expect(seen).toEqual([1, 2]);
    } finally {
      await client.close();
    }
  });

  test("notifications/cancelled stops a sleeping tool and frees the only worker", async () => {
    const client = await hostedClient(server.endpoint, server.token);
    try {
      const abort = new AbortController();
      const pending = client.callTool({ name: "sleeper", arguments: {} }, undefined, { signal: abort.signal, timeout: 120_000 });
      await Bun.sleep(500);
      abort.abort("user gave up");
      await expect(pending).rejects.toThrow();
      // with DZX_WORKERS=1 this call can only run once the sleeper was stopped (it would sleep 25 s)
      const r = await client.callTool({ name: "stepper", arguments: {} });
      expect(r.content).toEqual([{ type: "text", text: "finished" }]);
      let calls: any[] = [];
      for (let i = 0; i < 50 && !calls.some((c) => c.toolName === "sleeper"); i++) {
        calls = (await op(admin, "dwizi.calls.list", { server: server.id })).calls;
        await Bun.sleep(100);
      }
      expect(calls.find((c) => c.toolName === "sleeper")).toMatchObject({ status: "cancelled" });
    } finally {
      await client.close();
    }
  });
});

describe("secrets and end users", () => {
  test("a missing secret is a tool error naming it and how to set it; the end user's value wins over the org's", async () => {
    const s = await createServer(admin, { name: "For Ada", endUserId: "ada", toolIds: ["keyed"] });
    const client = await hostedClient(s.endpoint, s.token);
    try {
      const missing = await client.callTool({ name: "keyed", arguments: {} });
      expect(missing.isError).toBe(true);
      const text = (missing.content as any)[0].text as string;
      expect(text).toContain(`"API_KEY"`);
      expect(text).toContain("dwizi.secrets.set");
      expect(text).toContain(`"endUserId":"ada"`);
      await op(admin, "dwizi.secrets.set", { name: "API_KEY", value: "org-wide-1234" });
      expect((await client.callTool({ name: "keyed", arguments: {} })).structuredContent).toEqual({ key: "org-wide-1234", nested: { n: 1 } });
      await op(admin, "dwizi.secrets.set", { name: "API_KEY", value: "ada-5678", endUserId: "ada" });
      expect((await client.callTool({ name: "keyed", arguments: {} })).structuredContent).toEqual({ key: "ada-5678", nested: { n: 1 } });
    } finally {
      await client.close();
      await op(admin, "dwizi.mcp.delete", { id: s.id });
    }
  });

  test("secretBindings point a tool's declared secret at another stored secret, per attachment", async () => {
    await op(admin, "dwizi.secrets.set", { name: "WORK_KEY", value: "work-key-4321" });
    const s = await createServer(admin, { name: "Bound" });
    await op(admin, "dwizi.mcp.tools.add", { server: s.id, toolSlug: "keyed", alias: "work", secretBindings: { API_KEY: "WORK_KEY" } });
    await op(admin, "dwizi.mcp.tools.add", { server: s.id, toolSlug: "keyed", alias: "missing", secretBindings: { API_KEY: "NOT_SET" } });
    const c = await hostedClient(s.endpoint, s.token);
    try {
      expect((await c.callTool({ name: "work__keyed", arguments: {} })).structuredContent).toEqual({ key: "work-key-4321", nested: { n: 1 } });
      const missing = await c.callTool({ name: "missing__keyed", arguments: {} });
      expect(missing.isError).toBe(true);
      expect((missing.content as any)[0].text).toContain(`"NOT_SET"`);
    } finally {
      await c.close();
      await op(admin, "dwizi.mcp.delete", { id: s.id });
    }
  });

  test("the call log keeps what outputPolicy allows: obfuscate masks every leaf and keeps the shape", async () => {
    let calls: any[] = [];
    for (let i = 0; i < 50 && !calls.some((c) => c.toolName === "keyed" && c.status === "ok"); i++) {
      calls = (await op(admin, "dwizi.calls.list", {})).calls;
      await Bun.sleep(100);
    }
    const ok = calls.find((c) => c.toolName === "keyed" && c.status === "ok");
    expect(ok.output).toEqual({ key: "***", nested: { n: "***" } });
    expect(JSON.stringify(calls)).not.toContain("ada-5678");
    expect(JSON.stringify(calls)).not.toContain("org-wide-1234");
    const failed = calls.find((c) => c.toolName === "keyed" && c.status === "error");
    expect(failed.error).toContain("API_KEY");
  });

  test("a call whose output holds U+0000 is logged (as U+FFFD) without losing the calls batched with it", async () => {
    await op(admin, "dwizi.tools.create", { tool: { name: "nul", source: "export default async (i) => ({ text: 'a\\u0000b', n: i.n })" } });
    const s = await createServer(admin, { name: "Nul", toolIds: ["nul"] });
    const c = await hostedClient(s.endpoint, s.token);
    try {
      await Promise.all([1, 2, 3].map((n) => c.callTool({ name: "nul", arguments: { n } })));
      let calls: any[] = [];
      for (let i = 0; i < 50 && calls.length < 3; i++) {
        calls = (await op(admin, "dwizi.calls.list", { server: s.id })).calls;
        if (calls.length < 3) await Bun.sleep(100);
      }
      expect(calls.map((x) => x.output).sort((x, y) => x.n - y.n)).toEqual([1, 2, 3].map((n) => ({ text: "a\ufffdb", n })));
    } finally {
      await c.close();
      await op(admin, "dwizi.mcp.delete", { id: s.id });
      await op(admin, "dwizi.tools.delete", { slug: "nul" });
    }
  });

  test("the call log keeps tabs, newlines, backslashes, quotes, a literal \\u0000 and bare string outputs exactly", async () => {
    const tricky = "tab\there\nline\r\\back\\slash \"quoted\" \\N \\t \\u0000 (text, not the character)";
    await op(admin, "dwizi.tools.create", { tool: { name: "tricky", source: "export default async (i) => { console.log(i.s); return i.s }" } });
    const s = await createServer(admin, { name: "Tricky", toolIds: ["tricky"] });
    const c = await hostedClient(s.endpoint, s.token);
    try {
      await c.callTool({ name: "tricky", arguments: { s: tricky } });
      let calls: any[] = [];
      for (let i = 0; i < 50 && calls.length < 1; i++) {
        calls = (await op(admin, "dwizi.calls.list", { server: s.id })).calls;
        if (calls.length < 1) await Bun.sleep(100);
      }
      expect(calls[0]).toMatchObject({ status: "ok", input: { s: tricky }, output: tricky, logs: [{ level: "log", message: tricky }] });
    } finally {
      await c.close();
      await op(admin, "dwizi.mcp.delete", { id: s.id });
      await op(admin, "dwizi.tools.delete", { slug: "tricky" });
    }
  });

  test("a call whose input is nested 100,000 deep (past what JSON.stringify takes) is refused at the edge and never reaches the call log", async () => {
    await op(admin, "dwizi.tools.create", { tool: { name: "deep", source: "export default async () => 1" } });
    const s = await createServer(admin, { name: "Deep", toolIds: ["deep"] });
    try {
      const sid = await rawSession(s.endpoint, s.token);
      // JSON.parse takes this depth, JSON.stringify does not: the raw body is the only way to send it
      const n = 100_000;
      const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"deep","arguments":{"x":${"[".repeat(n)}${"]".repeat(n)}}}}`;
      const r = await post(s.endpoint, s.token, body, { "mcp-session-id": sid });
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe(-32600);
      const ok = await post(s.endpoint, s.token, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "deep", arguments: {} } }, { "mcp-session-id": sid });
      expect(ok.json.result.structuredContent).toBeUndefined();
      const calls = (await op(admin, "dwizi.calls.list", { server: s.id })).calls;
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ toolName: "deep", status: "ok" });
    } finally {
      await op(admin, "dwizi.mcp.delete", { id: s.id });
      await op(admin, "dwizi.tools.delete", { slug: "deep" });
    }
  });

  test("a finished call is in dwizi.calls.list and dwizi.usage.get at once: records still queued are written before the read", async () => {
    await op(admin, "dwizi.tools.create", { tool: { name: "fresh", source: "export default async (i) => ({ n: i.n })" } });
    const s = await createServer(admin, { name: "Fresh", toolIds: ["fresh"] });
    const c = await hostedClient(s.endpoint, s.token);
    try {
      await c.callTool({ name: "fresh", arguments: { n: 7 } });
      // no polling: the log batches writes for up to a second, and a reader must not see a stale log
      const calls = (await op(admin, "dwizi.calls.list", { server: s.id })).calls;
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ toolName: "fresh", status: "ok", output: { n: 7 } });
      await c.callTool({ name: "fresh", arguments: { n: 8 } });
      expect((await op(admin, "dwizi.usage.get", { server: s.id })).usage.calls).toBe(2);
    } finally {
      await c.close();
      await op(admin, "dwizi.mcp.delete", { id: s.id });
      await op(admin, "dwizi.tools.delete", { slug: "fresh" });
    }
  });

  test("dwizi.usage.get and dwizi.usage.timeseries count the logged calls", async () => {
    const logged = (await op(admin, "dwizi.calls.list", { limit: 500 })).calls as any[];
    const usage = (await op(admin, "dwizi.usage.get", {})).usage;
    expect(usage.calls).toBe(logged.length);
    expect(usage.errors).toBe(logged.filter((c) => c.status !== "ok").length);
    expect(usage.byTool.find((t: any) => t.toolName === "keyed")).toMatchObject({ serverId: expect.any(String), errors: 1 });
    const series = await op(admin, "dwizi.usage.timeseries", { range: "30d" });
    expect(series.buckets).toHaveLength(30);
    expect(series.buckets.at(-1)).toMatchObject({ day: new Date().toISOString().slice(0, 10), calls: logged.length });
    expect(series.buckets.slice(0, -1).every((b: any) => b.calls === 0)).toBe(true);
    const one = await op(admin, "dwizi.usage.get", { range: "90d", server: server.id });
    expect(one.usage.calls).toBe(logged.filter((c) => c.serverId === server.id).length);
  });
});

describe("notifications", () => {
  test("dwizi.notifications.list names a missing secret and a failing tool, newest first, and only to their own org", async () => {
    await op(admin, "dwizi.tools.create", { tool: { name: "flaky", source: "export default async () => { throw new Error('upstream answered 503') }" } });
    await op(admin, "dwizi.tools.create", { tool: { name: "needs-token", secrets: ["TOKEN_X"], source: "export default async (i, context) => context.secrets.TOKEN_X.length" } });
    const s = await createServer(admin, { name: "Alerts", toolIds: ["flaky", "needs-token", "echo"] });
    const c = await hostedClient(s.endpoint, s.token);
    try {
      expect((await c.callTool({ name: "flaky", arguments: {} })).isError).toBe(true);
      expect((await c.callTool({ name: "flaky", arguments: {} })).isError).toBe(true);
      expect((await c.callTool({ name: "echo", arguments: { text: "fine", region: "eu" } })).isError).toBeFalsy();
      await Bun.sleep(5); // the next failure is the most recent one by the clock, too
      expect((await c.callTool({ name: "needs-token", arguments: {} })).isError).toBe(true);

      const mine = ((await op(admin, "dwizi.notifications.list", {})).notifications as any[]).filter((n) => n.server.id === s.id);
      expect(mine.map((n) => [n.kind, n.toolName])).toEqual([
        ["missing_secret", "needs-token"],
        ["tool_failing", "flaky"],
      ]);
      const [secret, failing] = mine;
      expect(secret).toMatchObject({ secret: "TOKEN_X", failures: 1, server: { id: s.id, slug: s.slug, name: "Alerts" }, id: `missing_secret:${s.id}:needs-token` });
      expect(secret.message).toContain("dwizi.secrets.set");
      expect(failing).toMatchObject({ failures: 2, lastError: expect.stringContaining("upstream answered 503") });
      expect(failing.message).toContain("failed 2 times");
      expect(Date.parse(failing.firstAt)).toBeLessThanOrEqual(Date.parse(failing.lastAt));

      // the same over REST, and nothing of it for another org
      const rest = await fetch(`${dzx.url}/api/v1/notifications?limit=500`, { headers: { authorization: `Bearer ${key.key}` } });
      expect(((await rest.json()) as any).notifications.filter((n: any) => n.server.id === s.id)).toEqual(mine);
      const other = await managementClient(dzx.url, otherKey.key);
      try {
        expect((await op(other, "dwizi.notifications.list", { hours: 2160 })).notifications).toEqual([]);
      } finally {
        await other.close();
      }
    } finally {
      await c.close();
      await op(admin, "dwizi.mcp.delete", { id: s.id });
    }
  });
});

describe("malformed messages", () => {
  let sid = "";
  const send = (body: unknown, headers: Record<string, string> = {}) => post(server.endpoint, server.token, body, { "mcp-session-id": sid, ...headers });
  beforeAll(async () => {
    sid = await rawSession(server.endpoint, server.token);
  }, 60_000);

  test("not JSON → -32700; an empty body → -32700 naming it", async () => {
    const r = await send("{nope");
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe(-32700);
    const e = await send("");
    expect(e.json.error.message).toContain("empty");
  });

  test("not a JSON-RPC request → -32600; an empty batch → -32600; initialize in a batch is refused", async () => {
    expect((await send({ id: 1, method: "ping" })).json.error.code).toBe(-32600);
    expect((await send(42)).json).toMatchObject({ error: { code: -32600 } });
    expect((await send([])).json.error.code).toBe(-32600);
    const batchInit = await send([{ jsonrpc: "2.0", id: 1, method: "initialize", params: {} }]);
    expect(batchInit.status).toBe(400);
  });

  test("initialize without protocolVersion, or with capabilities/clientInfo not objects, is -32602 naming the field, and opens no session", async () => {
    const init = (params: unknown) => post(server.endpoint, server.token, { jsonrpc: "2.0", id: 1, method: "initialize", ...(params === undefined ? {} : { params }) });
    for (const [params, field] of [
      [undefined, "protocolVersion"],
      [{ capabilities: {}, clientInfo: { name: "x", version: "1" } }, "protocolVersion"],
      [{ protocolVersion: 20250618, capabilities: {} }, "protocolVersion"],
      [{ protocolVersion: "2025-06-18", capabilities: "all" }, "capabilities"],
      [{ protocolVersion: "2025-06-18", capabilities: {}, clientInfo: ["x"] }, "clientInfo"],
    ] as const) {
      const r = await init(params);
      expect({ field, code: r.json?.error?.code, session: r.headers.get("mcp-session-id") }).toEqual({ field, code: -32602, session: null });
      expect(r.json.error.message).toContain(`"${field}"`);
    }
    // an unknown version is not an error: the server answers with its own, and the client decides
    const r = await init({ protocolVersion: "1999-01-01", capabilities: {}, clientInfo: { name: "x", version: "1" } });
    expect(r.json.result.protocolVersion).toBe("2025-11-25");
    expect(r.headers.get("mcp-session-id")).toBeTruthy();
  });

  test("an unknown method → -32601; bad params → -32602; a batch answers each message", async () => {
    expect((await send({ jsonrpc: "2.0", id: 1, method: "tools/frobnicate" })).json.error.code).toBe(-32601);
    expect((await send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { arguments: {} } })).json.error.code).toBe(-32602);
    expect((await send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "echo", arguments: [1] } })).json.error.code).toBe(-32602);
    expect((await send({ jsonrpc: "2.0", id: 4, method: "resources/read", params: {} })).json.error.code).toBe(-32602);
    expect((await send({ jsonrpc: "2.0", id: 5, method: "prompts/get", params: { name: "missing" } })).json.error.code).toBe(-32602);
    expect((await send({ jsonrpc: "2.0", id: 6, method: "tools/list", params: { cursor: "garbage!" } })).json.error.code).toBe(-32602);
    const batch = await send([{ jsonrpc: "2.0", id: 7, method: "ping" }, { jsonrpc: "2.0", method: "notifications/initialized" }, { jsonrpc: "2.0", id: 8, method: "nope" }]);
    expect(batch.json).toEqual([
      { jsonrpc: "2.0", id: 7, result: {} },
      { jsonrpc: "2.0", id: 8, error: { code: -32601, message: "Method not found: nope" } },
    ]);
  });

  test("dotted method names work like slashed ones", async () => {
    const r = await send({ jsonrpc: "2.0", id: 1, method: "tools.list" });
    expect(r.json.result.tools.map((t: any) => t.name)).toEqual(["echo", "sleeper", "stepper", "keyed"]);
  });

  test("an oversize body is 413 and nothing runs", async () => {
    const big = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text: "x".repeat(1_100_000), region: "eu" } } });
    const r = await send(big);
    expect(r.status).toBe(413);
    expect(r.json.error.message).toContain("too large");
  });

  test("a notification alone is accepted with 202 and no body", async () => {
    const r = await send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "never-sent" } });
    expect(r.status).toBe(202);
    expect(r.text).toBe("");
  });
});

describe("metrics", () => {
  test("GET /metrics exposes call, session and sandbox figures in Prometheus text, and no tenant identifiers", async () => {
    const res = await fetch(`${dzx.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    const value = (line: string) => Number(text.split("\n").find((l) => l.startsWith(line + " "))?.split(" ")[1]);
    expect(value('dzx_tool_calls_total{status="ok"}')).toBeGreaterThan(0);
    expect(value('dzx_tool_calls_total{status="error"}')).toBeGreaterThan(0);
    expect(value('dzx_tool_calls_total{status="cancelled"}')).toBeGreaterThan(0);
    expect(value('dzx_sessions{endpoint="hosted"}')).toBeGreaterThanOrEqual(1);
    expect(value("dzx_sandbox_workers")).toBe(1);
    expect(value("dzx_sandbox_workers_replaced")).toBeGreaterThanOrEqual(0);
    expect(value("dzx_sandbox_stuck_threads")).toBe(0);
    expect(value("dzx_http_requests_total")).toBeGreaterThan(10);
    expect(text).not.toContain(server.id);
    expect(text).not.toContain(key.orgId);
    expect(text).toContain("# TYPE dzx_tool_calls_total counter");
  });
});
