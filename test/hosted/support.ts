/**
 * Shared set-up for hosted-server tests: a running dzx with one org's key, a
 * management client, and SDK clients connected to hosted servers.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { op, postTo } from "../support/client.ts";

/** A created hosted server: its id, endpoint and token. */
export interface HostedServer {
  id: string;
  slug: string;
  endpoint: string;
  token: string;
}

/** Creates a server through the management API. */
export async function createServer(admin: Client, server: Record<string, unknown>): Promise<HostedServer> {
  const r = await op(admin, "dwizi.mcp.create", { server });
  return { id: r.server.id, slug: r.server.slug, endpoint: r.mcpEndpoint, token: r.bearerToken };
}

/** An SDK v1 client on a hosted server over Streamable HTTP. */
export async function hostedClient(endpoint: string, token: string, capabilities: Record<string, unknown> = {}): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(endpoint), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: "dzx-hosted-test", version: "1.0.0" }, { capabilities });
  await client.connect(transport);
  return client;
}

/** An SDK v1 client on a hosted server over the legacy HTTP+SSE transport. */
export async function legacyClient(endpoint: string, token: string): Promise<Client> {
  const headers = { Authorization: `Bearer ${token}` };
  const transport = new SSEClientTransport(new URL(`${endpoint}/sse`), {
    requestInit: { headers },
    eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
  });
  const client = new Client({ name: "dzx-legacy-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

/** Resolves when `predicate` holds, polling; rejects after `ms`. */
export async function eventually(predicate: () => boolean, ms = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** A raw JSON-RPC POST to a hosted endpoint, accepting JSON or SSE as SDK clients do. */
export function post(endpoint: string, token: string | null, body: unknown, headers: Record<string, string> = {}) {
  return postTo(endpoint, token, body, { accept: "application/json, text/event-stream", ...headers });
}

/** Opens a raw session: initialize, then notifications/initialized; returns the session id. */
export async function rawSession(endpoint: string, token: string, protocolVersion = "2025-06-18"): Promise<string> {
  const r = await post(endpoint, token, { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion, capabilities: {}, clientInfo: { name: "raw", version: "1" } } });
  if (r.status !== 200) throw new Error(`initialize failed: ${r.status} ${r.text}`);
  const sid = r.headers.get("mcp-session-id")!;
  await post(endpoint, token, { jsonrpc: "2.0", method: "notifications/initialized" }, { "mcp-session-id": sid });
  return sid;
}

/** A metric's value from GET /metrics (NaN when absent). */
export async function metric(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}
