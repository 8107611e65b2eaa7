/**
 * mcp-remote, driven over stdio the way Claude Desktop and Cursor drive it: it
 * bridges newline-delimited JSON-RPC to a hosted server's Streamable HTTP endpoint.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { op } from "../support/client.ts";
import { startWithClients, type Dzx, type Stack } from "../support/dzx.ts";
import { createServer, eventually, type HostedServer } from "./support.ts";

setDefaultTimeout(90_000);

const PROXY = join(import.meta.dir, "..", "..", "node_modules", "mcp-remote", "dist", "proxy.js");

let stack: Stack<"admin">;
let dzx: Dzx;
let admin: Client;
let server: HostedServer;

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] });
  ({ dzx, clients: { admin } } = stack);
  await op(admin, "dwizi.tools.create", { tool: { name: "echo", source: "export default async (input) => ({ said: input.text })" } });
  await op(admin, "dwizi.tools.create", { tool: { name: "later", source: "export default async () => 'later'" } });
  await op(admin, "dwizi.resources.create", { resource: { uri: "resource://docs/welcome", name: "Welcome", text: "Hello" } });
  await op(admin, "dwizi.prompts.create", { prompt: { name: "greet", arguments: [{ name: "who", required: true }], messages: [{ role: "user", content: "Hi {{who}}" }] } });
  server = await createServer(admin, { name: "Remote", toolIds: ["echo"], resourceIds: ["welcome"], promptIds: ["greet"] });
}, 60_000);
afterAll(async () => {
  await stack?.dispose();
});

test("mcp-remote lists and calls tools, reads the resource, gets the prompt, and relays list_changed", async () => {
  const proc = Bun.spawn(["node", PROXY, server.endpoint, "--header", `Authorization:Bearer ${server.token}`, "--transport", "http-only"], {
    env: { ...process.env, MCP_REMOTE_CONFIG_DIR: mkdtempSync(join(tmpdir(), "mcp-remote-")) },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  const messages: any[] = [];
  let stderr = "";
  void (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout) {
      buf += dec.decode(chunk);
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line) messages.push(JSON.parse(line));
      }
    }
  })();
  void (async () => {
    for await (const chunk of proc.stderr) stderr += new TextDecoder().decode(chunk);
  })();
  const send = (m: unknown) => {
    proc.stdin.write(`${JSON.stringify(m)}\n`);
    proc.stdin.flush();
  };
  const answer = async (id: number) => {
    await eventually(() => messages.some((m) => m.id === id), 30_000, `answer ${id} (mcp-remote said: ${stderr.slice(-500)})`);
    return messages.find((m) => m.id === id);
  };
  try {
    send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "claude-desktop-like", version: "1" } } });
    expect((await answer(1)).result.serverInfo).toBeDefined();
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    expect((await answer(2)).result.tools.map((t: any) => t.name)).toEqual(["echo"]);
    send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "echo", arguments: { text: "over stdio" } } });
    expect((await answer(3)).result.structuredContent).toEqual({ said: "over stdio" });
    send({ jsonrpc: "2.0", id: 4, method: "resources/read", params: { uri: "resource://docs/welcome" } });
    expect((await answer(4)).result.contents[0].text).toBe("Hello");
    send({ jsonrpc: "2.0", id: 5, method: "prompts/get", params: { name: "greet", arguments: { who: "Ada" } } });
    expect((await answer(5)).result.messages[0].content.text).toBe("Hi Ada");
    await Bun.sleep(300); // the proxy opens its GET stream after initialization
    await op(admin, "dwizi.mcp.tools.add", { server: server.id, toolSlug: "later" });
    await eventually(() => messages.some((m) => m.method === "notifications/tools/list_changed"), 20_000, "list_changed through mcp-remote");
    send({ jsonrpc: "2.0", id: 6, method: "tools/list" });
    expect((await answer(6)).result.tools.map((t: any) => t.name)).toEqual(["echo", "later"]);
  } finally {
    proc.kill();
    await proc.exited;
  }
});
