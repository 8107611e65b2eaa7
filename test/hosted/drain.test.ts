/**
 * SIGTERM drains (SPEC "Operations", issue 13 point 5): while calls run, new
 * requests get 503 with Retry-After and /ready says 503; the running calls — on
 * every transport, in sessions too — deliver their real results, and the process
 * exits 0 with the calls logged. Past DZX_DRAIN_MS a call still running is
 * stopped and its client gets a JSON-RPC error saying the server is shutting
 * down, never an empty 202.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { managementClient, op, rest } from "../support/client.ts";
import { startDzx, startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";
import { createServer, hostedClient, legacyClient, post, rawSession, type HostedServer } from "./support.ts";

setDefaultTimeout(120_000);

/** Reports progress (so a client knows it runs), then sleeps `ms`. */
const NAP = "export default async (input, context) => { context.progress(1, 2, 'asleep'); await new Promise((r) => setTimeout(r, input.ms)); return { woke: input.tag }; }";

const MODERN = "2026-07-28";

/** The transports a drain is checked on, each with one call in flight. */
const TRANSPORTS = ["json", "sse", "sdk", "legacy", "modern", "management", "rest"] as const;
type Transport = (typeof TRANSPORTS)[number];

/** What a client got: a result (its structuredContent), an error message, or an HTTP refusal. */
type Outcome = { result?: unknown; error?: { code?: number | string; message: string }; status?: number; empty?: boolean };

interface Scene {
  dzx: Dzx;
  key: TestKey;
  admin: Client;
  server: HostedServer;
  toolId: string;
}

async function scene(env: Record<string, string>): Promise<Scene> {
  // a worker for each call in flight, so none waits for another
  const { dzx, keys } = await startWithKeys({ admin: ["acme"] }, { DZX_WORKERS: "8", ...env });
  const admin = await managementClient(dzx.url, keys.admin.key);
  const tool = await op(admin, "dwizi.tools.create", { tool: { name: "nap", source: NAP } });
  const server = await createServer(admin, { name: "Naps", toolIds: ["nap"] });
  return { dzx, key: keys.admin, admin, server, toolId: tool.tool.id };
}

/** The gauge of MCP requests in flight, from /metrics. */
async function inFlight(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^dzx_mcp_requests_in_flight (\d+)$/m.exec(text)?.[1] ?? -1);
}

/** An SSE answer read to its end: `progressed` resolves on the first progress notification. */
function sseCall(endpoint: string, token: string, sid: string, body: unknown) {
  let progressed!: () => void;
  const running = new Promise<void>((r) => (progressed = r));
  const done = (async (): Promise<Outcome> => {
    const res = await fetch(endpoint, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "text/event-stream", "mcp-session-id": sid },
      body: JSON.stringify(body),
    });
    const frames: any[] = [];
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const data = buffer.slice(0, end).split("\n").find((l) => l.startsWith("data: "));
        buffer = buffer.slice(end + 2);
        if (!data) continue;
        const m = JSON.parse(data.slice(6));
        if (m.method === "notifications/progress") progressed();
        else frames.push(m);
      }
    }
    const last = frames.at(-1);
    return last ? { result: last.result?.structuredContent, error: last.error } : { status: res.status, empty: true };
  })();
  return { running, done };
}

/** A JSON-RPC answer as an Outcome (an empty 202 shows as `empty`). */
function rpcOutcome(r: { status: number; json: any; text: string }): Outcome {
  if (r.json?.result) return { result: r.json.result.structuredContent };
  if (r.json?.error) return { error: r.json.error, status: r.status };
  return { status: r.status, empty: true };
}

/** An SDK call as an Outcome. */
function sdkOutcome(call: Promise<any>): Promise<Outcome> {
  return call.then(
    (r) => ({ result: r.structuredContent?.output ?? r.structuredContent }),
    (err: Error & { code?: number }) => ({ error: { code: err.code, message: err.message } }),
  );
}

/**
 * One call of the nap tool on every transport, all in flight at once; resolves once dzx counts
 * them all as running (and the streaming ones reported progress), with each call's outcome.
 */
