/**
 * The transport of server→client requests on the 2025 lanes (issue 14, point 3):
 * the client answers them by POSTing JSON-RPC responses on its session, which are
 * accepted with 202 and no body, alone or in a batch; one naming no request the
 * server waits on is ignored. (The round trip from a tool's context.elicit /
 * context.sample to the client and back is tested with those, on the `ask` side;
 * the table that pairs answers with requests is tested in test/mcp/clientRequestTable.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { managementClient, op } from "../support/client.ts";
import { startWithKeys, type Dzx } from "../support/dzx.ts";
import { SseReader } from "../support/sseReader.ts";
import { createServer, post, rawSession, type HostedServer } from "./support.ts";

setDefaultTimeout(60_000);

let dzx: Dzx;
let admin: Client;
let server: HostedServer;

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["asker"] }, { DZX_WORKERS: "1" });
  dzx = s.dzx;
  admin = await managementClient(dzx.url, s.keys.admin.key);
  await op(admin, "dwizi.tools.create", { tool: { name: "quiet", source: "export default async () => 'quiet'" } });
  server = await createServer(admin, { name: "Asker", toolIds: ["quiet"] });
});
afterAll(async () => {
  await admin?.close();
  await dzx?.dispose();
});

describe("responses from the client", () => {
  test("a POST whose body is a response naming no waiting request is accepted with 202 and ignored", async () => {
    const sid = await rawSession(server.endpoint, server.token, "2025-11-25");
    const r = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: "dzx-404", result: { action: "accept" } }, { "mcp-session-id": sid });
    expect(r.status).toBe(202);
    expect(r.text).toBe("");
    const err = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 7, error: { code: -32601, message: "no" } }, { "mcp-session-id": sid });
    expect(err.status).toBe(202);
  });

  test("a batch of responses is 202; a batch mixing responses and a request answers the request alone", async () => {
    const sid = await rawSession(server.endpoint, server.token, "2025-11-25");
    const both = [
      { jsonrpc: "2.0", id: "dzx-1", result: {} },
      { jsonrpc: "2.0", id: "dzx-2", error: { code: -1, message: "declined" } },
    ];
    expect((await post(server.endpoint, server.token, both, { "mcp-session-id": sid })).status).toBe(202);
    const mixed = await post(server.endpoint, server.token, [...both, { jsonrpc: "2.0", id: "p", method: "ping" }], { "mcp-session-id": sid });
    expect(mixed.status).toBe(200);
    expect(mixed.json).toEqual([{ jsonrpc: "2.0", id: "p", result: {} }]);
  });

  test("on the legacy transport a response goes to the messages endpoint: 202, nothing sent back", async () => {
    const res = await fetch(`${server.endpoint}/sse`, { headers: { authorization: `Bearer ${server.token}`, accept: "text/event-stream" } });
    const stream = new SseReader(res.body);
    const endpoint = (await stream.until((b) => b.event === "endpoint")).at(-1)!.data!;
    const messagesUrl = new URL(endpoint, server.endpoint).href;
    const r = await post(messagesUrl, server.token, { jsonrpc: "2.0", id: "dzx-1", result: {} });
    expect(r.status).toBe(202);
    // the next thing on the stream is the answer to a ping sent after: the response got none
    expect((await post(messagesUrl, server.token, { jsonrpc: "2.0", id: "after", method: "ping" })).status).toBe(202);
    const next = await stream.until((b) => b.json !== undefined);
    expect(next.at(-1)!.json).toEqual({ jsonrpc: "2.0", id: "after", result: {} });
    await stream.cancel();
  });
});
