/**
 * A real dzx for the benches (http.ts, ab.ts): started on a temp PGlite with a
 * clean environment, and set up with the sandboxed echo tool on a hosted server
 * through /mcp/dwizi, with an MCP session open on it.
 */
import type { Subprocess } from "bun";
import { BenchError } from "./wrk.ts";

function fail(message: string): never {
  throw new BenchError(message);
}

const ACCEPT = "application/json, text/event-stream";

/** Drains a child's stream into a string so its pipe never fills and blocks the child. */
export function collect(stream: ReadableStream<Uint8Array>, onText?: (all: string) => void): { text: () => string } {
  let all = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      all += decoder.decode(chunk, { stream: true });
      if (all.length > 200_000) all = all.slice(-100_000);
      onText?.(all);
    }
  })();
  return { text: () => all };
}

/** dzx binds the port we give it; ask the kernel for one that is free right now. */
export function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

/** What a dzx for a bench run is started with. */
export interface DzxStart {
  /** The checkout it runs from (its src/main.ts). */
  root: string;
  dataDir: string;
  adminKey: string;
  /** Set after the inherited environment is stripped of DZX_* and DATABASE_URL. */
  env?: Record<string, string>;
  /** Options for bun itself (a CPU profile, say). */
  bunArgs?: string[];
  /** Told of the child at once, so the caller can kill it if the run dies. */
  track(child: Subprocess): void;
}

/** Starts a real dzx on PGlite in `dataDir`; resolves once /ready answers 200. */
export async function startDzx(o: DzxStart): Promise<{ base: string; child: Subprocess; err: { text: () => string } }> {
  const port = freePort();
  // strip inherited dzx settings so the run is the same everywhere: PGlite in a temp dir, defaults otherwise
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("DZX_") && k !== "DATABASE_URL") env[k] = v;
  Object.assign(env, { PORT: String(port), DZX_DATA_DIR: o.dataDir, DZX_ADMIN_KEY: o.adminKey, DZX_LOG_LEVEL: "warn" }, o.env);
  const child = Bun.spawn(["bun", ...(o.bunArgs ?? []), "src/main.ts", "start"], { cwd: o.root, env, stdout: "ignore", stderr: "pipe" });
  o.track(child);
  const err = collect(child.stderr);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000; // first start runs initdb: ~4 s here
  while (Date.now() < deadline) {
    if (child.exitCode !== null) fail(`dzx exited (${child.exitCode}) during start-up:\n${err.text()}`);
    const ok = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (ok) return { base, child, err };
    await Bun.sleep(200);
  }
  fail(`dzx did not become ready within 60 s:\n${err.text()}`);
}


export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

/** POSTs one JSON-RPC message the way an MCP client does and parses a JSON answer, if any. */
export async function post(url: string, headers: Record<string, string>, message: unknown): Promise<Answer> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: ACCEPT, ...headers },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  const body = (() => {
    try {
      return JSON.parse(text);
    } catch {}
  })();
  return { status: res.status, headers: res.headers, text, body };
}

/** Fails with the exact request and response unless the answer is a JSON-RPC result that `ok` accepts. */
export function expectResult(what: string, url: string, message: unknown, a: Answer, ok: (result: any) => boolean): any {
  const ct = a.headers.get("content-type") ?? "";
  if (a.status === 200 && ct.startsWith("application/json") && a.body?.result !== undefined && ok(a.body.result)) return a.body.result;
  fail(`${what} failed.\n  request:  POST ${url}\n            ${JSON.stringify(message)}\n  response: ${a.status} ${ct}\n            ${a.text.slice(0, 2000)}`);
}

export const hasContent = (r: any) => Array.isArray(r?.content) && r.content.length > 0 && !r.isError;

/** Creates the echo tool and a hosted server through /mcp/dwizi, then opens an MCP session on it. */
export async function setUpHosted(base: string, adminKey: string): Promise<{ endpoint: string; headers: Record<string, string> }> {
  const mgmt = `${base}/mcp/dwizi`;
  const auth = { Authorization: `Bearer ${adminKey}` };
  const call = (id: number, name: string, args: unknown) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });
  const createTool = call(1, "dwizi.tools.create", { tool: { name: "echo", slug: "echo", source: "export default async (input) => input" } });
  expectResult("dwizi.tools.create", mgmt, createTool, await post(mgmt, auth, createTool), hasContent);
  const createServer = call(2, "dwizi.mcp.create", { server: { name: "Bench", toolIds: ["echo"] } });
  const created = expectResult("dwizi.mcp.create", mgmt, createServer, await post(mgmt, auth, createServer), (r) => hasContent(r) && r.structuredContent?.bearerToken && r.structuredContent?.mcpEndpoint);
  const endpoint: string = created.structuredContent.mcpEndpoint;
  const token = { Authorization: `Bearer ${created.structuredContent.bearerToken}` };

  const init = { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "dzx-bench", version: "0" } } };
  const initAnswer = await post(endpoint, token, init);
  expectResult("initialize", endpoint, init, initAnswer, (r) => r.protocolVersion === "2025-06-18");
  const session = initAnswer.headers.get("mcp-session-id") ?? fail(`initialize answered without an Mcp-Session-Id header:\n  ${initAnswer.text}`);
  const headers = { ...token, "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-06-18" };
  const initialized = { jsonrpc: "2.0", method: "notifications/initialized" };
  const n = await post(endpoint, headers, initialized);
  if (n.status !== 202 && n.status !== 200) fail(`notifications/initialized answered ${n.status}: ${n.text}`);
  return { endpoint, headers };
}

