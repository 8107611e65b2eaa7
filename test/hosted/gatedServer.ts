/**
 * A dzx with one hosted server whose tools talk while they run, for the tests of
 * live notifications and resumable streams: `gated` logs, reports progress, then
 * waits at a gate the test opens (test/support/gate.ts) and logs again; `chatty`
 * logs `input.lines` lines and returns; `quiet` only returns.
 */
import { afterAll, beforeAll } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { managementClient, op } from "../support/client.ts";
import { freshDatabase } from "../support/database.ts";
import { cliKey, runCli, startDzx, type Dzx } from "../support/dzx.ts";
import { startGates, type Gates } from "../support/gate.ts";
import { createServer, post, type HostedServer } from "./support.ts";

/** The running stack. */
export interface GatedStack {
  dzx: Dzx;
  admin: Client;
  server: HostedServer;
  gates: Gates;
  dispose(): Promise<void>;
}

const GATED = `export default async (input, context) => {
  context.log("info", "started " + input.name);
  context.progress(1, 2, "at the gate");
  await fetch(input.gate);
  context.log("info", "finished " + input.name);
  return "done " + input.name;
};`;

const CHATTY = `export default async (input) => {
  for (let i = 0; i < input.lines; i++) console.log("line " + i + (input.pad ? "x".repeat(input.pad) : ""));
  return "said " + input.lines;
};`;

/** Starts dzx (the org may fetch 127.0.0.1, where the gates are) and creates the server. */
export async function startGatedStack(env: Record<string, string> = {}): Promise<GatedStack> {
  const db = await freshDatabase();
  const key = await cliKey(db, "streams");
  const set = await runCli(db, ["orgs", "limits", "--org", "streams", "--set", JSON.stringify({ egress: { allowPrivateHosts: ["127.0.0.1"] } })]);
  if (set.code !== 0) throw new Error(`orgs limits failed: ${set.stderr}`);
  // every gated call holds a worker while it waits: room for the tests that hold three at once
  const dzx = await startDzx({ db, env: { DZX_WORKERS: "4", ...env } });
  const admin = await managementClient(dzx.url, key.key);
  await op(admin, "dwizi.tools.create", { tool: { name: "gated", source: GATED } });
  await op(admin, "dwizi.tools.create", { tool: { name: "chatty", source: CHATTY } });
  await op(admin, "dwizi.tools.create", { tool: { name: "quiet", source: "export default async () => 'quiet'" } });
  const server = await createServer(admin, { name: "Streams", toolIds: ["gated", "chatty", "quiet"] });
  const gates = startGates();
  return {
    dzx,
    admin,
    server,
    gates,
    dispose: async () => {
      gates.stop();
      await admin.close();
      await dzx.dispose();
    },
  };
}

/** Starts the stack before a test file's tests and disposes of it after them; call the result for the stack. */
export function gatedStackPerFile(env: Record<string, string> = {}): () => GatedStack {
  let stack: GatedStack | undefined;
  beforeAll(async () => {
    stack = await startGatedStack(env);
  });
  afterAll(async () => {
    await stack?.dispose();
  });
  return () => stack!;
}

/** A tools/call message. */
export function call(id: number | string, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) {
  return { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) } };
}

/** A raw POST on a session that leaves the body unread, for answers read as they stream. */
export function postStreaming(server: HostedServer, sid: string, body: unknown, accept = "application/json, text/event-stream", headers: Record<string, string> = {}): Promise<Response> {
  return fetch(server.endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", accept, authorization: `Bearer ${server.token}`, "mcp-session-id": sid, ...headers },
    body: JSON.stringify(body),
  });
}

/** Opens the session's GET stream; `lastEventId` resumes it. */
export function openGet(server: HostedServer, sid: string, lastEventId?: string, signal?: AbortSignal): Promise<Response> {
  return fetch(server.endpoint, {
    headers: { accept: "text/event-stream", authorization: `Bearer ${server.token}`, "mcp-session-id": sid, ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
    signal,
  });
}

/** Sets the session's log level. */
export async function setLevel(server: HostedServer, sid: string, level: string): Promise<void> {
  const r = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: `lvl-${level}`, method: "logging/setLevel", params: { level } }, { "mcp-session-id": sid });
  if (r.status !== 200 || r.json?.result === undefined) throw new Error(`logging/setLevel failed: ${r.status} ${r.text}`);
}
