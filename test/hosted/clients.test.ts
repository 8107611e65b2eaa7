/**
 * The full flow with real clients: an agent creates a tool, resource and prompt
 * through /mcp/dwizi, composes a server, and SDK v1 clients (Streamable HTTP and
 * legacy HTTP+SSE) list and call its tools, read its resource, get its prompt,
 * and hear list_changed when a tool is attached.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ToolListChangedNotificationSchema, ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { managementClient, op } from "../support/client.ts";
import { startWithClients, startWithKeys, type Dzx, type Stack } from "../support/dzx.ts";
import { createServer, eventually, hostedClient, legacyClient, type HostedServer } from "./support.ts";

setDefaultTimeout(60_000);

let stack: Stack<"admin">;
let dzx: Dzx;
let admin: Client;
let server: HostedServer;

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] });
  ({ dzx, clients: { admin } } = stack);
  await op(admin, "dwizi.tools.create", {
    tool: {
      name: "Echo",
      slug: "echo",
      description: "Echoes its input",
      language: "ts",
      inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
      source: "export default async (input: { text: string }, context: any) => ({ echoed: input.text, server: context.server.slug })",
    },
  });
  await op(admin, "dwizi.tools.create", { tool: { name: "Shout", slug: "shout", source: "export default async (i) => String(i.text ?? '').toUpperCase()" } });
  await op(admin, "dwizi.resources.create", { resource: { uri: "resource://docs/welcome", name: "Welcome", mimeType: "text/plain", text: "Hello" } });
  await op(admin, "dwizi.prompts.create", {
    prompt: { name: "triage-ticket", arguments: [{ name: "ticketBody", required: true }], messages: [{ role: "user", content: "Triage: {{ticketBody}}" }] },
  });
  server = await createServer(admin, { name: "Support Suite", toolIds: ["echo"], resourceIds: ["welcome"], promptIds: ["triage-ticket"] });
}, 60_000);
afterAll(async () => {
  await stack?.dispose();
});

async function fullFlow(client: Client) {
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toEqual(["echo"]);
  expect(tools[0]).toMatchObject({ description: "Echoes its input", inputSchema: { type: "object", required: ["text"] } });
  const called = await client.callTool({ name: "echo", arguments: { text: "hi" } });
  expect(called.isError).toBeFalsy();
  expect(called.structuredContent).toEqual({ echoed: "hi", server: server.slug });
  expect(JSON.parse((called.content as any)[0].text)).toEqual({ echoed: "hi", server: server.slug });
  const { resources } = await client.listResources();
  expect(resources).toEqual([expect.objectContaining({ uri: "resource://docs/welcome", mimeType: "text/plain" })]);
  const read = await client.readResource({ uri: "resource://docs/welcome" });
  expect(read.contents).toEqual([{ uri: "resource://docs/welcome", mimeType: "text/plain", text: "Hello" }]);
  const { prompts } = await client.listPrompts();
  expect(prompts.map((p) => p.name)).toEqual(["triage-ticket"]);
  const got = await client.getPrompt({ name: "triage-ticket", arguments: { ticketBody: "printer on fire" } });
  expect(got.messages).toEqual([{ role: "user", content: { type: "text", text: "Triage: printer on fire" } }]);
}

describe("SDK v1 client over Streamable HTTP", () => {
  test("create response carries the endpoint and ready-to-paste mcp-remote configs", async () => {
    const r = await op(admin, "dwizi.mcp.get", { id: server.id });
    expect(server.endpoint).toBe(`${dzx.url}/mcp/srv_${server.id}`);
    expect(r.server.mcpEndpoint).toBe(server.endpoint);
    const created = await op(admin, "dwizi.mcp.create", { server: { name: "Configs" } });
    const entry = created.clientConfigs.claudeDesktop.mcpServers[created.server.slug];
    expect(entry).toEqual({ command: "npx", args: ["-y", "mcp-remote", created.mcpEndpoint, "--header", `Authorization: Bearer ${created.bearerToken}`] });
    await op(admin, "dwizi.mcp.delete", { id: created.server.id });
  });

  test("lists and calls tools, reads the resource, gets the prompt", async () => {
    const client = await hostedClient(server.endpoint, server.token);
    try {
      expect(client.getServerCapabilities()).toMatchObject({ tools: { listChanged: true }, resources: { subscribe: true }, prompts: {} });
      await fullFlow(client);
    } finally {
      await client.close();
    }
  });

  test("the REST protocol path serves the same server", async () => {
    const client = await hostedClient(`${dzx.url}/api/v1/mcp/servers/${server.id}/protocol`, server.token);
    try {
      await fullFlow(client);
    } finally {
      await client.close();
    }
  });

  test("hears tools/list_changed when a tool is attached through /mcp/dwizi, and sees it listed", async () => {
    const client = await hostedClient(server.endpoint, server.token);
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changes++);
    try {
      await client.listTools(); // the GET stream is open once the first exchange is done
      await Bun.sleep(200);
      const added = await op(admin, "dwizi.mcp.tools.add", { server: server.id, toolSlug: "shout", alias: "loud" });
      await eventually(() => changes > 0, 10_000, "tools/list_changed");
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(["echo", "loud__shout"]);
      const r = await client.callTool({ name: "loud__shout", arguments: { text: "hey" } });
      expect(r.content).toEqual([{ type: "text", text: "HEY" }]);
      await op(admin, "dwizi.mcp.tools.remove", { server: server.id, attachmentId: added.attachment.id });
      await eventually(() => changes > 1, 10_000, "second tools/list_changed");
    } finally {
      await client.close();
    }
  });

  test("a subscriber hears resources/updated when the resource changes", async () => {
    const client = await hostedClient(server.endpoint, server.token);
    const updated: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
    try {
      await client.subscribeResource({ uri: "resource://docs/welcome" });
      await Bun.sleep(200);
      await op(admin, "dwizi.resources.update", { slug: "welcome", patch: { text: "Hello again" } });
      await eventually(() => updated.length > 0, 10_000, "resources/updated");
      expect(updated).toEqual(["resource://docs/welcome"]);
      expect((await client.readResource({ uri: "resource://docs/welcome" })).contents[0]).toMatchObject({ text: "Hello again" });
    } finally {
      await op(admin, "dwizi.resources.update", { slug: "welcome", patch: { text: "Hello" } });
      await client.close();
    }
  });
});

describe("read your writes", () => {
  test("once a management write has returned, the very next request to the server sees it", async () => {
    const client = await hostedClient(server.endpoint, server.token);
    try {
      for (let i = 0; i < 5; i++) {
        await op(admin, "dwizi.resources.update", { slug: "welcome", patch: { text: `version ${i}` } });
        expect((await client.readResource({ uri: "resource://docs/welcome" })).contents[0]).toMatchObject({ text: `version ${i}` });
      }
    } finally {
      await op(admin, "dwizi.resources.update", { slug: "welcome", patch: { text: "Hello" } });
      await client.close();
    }
  });
});

describe("SDK v1 client over the legacy HTTP+SSE transport", () => {
  test("lists and calls tools, reads the resource, gets the prompt", async () => {
    const client = await legacyClient(server.endpoint, server.token);
    try {
      await fullFlow(client);
    } finally {
      await client.close();
    }
  });

  test("hears tools/list_changed on its stream", async () => {
    const client = await legacyClient(server.endpoint, server.token);
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changes++);
    try {
      const added = await op(admin, "dwizi.mcp.tools.add", { server: server.id, toolSlug: "shout" });
      await eventually(() => changes > 0, 10_000, "tools/list_changed");
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("shout");
      await op(admin, "dwizi.mcp.tools.remove", { server: server.id, attachmentId: added.attachment.id });
    } finally {
      await client.close();
    }
  });
});

describe("shutdown", () => {
  test("SIGTERM ends open notification streams and the process exits", async () => {
    const s = await startWithKeys({ admin: ["bye"] });
    const c = await managementClient(s.dzx.url, s.keys.admin.key);
    const srv = await createServer(c, { name: "Bye" });
    await c.close();
    const client = await hostedClient(srv.endpoint, srv.token);
    await client.listTools();
    await Bun.sleep(200); // the GET stream is open
    await s.dzx.stop(); // SIGTERM, then waits for the exit
    expect(s.dzx.output()).toContain("shutting down");
    await client.close().catch(() => {});
    await s.dzx.dispose();
  }, 30_000); // without the fix the stop never finishes
});
