/**
 * Resource templates and tool-backed resources (issue 14, point 5) through real SDK
 * clients: templates listed apart from resources, read by matching URIs with their
 * variables substituted, tools run with the URI's variables as input (with the
 * server's secrets and call log), bad templates and foreign tools refused with
 * nothing written.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { op, opError, rest } from "../support/client.ts";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { createServer, eventually, hostedClient, type HostedServer } from "./support.ts";

setDefaultTimeout(60_000);

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const CONFORMANCE_TEXT = '{"id":"{{id}}","templateTest":true,"data":"Data for ID: {{id}}"}';

let stack: Stack<"admin" | "other">;
let admin: Client;
let server: HostedServer;
let client: Client;

const tool = (slug: string, source: string, more: Record<string, unknown> = {}) => op(admin, "dwizi.tools.create", { tool: { name: slug, slug, source, ...more } });
const resource = (r: Record<string, unknown>) => op(admin, "dwizi.resources.create", { resource: r }).then((x) => x.resource);
const text = (contents: unknown[]) => (contents[0] as { text: string }).text;

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"], other: ["rivals"] });
  admin = stack.clients.admin;
  await tool("lookup", "export default async (input) => ({ id: input.id, found: true })", {
    inputSchema: { type: "object", properties: { id: { type: "string" } }, required: ["id"], additionalProperties: false },
  });
  await tool("greet", "export default async ({ name, lang }) => (lang === 'fr' ? 'Bonjour ' : 'Hello ') + name");
  await tool("token-tail", "export default async (_input, context) => 'token ends in ' + context.secrets.API_TOKEN.slice(-4)", { secrets: ["API_TOKEN"] });
  await tool("broken", "export default async () => { throw new Error('backend down'); }");
  await op(admin, "dwizi.secrets.set", { name: "API_TOKEN", value: "sk-test-9876" });

  await resource({ uri: "test://static-text", name: "Static Text", mimeType: "text/plain", text: "This is the content of the static text resource." });
  await resource({ uri: "test://static-binary", name: "Static Binary", mimeType: "image/png", blob: PNG });
  await resource({ uri: "test://template/{id}/data", name: "Template", description: "Data by id", mimeType: "application/json", text: CONFORMANCE_TEXT });
  await resource({ uri: "notes://{topic}{?lang}", name: "Notes", text: "Notes on {{topic}} in {{lang}}." });
  await resource({ uri: "json://{name}", name: "Json", mimeType: "application/json", text: '{"name":"{{name}}"}' });
  await resource({ uri: "items://{id}", name: "Items", toolId: "lookup" });
  await resource({ uri: "greet://{name}{?lang}", name: "Greeting", toolId: "greet" });
  await resource({ uri: "greet-md://{name}", name: "Greeting Markdown", mimeType: "text/markdown", toolId: "greet" });
  await resource({ uri: "secret://token", name: "Token Tail", toolId: "token-tail" });
  await resource({ uri: "broken://{x}", name: "Broken", toolId: "broken" });
  const all = (await op(admin, "dwizi.resources.list", {})).resources.map((r: { slug: string }) => r.slug);
  server = await createServer(admin, { name: "Templates", resourceIds: all });
  client = await hostedClient(server.endpoint, server.token);
}, 60_000);
afterAll(async () => {
  await client?.close();
  await stack?.dispose();
});

describe("listing", () => {
  test("templates are listed by resources/templates/list and not by resources/list", async () => {
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(["test://static-text", "test://static-binary", "secret://token"]);
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual([
      "test://template/{id}/data",
      "notes://{topic}{?lang}",
      "json://{name}",
      "items://{id}",
      "greet://{name}{?lang}",
      "greet-md://{name}",
      "broken://{x}",
    ]);
    expect(resourceTemplates[0]).toEqual({ uriTemplate: "test://template/{id}/data", name: "template", title: "Template", description: "Data by id", mimeType: "application/json" });
    // a tool-backed resource without a mimeType lets its output decide: none is listed
    expect(resourceTemplates[3]).toEqual({ uriTemplate: "items://{id}", name: "items", title: "Items" });
  });

  test("the management view shows the template, the tool and a null mimeType", async () => {
    const lookup = (await op(admin, "dwizi.tools.get", { slug: "lookup" })).tool;
    const items = (await op(admin, "dwizi.resources.get", { slug: "items" })).resource;
    expect(items).toMatchObject({ uri: "items://{id}", toolId: lookup.id, mimeType: null });
    expect("text" in items || "blob" in items).toBe(false);
  });
});

describe("reading templates", () => {
  test("a matching URI reads the template's text with the variables substituted", async () => {
    const read = await client.readResource({ uri: "test://template/123/data" });
    expect(read.contents).toEqual([{ uri: "test://template/123/data", mimeType: "application/json", text: '{"id":"123","templateTest":true,"data":"Data for ID: 123"}' }]);
  });

  test("values are percent-decoded; query variables are optional", async () => {
    expect(text((await client.readResource({ uri: "notes://road%20trips?lang=en" })).contents)).toBe("Notes on road trips in en.");
    expect(text((await client.readResource({ uri: "notes://cats" })).contents)).toBe("Notes on cats in .");
  });

  test("in a JSON resource a value is escaped as JSON string content and cannot break the document", async () => {
    const t = text((await client.readResource({ uri: `json://${encodeURIComponent('a"b\\c')}` })).contents);
    expect(JSON.parse(t)).toEqual({ name: 'a"b\\c' });
  });

  test("plain text and base64 blobs read as stored", async () => {
    expect((await client.readResource({ uri: "test://static-text" })).contents).toEqual([
      { uri: "test://static-text", mimeType: "text/plain", text: "This is the content of the static text resource." },
    ]);
    expect((await client.readResource({ uri: "test://static-binary" })).contents).toEqual([{ uri: "test://static-binary", mimeType: "image/png", blob: PNG }]);
  });

  test("a URI no resource or template serves is invalid params naming it", async () => {
    for (const uri of ["test://template/123/other", "test://template/1/2/data", "test://template//data", "notes://cats?unknown=1", "nothing://here"]) {
      const err = await client.readResource({ uri }).catch((e) => e);
      expect(err).toMatchObject({ code: -32602 });
      expect(err.message).toContain(`Resource not found: "${uri}"`);
    }
  });
});

describe("tool-backed resources", () => {
  test("reading runs the tool with the URI's variables as input; an object is JSON text", async () => {
    const read = await client.readResource({ uri: "items://42" });
    expect(read.contents).toEqual([{ uri: "items://42", mimeType: "application/json", text: '{"id":"42","found":true}' }]);
  });

  test("a string is text/plain unless the resource names its mimeType; query variables reach the tool", async () => {
    expect((await client.readResource({ uri: "greet://Ada" })).contents).toEqual([{ uri: "greet://Ada", mimeType: "text/plain", text: "Hello Ada" }]);
    expect(text((await client.readResource({ uri: "greet://Ada?lang=fr" })).contents)).toBe("Bonjour Ada");
    expect((await client.readResource({ uri: "greet-md://Ada" })).contents).toEqual([{ uri: "greet-md://Ada", mimeType: "text/markdown", text: "Hello Ada" }]);
  });

  test("the tool reads the server's secrets, and the call log records the read (secret redacted)", async () => {
    expect(text((await client.readResource({ uri: "secret://token" })).contents)).toBe("token ends in 9876");
    const { calls } = await op(admin, "dwizi.calls.list", { server: server.id });
    const lookup = (await op(admin, "dwizi.tools.get", { slug: "lookup" })).tool;
    const read = calls.find((c: { toolName: string }) => c.toolName === "resource:items");
    expect(read).toMatchObject({ toolId: lookup.id, status: "ok", input: { id: "42" } });
    const tail = calls.find((c: { toolName: string }) => c.toolName === "resource:token-tail");
    expect(tail).toMatchObject({ status: "ok" });
    expect(JSON.stringify(tail)).not.toContain("sk-test-9876");
  });

  test("a tool that fails is a JSON-RPC error saying so, and the server keeps serving", async () => {
    const err = await client.readResource({ uri: "broken://x" }).catch((e) => e);
    expect(err).toMatchObject({ code: -32603 });
    expect(err.message).toContain('Reading "broken://x" failed');
    expect(err.message).toContain("backend down");
    expect(text((await client.readResource({ uri: "items://7" })).contents)).toBe('{"id":"7","found":true}');
  });

  test("a URI whose variables the tool's input schema refuses is the tool's error, not a crash", async () => {
    await op(admin, "dwizi.tools.update", { slug: "lookup", patch: { inputSchema: { type: "object", properties: { id: { type: "string", pattern: "^[0-9]+$" } }, required: ["id"] } } });
    const err = await client.readResource({ uri: "items://abc" }).catch((e) => e);
    expect(err).toMatchObject({ code: -32603 });
    expect(err.message).toContain("Invalid arguments");
    expect(text((await client.readResource({ uri: "items://9" })).contents)).toBe('{"id":"9","found":true}');
  });
});

describe("changes", () => {
  test("a subscriber of a URI a template serves hears resources/updated when the template changes", async () => {
    const sub = await hostedClient(server.endpoint, server.token);
    try {
      const updated: string[] = [];
      sub.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
      await sub.subscribeResource({ uri: "notes://cats" });
      await op(admin, "dwizi.resources.update", { slug: "notes", patch: { text: "All about {{topic}}." } });
      await eventually(() => updated.includes("notes://cats"), 10_000, "resources/updated for notes://cats");
      expect(text((await sub.readResource({ uri: "notes://cats" })).contents)).toBe("All about cats.");
    } finally {
      await sub.close();
    }
  });

  test("a resource whose tool is deleted stops being served, as an attachment would", async () => {
    await tool("ephemeral", "export default async ({ a }) => 'got ' + a");
    const r = await resource({ uri: "ephemeral://{a}", name: "Ephemeral", toolId: "ephemeral" });
    await op(admin, "dwizi.mcp.update", { id: server.id, patch: { resourceIds: [...(await op(admin, "dwizi.resources.list", {})).resources.map((x: { id: string }) => x.id)] } });
    expect(text((await client.readResource({ uri: "ephemeral://1" })).contents)).toBe("got 1");
    await op(admin, "dwizi.tools.delete", { slug: "ephemeral" });
    expect((await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate)).not.toContain("ephemeral://{a}");
    expect(await client.readResource({ uri: "ephemeral://1" }).catch((e) => e.code)).toBe(-32602);
    await op(admin, "dwizi.resources.delete", { id: r.id });
  });
});

describe("validation", () => {
  const count = async () => (await op(admin, "dwizi.resources.list", {})).resources.length;

  test("bad templates are refused with VALIDATION_ERROR naming the problem, and nothing is written", async () => {
    const before = await count();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ uri: "docs://{topic" }, /not closed/],
      [{ uri: "docs://{a}{b}" }, /need literal text between them/],
      [{ uri: "docs://{path*}" }, /level 4/],
      [{ uri: "docs://{1st}" }, /not a variable name/],
      [{ uri: "docs://{a}/{a}" }, /appears twice/],
      [{ uri: "docs://x}" }, /closes no expression/],
      [{ uri: "docs://{topic}", text: "About {{subject}}" }, /\{\{subject\}\}, which is not a variable of the uri template/],
      [{ uri: "docs://plain", variables: { topic: { values: ["a"] } } }, /only a resource whose uri is a template has variables/],
      [{ uri: "docs://{topic}", variables: { subject: { values: ["a"] } } }, /has no variable "subject"/],
      [{ uri: "docs://{topic}", variables: { topic: { values: ["a"], complete: { toolId: "lookup" } } } }, /"values" or "complete", not both/],
      [{ uri: "docs://{topic}", toolId: "lookup" }, /exactly one of "text", "blob" \(base64\) or "toolId"/],
    ];
    for (const [over, why] of cases) {
      const e = await opError(admin, "dwizi.resources.create", { resource: { name: "Bad", text: "t", ...over } });
      expect(e.code).toBe("VALIDATION_ERROR");
      expect(e.message).toMatch(why);
    }
    expect(await count()).toBe(before);
  });

  test("an update to a bad template is refused and changes nothing", async () => {
    const before = (await op(admin, "dwizi.resources.get", { slug: "notes" })).resource;
    const e = await opError(admin, "dwizi.resources.update", { slug: "notes", patch: { uri: "notes://{topic}{lang}" } });
    expect(e).toMatchObject({ code: "VALIDATION_ERROR", message: expect.stringMatching(/need literal text between them/) });
    expect((await op(admin, "dwizi.resources.get", { slug: "notes" })).resource).toEqual(before);
  });

  test("another org's tool is not found, for toolId and for a variable's completion tool; nothing is written", async () => {
    const theirs = (await op(stack.clients.other, "dwizi.tools.create", { tool: { name: "Theirs", source: "export default async () => 'x'" } })).tool;
    const before = await count();
    for (const ref of [theirs.id, "theirs"]) {
      const e = await opError(admin, "dwizi.resources.create", { resource: { uri: "x://{a}", name: "Foreign", toolId: ref } });
      expect(e).toMatchObject({ code: "NOT_FOUND", message: `toolId: tool "${ref}" not found in this org` });
      const v = await opError(admin, "dwizi.resources.create", { resource: { uri: "x://{a}", name: "Foreign", text: "t", variables: { a: { complete: { toolId: ref } } } } });
      expect(v).toMatchObject({ code: "NOT_FOUND", message: `variables.a.complete.toolId: tool "${ref}" not found in this org` });
    }
    expect(await count()).toBe(before);
  });

  test("REST takes the same fields: a template created and a bad one refused with 400", async () => {
    const ok = await rest(stack.dzx.url, stack.keys.admin.key, "POST", "/resources", { uri: "rest://{id}", name: "Rest Template", toolId: "lookup" });
    expect(ok.status).toBe(201);
    expect(ok.json.resource).toMatchObject({ uri: "rest://{id}", mimeType: null });
    const bad = await rest(stack.dzx.url, stack.keys.admin.key, "POST", "/resources", { uri: "rest://{id", name: "Rest Bad", text: "t" });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: "VALIDATION_ERROR", message: expect.stringContaining("not closed") });
    await op(admin, "dwizi.resources.delete", { slug: "rest-template" });
  });
});