async function callEverywhere(s: Scene, ms: number): Promise<{ outcomes: Record<Transport, Promise<Outcome>>; clients: Client[] }> {
  const { server, dzx } = s;
  const args = (tag: string) => ({ name: "nap", arguments: { ms, tag } });
  const jsonSid = await rawSession(server.endpoint, server.token);
  const sseSid = await rawSession(server.endpoint, server.token);
  const sdk = await hostedClient(server.endpoint, server.token);
  const legacy = await legacyClient(server.endpoint, server.token);
  const progress: Promise<void>[] = [];
  const onprogress = () => {
    let seen!: () => void;
    progress.push(new Promise<void>((r) => (seen = r)));
    return () => seen();
  };

  const json = post(server.endpoint, server.token, { jsonrpc: "2.0", id: 1, method: "tools/call", params: args("json") }, { "mcp-session-id": jsonSid }).then(rpcOutcome);
  const sse = sseCall(server.endpoint, server.token, sseSid, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { ...args("sse"), _meta: { progressToken: "p" } } });
  progress.push(sse.running);
  const viaSdk = sdkOutcome(sdk.callTool(args("sdk"), undefined, { onprogress: onprogress(), timeout: 60_000 }));
  const viaLegacy = sdkOutcome(legacy.callTool(args("legacy"), undefined, { onprogress: onprogress(), timeout: 60_000 }));
  const meta = { "io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}, "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" } };
  const modern = post(server.endpoint, server.token, { jsonrpc: "2.0", id: 3, method: "tools/call", params: { ...args("modern"), _meta: meta } }, { "mcp-protocol-version": MODERN }).then(rpcOutcome);
  const management = sdkOutcome(s.admin.callTool({ name: "dwizi.tools.test", arguments: { slug: "nap", input: { ms, tag: "management" } } }, undefined, { timeout: 60_000 }));
  const viaRest = rest(dzx.url, s.key.key, "POST", `/tools/${s.toolId}/test`, { input: { ms, tag: "rest" } }).then(
    (r): Outcome => (r.status === 200 ? { result: r.json.output } : { status: r.status, error: r.json?.error }),
  );

  await Promise.all(progress);
  const deadline = Date.now() + 30_000;
  while ((await inFlight(dzx.url)) < TRANSPORTS.length) {
    if (Date.now() > deadline) throw new Error(`not every call was counted as running:\n${dzx.output()}`);
    await Bun.sleep(20);
  }
  return {
    outcomes: { json, sse: sse.done, sdk: viaSdk, legacy: viaLegacy, modern, management, rest: viaRest },
    clients: [sdk, legacy],
  };
}

/** Resolves once dzx says it is draining (/ready answers 503). */
async function draining(url: string): Promise<Response> {
  for (let i = 0; i < 1000; i++) {
    const r = await fetch(`${url}/ready`);
    if (r.status === 503) return r;
    await Bun.sleep(10);
  }
  throw new Error("/ready never answered 503");
}

/** The exit code, or a failure after `ms` (a generous bound, not a measurement). */
function exitWithin(dzx: Dzx, ms: number): Promise<number> {
  return Promise.race([dzx.exited, Bun.sleep(ms).then(() => Promise.reject(new Error(`dzx did not exit within ${ms} ms:\n${dzx.output()}`)))]);
}

/** The nap calls in the call log of a dzx restarted on the same database. */
async function loggedAfterRestart(s: Scene): Promise<{ status: string; input: any }[]> {
  const again = await startDzx({ db: s.dzx.db });
  try {
    const admin = await managementClient(again.url, s.key.key);
    try {
      return (await op(admin, "dwizi.calls.list", { server: s.server.id })).calls.filter((c: { toolName: string }) => c.toolName === "nap");
    } finally {
      await admin.close();
    }
  } finally {
    await again.dispose();
  }
}

