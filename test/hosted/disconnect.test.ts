/**
 * A client that drops its connection while a tool runs cancels the call: the
 * sandbox stops it (the only worker is free again long before the tool would
 * have ended) and the call log says "cancelled". Both answer shapes: a JSON
 * answer and an SSE stream, and a drop that comes before dzx looks at the
 * connection (it reads the request's signal only once a call has run ~10 ms).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { op } from "../support/client.ts";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { createServer, post, rawSession, type HostedServer } from "./support.ts";

setDefaultTimeout(60_000);

let stack: Stack<"admin">;
let admin: Client;
let server: HostedServer;

beforeAll(async () => {
  // one worker: a call that was not stopped would hold it for 25 s
  stack = await startWithClients({ admin: ["acme"] }, { DZX_WORKERS: "1" });
  admin = stack.clients.admin;
  await op(admin, "dwizi.tools.create", { tool: { name: "sleeper", source: "export default async () => { await new Promise((r) => setTimeout(r, 25000)); return 'woke' }" } });
  await op(admin, "dwizi.tools.create", { tool: { name: "echo", source: "export default async (input) => input" } });
  server = await createServer(admin, { name: "Drops", toolIds: ["sleeper", "echo"] });
}, 120_000);
afterAll(() => stack?.dispose());

/** POSTs a tools/call of the sleeper and drops the connection after `ms` (by default once it has run for a while). */
async function dropMidCall(sid: string, headers: Record<string, string>, ms = 500): Promise<void> {
  const abort = new AbortController();
  const pending = fetch(server.endpoint, {
    method: "POST",
    headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json", "mcp-session-id": sid, ...headers },
    body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "sleeper", arguments: {} } }),
    signal: abort.signal,
  }).then((r) => r.text());
  await Bun.sleep(ms);
  abort.abort();
  await expect(pending).rejects.toThrow();
}

/** The sleeper calls in the log, once `n` of them are there. */
async function sleeperCalls(n: number): Promise<{ status: string }[]> {
  for (let i = 0; i < 100; i++) {
    const calls = (await op(admin, "dwizi.calls.list", { server: server.id })).calls.filter((c: { toolName: string }) => c.toolName === "sleeper");
    if (calls.length >= n) return calls;
    await Bun.sleep(100);
  }
  throw new Error(`fewer than ${n} sleeper calls were logged`);
}

describe("a dropped connection cancels the call", () => {
  for (const [label, headers, n] of [
    ["JSON answer", { accept: "application/json, text/event-stream" }, 1],
    ["SSE answer", { accept: "text/event-stream" }, 2],
  ] as const) {
    test(`${label}: the worker is freed at once and the log says cancelled`, async () => {
      const sid = await rawSession(server.endpoint, server.token);
      await dropMidCall(sid, headers);
      // the only worker runs this only after the sleeper was stopped; it would sleep 25 s otherwise
      const r = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 8, method: "tools/call", params: { name: "echo", arguments: { after: label } } }, { "mcp-session-id": sid });
      expect(r.json?.result?.structuredContent).toEqual({ after: label });
      const calls = await sleeperCalls(n);
      expect(calls.every((c) => c.status === "cancelled")).toBe(true);
    });
  }
});

test("a client that drops at once leaves no tool running: dzx reads the request's signal late, but sees the drop", async () => {
  // a JSON answer's disconnect watch reads request.signal only after 10 ms (LINK_MS in src/http/disconnect.ts); a drop before that must still count
  const sid = await rawSession(server.endpoint, server.token);
  await dropMidCall(sid, { accept: "application/json, text/event-stream" }, 2);
  const r = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "echo", arguments: { after: "early drop" } } }, { "mcp-session-id": sid });
  expect(r.json?.result?.structuredContent).toEqual({ after: "early drop" });
  const calls = (await op(admin, "dwizi.calls.list", { server: server.id })).calls.filter((c: { toolName: string }) => c.toolName === "sleeper");
  expect(calls.every((c: { status: string }) => c.status === "cancelled")).toBe(true);
});
