/**
 * `dzx dev <dir>` (issue 16.2): a folder served as an MCP server — tools,
 * resources and prompts discovered from disk, seed 004's context injection,
 * /health, /status and the dashboard — and `dzx init` then `dzx dev` of what it wrote.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { postTo } from "../support/client.ts";
import { BASIC, devClient, servedFolder } from "./support.ts";

setDefaultTimeout(60_000);

// seed 004's context example, verbatim
const SEED_CONTEXT = `import type { IncomingMessage } from "http";

export default function createContext(req: IncomingMessage) {
  return {
    requestId: req.headers["x-request-id"],
    userId: req.headers["x-user-id"],
  };
}
`;

const served = servedFolder({ ...BASIC, "src/context.ts": SEED_CONTEXT });

test("lists the folder's tools with their exported description and schema, the file name as the tool's name", async () => {
  const client = await devClient(served.dev.endpoint);
  try {
    expect(client.getServerVersion()).toMatchObject({ name: "basic", version: "1.2.3" });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["add", "user-profile"]);
    expect(tools.find((t) => t.name === "add")).toMatchObject({
      description: "Adds two numbers",
      inputSchema: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] },
    });
    const r = await client.callTool({ name: "add", arguments: { a: 2, b: 40 } });
    expect(r.structuredContent).toEqual({ sum: 42 });
    const bad = await client.callTool({ name: "add", arguments: { a: "x", b: 2 } });
    expect(bad.isError).toBe(true);
    expect((bad.content as { text: string }[])[0].text).toContain('"a" must be number');
  } finally {
    await client.close();
  }
});

test("context.ts (seed 004's example as written) receives the request's headers; its result is the tool's second argument", async () => {
  const r = await postTo(served.dev.endpoint, null, { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "user-profile", arguments: {} } }, { accept: "application/json", "x-request-id": "req-123", "x-user-id": "u-42" });
  expect(r.status).toBe(200);
  expect(r.json.result.structuredContent).toEqual({ userId: "u-42", requestId: "req-123" });
  // seed 004 calls without initialize, with dotted method names too
  const listed = await postTo(served.dev.endpoint, null, { jsonrpc: "2.0", id: 8, method: "tools.list" }, { accept: "application/json" });
  expect(listed.json.result.tools).toHaveLength(2);
});

test("resources are listed as resource://<name>, readable by that URI or by the file path; MIME type from the extension; binary files as blobs", async () => {
  const client = await devClient(served.dev.endpoint);
  try {
    const { resources } = await client.listResources();
    expect(resources).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ uri: "resource://getting-started", name: "getting-started", mimeType: "text/markdown" }),
        expect.objectContaining({ uri: "resource://logo", name: "logo", mimeType: "image/png" }),
      ]),
    );
    const text = await client.readResource({ uri: "resource://getting-started" });
    expect(text.contents[0]).toMatchObject({ uri: "resource://getting-started", mimeType: "text/markdown", text: "# Getting started\nHello.\n" });
    const byPath = await client.readResource({ uri: "resources/getting-started.md" });
    expect(byPath.contents[0]).toMatchObject({ text: "# Getting started\nHello.\n" });
    const blob = await client.readResource({ uri: "resource://logo" });
    expect(blob.contents[0]).toMatchObject({ mimeType: "image/png", blob: readFileSync(join(served.folder.dir, "resources/logo.png")).toString("base64") });
    await expect(client.readResource({ uri: "resource://nope" })).rejects.toThrow(/Resource not found/);
  } finally {
    await client.close();
  }
});

test("prompts come from Markdown: frontmatter description and arguments; prompts/get strips the frontmatter and fills {{arg}}", async () => {
  const client = await devClient(served.dev.endpoint);
  try {
    const { prompts } = await client.listPrompts();
    expect(prompts).toEqual([{ name: "summarize", description: "Summarize a text", arguments: [{ name: "text", required: true }, { name: "style" }] }]);
    const got = await client.getPrompt({ name: "summarize", arguments: { text: "the news", style: "dry" } });
    expect(got.messages).toEqual([{ role: "user", content: { type: "text", text: "Summarize the news in a dry way." } }]);
    await expect(client.getPrompt({ name: "summarize", arguments: {} })).rejects.toThrow(/requires argument "text"/);
  } finally {
    await client.close();
  }
});

test("/health answers, /status counts tools, resources, prompts and broken files", async () => {
  expect(await (await fetch(`${served.dev.url}/health`)).json()).toEqual({ status: "ok" });
  const status = await (await fetch(`${served.dev.url}/status`)).json() as any;
  expect(status).toMatchObject({ name: "basic", version: "1.2.3", endpoint: "/mcp/basic", tools: 2, resources: 2, prompts: 1, broken: 0 });
});

test("the dashboard shows the server, its tools with schemas, resources, prompts and the recent calls with input, output and logs", async () => {
  await postTo(served.dev.endpoint, null, { jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "add", arguments: { a: 20, b: 22 } } }, { accept: "application/json" });
  const res = await fetch(`${served.dev.url}/`);
  expect(res.headers.get("content-type")).toContain("text/html");
  const html = await res.text();
  expect(html).toContain("<h1>basic <small>1.2.3</small></h1>");
  expect(html).toContain('id="tool-add"');
  expect(html).toContain("Adds two numbers");
  expect(html).toContain("&#34;required&#34;"); // the schema, escaped
  expect(html).toContain("resource://getting-started");
  expect(html).toContain("<code>summarize</code>");
  // the call: input, output and its console line
  expect(html).toMatch(/<td>add<\/td><td>ok<\/td>/);
  expect(html).toContain("&#34;sum&#34;: 42");
  expect(html).toContain("[log] adding 20 22");
});

test("another method on the MCP endpoint is 405 naming the ones it serves", async () => {
  const res = await fetch(served.dev.endpoint, { method: "PUT", body: "{}" });
  expect(res.status).toBe(405);
  expect(res.headers.get("allow")).toBe("GET, POST, DELETE");
  expect(((await res.json()) as any).error.code).toBe("METHOD_NOT_ALLOWED");
});

test("a path whose percent-encoding does not decode is a JSON 400", async () => {
  const res = await fetch(`${served.dev.url}/mcp/%E0%A4%A`, { method: "POST", body: "{}" });
  expect(res.status).toBe(400);
  expect(((await res.json()) as any).error.code).toBe("VALIDATION_ERROR");
});

test("an unknown path names what the dev server serves", async () => {
  const res = await fetch(`${served.dev.url}/mcp/other`, { method: "POST", body: "{}" });
  expect(res.status).toBe(404);
  expect(((await res.json()) as any).error.message).toContain("/mcp/basic");
});