async function closeAll(clients: Client[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
}

describe("SIGTERM with calls in flight on every transport", () => {
  let s: Scene;
  let outcomes: Record<Transport, Outcome>;
  let refusals: { mcp: { status: number; headers: Headers; body: any }; rest: Awaited<ReturnType<typeof rest>>; ready: Response; health: number };
  let exitCode: number;
  let logged: { status: string; input: any }[];

  test("the calls run, dzx drains, and exits 0", async () => {
    // a deadline far past the naps: on a loaded machine too they finish within it
    s = await scene({ DZX_DRAIN_MS: "30000" });
    // long enough for the probes below to run while the naps still do
    const { outcomes: pending, clients } = await callEverywhere(s, 3_000);
    s.dzx.signal("SIGTERM");
    const ready = await draining(s.dzx.url);
    const mcp = await fetch(s.server.endpoint, {
      method: "POST",
      headers: { authorization: `Bearer ${s.server.token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "late", version: "1" } } }),
    });
    const mcpBody = await mcp.json();
    const restRefusal = await rest(s.dzx.url, s.key.key, "GET", "/tools");
    const health = (await fetch(`${s.dzx.url}/health`)).status;
    refusals = { mcp: { status: mcp.status, headers: mcp.headers, body: mcpBody }, rest: restRefusal, ready, health };
    outcomes = Object.fromEntries(await Promise.all(TRANSPORTS.map(async (t) => [t, await pending[t]] as const))) as Record<Transport, Outcome>;
    exitCode = await exitWithin(s.dzx, 60_000);
    await closeAll(clients);
    await s.admin.close().catch(() => {});
    logged = await loggedAfterRestart(s);
    await s.dzx.db.drop();
    expect(exitCode).toBe(0);
  });

  test("new requests get 503 with Retry-After and a JSON body; /ready is 503, /health 200", () => {
    expect(refusals.mcp.status).toBe(503);
    expect(refusals.mcp.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(refusals.mcp.body).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32603 } });
    expect(refusals.mcp.body.error.message).toContain("shutting down");
    expect(refusals.rest.status).toBe(503);
    expect(refusals.rest.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(refusals.rest.json.error.code).toBe("UNAVAILABLE");
    expect(refusals.rest.json.error.message).toContain("shutting down");
    expect(refusals.ready.status).toBe(503);
    expect(refusals.health).toBe(200);
  });

  for (const t of TRANSPORTS) {
    test(`${t}: the call in flight delivers its real result`, () => {
      expect(outcomes[t]).toEqual({ result: { woke: t } });
    });
  }

  test("the drained calls are in the call log after a restart", () => {
    const tags = logged.filter((c) => c.status === "ok").map((c) => c.input.tag).sort();
    expect(tags).toEqual(["json", "legacy", "modern", "sdk", "sse"]);
  });
});

describe("SIGTERM with calls that outlast DZX_DRAIN_MS", () => {
  let outcomes: Record<Transport, Outcome>;
  let exitCode: number;
  let logged: { status: string; input: any }[];

  test("the calls are stopped at the deadline and dzx exits 0 soon after", async () => {
    const s = await scene({ DZX_DRAIN_MS: "300" });
    const { outcomes: pending, clients } = await callEverywhere(s, 20_000);
    s.dzx.signal("SIGTERM");
    // well before the tools would end (20 s): the deadline stopped them
    exitCode = await exitWithin(s.dzx, 15_000);
    outcomes = Object.fromEntries(await Promise.all(TRANSPORTS.map(async (t) => [t, await pending[t]] as const))) as Record<Transport, Outcome>;
    await closeAll(clients);
    await s.admin.close().catch(() => {});
    logged = await loggedAfterRestart(s);
    await s.dzx.db.drop();
    expect(exitCode).toBe(0);
  });

  for (const t of TRANSPORTS.filter((x) => x !== "rest")) {
    test(`${t}: the client gets a JSON-RPC error saying the server is shutting down`, () => {
      expect(outcomes[t].result).toBeUndefined();
      expect(outcomes[t].empty).toBeUndefined();
      expect(outcomes[t].error?.code).toBe(-32603);
      expect(outcomes[t].error?.message).toContain("Server is shutting down: the call was stopped before it finished");
    });
  }

  test("rest: the client gets 503 UNAVAILABLE saying the server is shutting down", () => {
    expect(outcomes.rest).toMatchObject({ status: 503, error: { code: "UNAVAILABLE" } });
    expect(outcomes.rest.error?.message).toContain("shutting down");
  });

  test("the stopped calls are logged as cancelled", () => {
    const tags = logged.filter((c) => c.status === "cancelled").map((c) => c.input.tag).sort();
    expect(tags).toEqual(["json", "legacy", "modern", "sdk", "sse"]);
  });
});
