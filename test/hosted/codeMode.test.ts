/**
 * CODE-mode servers: exactly search / read_api / execute; scripts call the
 * server's tools through `tools.<name>()` with the same validation, partials,
 * secrets and call log as TOOLS mode; switching modes notifies clients.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { op } from "../support/client.ts";
import { startWithClients, type Dzx, type Stack } from "../support/dzx.ts";
import { createServer, eventually, hostedClient, type HostedServer } from "./support.ts";

setDefaultTimeout(60_000);

let stack: Stack<"admin">;
let dzx: Dzx;
let admin: Client;
let server: HostedServer;
let client: Client;

const text = (r: any) => (r.content as { type: string; text: string }[]).map((c) => c.text).join("\n");

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] }, { DZX_WORKERS: "2" });
  ({ dzx, clients: { admin } } = stack);
  await op(admin, "dwizi.tools.create", {
    tool: {
      name: "add",
      description: "Add two numbers",
      inputSchema: { type: "object", properties: { a: { type: "number", description: "first" }, b: { type: "number" } }, required: ["a", "b"], additionalProperties: false },
      source: "export default async ({ a, b }) => a + b",
    },
  });
  await op(admin, "dwizi.tools.create", {
    tool: { name: "whoami", description: "Says which key it holds", secrets: ["API_KEY"], source: "export default async (i, c) => ({ keyEnd: c.secrets.API_KEY.slice(-4) })" },
  });
  await op(admin, "dwizi.secrets.set", { name: "API_KEY", value: "sk-live-9876" });
  server = await createServer(admin, { name: "Coder", mode: "CODE", toolIds: ["add", "whoami"] });
  client = await hostedClient(server.endpoint, server.token);
}, 60_000);
afterAll(async () => {
  await client?.close();
  await stack?.dispose();
});

describe("CODE mode", () => {
  test("tools/list shows exactly search, read_api and execute", async () => {
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["search", "read_api", "execute"]);
  });

  test("search finds tools by words, best match first, as text only (no structuredContent copy doubling what an agent loads)", async () => {
    const r = await client.callTool({ name: "search", arguments: { query: "add numbers" } });
    expect(text(r).split("\n")[0]).toBe("add: Add two numbers");
    expect(r.structuredContent).toBeUndefined();
    const all = await client.callTool({ name: "search", arguments: {} });
    expect(text(all).split("\n").map((l) => l.split(":")[0]).sort()).toEqual(["add", "whoami"]);
    const one = await client.callTool({ name: "search", arguments: { limit: 1 } });
    expect(text(one)).toMatch(/^\w+: .*\n\(1 more match: search with a higher limit or more words\)$/);
  });

  test("search ranks a tool whose name holds the words above ones that only mention them", async () => {
    const r = await client.callTool({ name: "search", arguments: { query: "key" } });
    expect(text(r).split("\n")[0]).toBe("whoami: Says which key it holds");
    const named = await client.callTool({ name: "search", arguments: { query: "add key" } });
    expect(text(named).split("\n").map((l) => l.split(":")[0])).toEqual(["add", "whoami"]);
  });

  test("read_api returns TypeScript declarations generated from the schemas; unknown names are a tool error", async () => {
    const r = await client.callTool({ name: "read_api", arguments: { tools: ["add"] } });
    const d = text(r);
    expect(r.structuredContent).toBeUndefined();
    expect(d).toContain("declare const tools: {");
    expect(d).toContain("/** Add two numbers */");
    expect(d).toMatch(/add\(input: \{\s+\/\*\* first \*\/\s+a: number;\s+b: number;\s+\}\): Promise<unknown>;/);
    const bad = await client.callTool({ name: "read_api", arguments: { tools: ["nope"] } });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toContain("nope");
  });

  test("execute runs a script whose tools.* calls go through validation and host-side secrets", async () => {
    const r = await client.callTool({
      name: "execute",
      arguments: { code: "const sum = await tools.add({ a: 2, b: 3 }); const me = await tools.whoami({}); console.log('sum', sum); return { sum, me, secretsSeen: Object.keys(context?.secrets ?? {}).length }" },
    });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ sum: 5, me: { keyEnd: "9876" }, secretsSeen: 0 });
    expect(text(r)).toContain("[log] sum 5");
  });

  test("a failing or invalid inner call rejects inside the script with the tool's message", async () => {
    const r = await client.callTool({ name: "execute", arguments: { code: "try { await tools.add({ a: 'x' }); return 'no error' } catch (e) { return String(e.message ?? e) }" } });
    expect(text(r)).toContain("tools.add failed");
    expect(text(r)).toContain("Invalid arguments for add");
    const unknown = await client.callTool({ name: "execute", arguments: { code: "return await tools.nope({})" } });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain("nope");
  });

  test("more concurrent scripts than workers all finish: scripts always leave a worker for their tools.* calls", async () => {
    const code = "let t = 0; for (let i = 0; i < 3; i++) t = await tools.add({ a: t, b: 1 }); return t";
    const results = await Promise.all(Array.from({ length: 6 }, () => client.callTool({ name: "execute", arguments: { code } })));
    expect(results.map((r) => r.content)).toEqual(Array.from({ length: 6 }, () => [{ type: "text", text: "3" }]));
  });

  test("scripts and their inner calls are in the call log; the key never is", async () => {
    let calls: any[] = [];
    for (let i = 0; i < 50 && !calls.some((c) => c.toolName === "execute"); i++) {
      calls = (await op(admin, "dwizi.calls.list", { server: server.id })).calls;
      await Bun.sleep(100);
    }
    expect(calls.map((c) => c.toolName)).toEqual(expect.arrayContaining(["execute", "add", "whoami"]));
    expect(JSON.stringify(calls)).not.toContain("sk-live-9876");
  });

  test("switching the server to TOOLS mode notifies the client and lists the tools themselves", async () => {
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
    await Bun.sleep(200);
    await op(admin, "dwizi.mcp.update", { id: server.id, patch: { mode: "TOOLS" } });
    await eventually(() => changed > 0, 10_000, "list_changed after the mode switch");
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["add", "whoami"]);
  });
});
