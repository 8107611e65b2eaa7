/**
 * Ways to talk to a running dzx: the official MCP SDK client, raw JSON-RPC, REST.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { messages, parseSse } from "./sseReader.ts";

/** An SDK v1 client connected to /mcp/dwizi with a key. */
export async function managementClient(baseUrl: string, key: string, header = "authorization"): Promise<Client> {
  const headers: Record<string, string> = header === "authorization" ? { Authorization: `Bearer ${key}` } : { [header]: key };
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp/dwizi`), { requestInit: { headers } });
  const client = new Client({ name: "dzx-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

/** Calls an operation and returns its structuredContent (throws if it failed). */
export async function op(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const r = await client.callTool({ name, arguments: args });
  if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.structuredContent)}`);
  return r.structuredContent;
}

/** Calls an operation expecting failure; returns its {code, message}. */
export async function opError(client: Client, name: string, args: Record<string, unknown> = {}): Promise<{ code: string; message: string }> {
  const r = await client.callTool({ name, arguments: args });
  if (!r.isError) throw new Error(`${name} unexpectedly succeeded: ${JSON.stringify(r.structuredContent)}`);
  return (r.structuredContent as any).error;
}

/** A raw JSON-RPC POST to /mcp/dwizi; returns status, headers and parsed body (or text). */
export function rpc(baseUrl: string, key: string | null, body: unknown, init: { headers?: Record<string, string>; raw?: string; query?: string } = {}) {
  return postTo(`${baseUrl}/mcp/dwizi${init.query ?? ""}`, key, init.raw ?? body, init.headers);
}

/**
 * Status, headers, body text and parsed body. An answer streamed as SSE (an MCP call that
 * notified first) yields its JSON-RPC response (the message with an id and a result or error)
 * as `json`, and every message as `events`.
 */
async function readAnswer(res: Response) {
  const text = await res.text();
  let json: any;
  const events = res.headers.get("content-type")?.includes("text/event-stream") ? messages(parseSse(text)) : undefined;
  if (events) json = events.find((m) => m.id !== undefined && ("result" in m || "error" in m));
  else {
    try {
      json = JSON.parse(text);
    } catch {}
  }
  return { status: res.status, headers: res.headers, text, json, events };
}

/** A raw POST of a JSON body (or a string sent as is) to any MCP endpoint with a bearer token. */
export async function postTo(url: string, token: string | null, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return readAnswer(res);
}

/** A tools/call over raw JSON-RPC (no session, as seed 000's curl examples do). */
export async function rawCall(baseUrl: string, key: string, name: string, args: Record<string, unknown>) {
  return rpc(baseUrl, key, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args } });
}

/** A REST request under /api/v1. */
export async function rest(baseUrl: string, key: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return readAnswer(res);
}
