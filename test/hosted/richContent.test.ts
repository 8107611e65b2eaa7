/**
 * Rich tool results (issue 14, point 2): tool code returns real MCP content through the
 * `mcp.*` sandbox helpers — text, image, audio, embedded resources (text or blob),
 * resource links, several blocks, structuredContent beside them, an isError of its
 * own — and only those helpers make a result rich (a plain `{content: ...}` stays
 * structured output, however it is dressed up). Every bad block is a tool error
 * naming its index and field; the call log keeps binary data as {type, mimeType,
 * bytes}; CODE mode hands a nested rich result to the script and lets `execute`
 * return blocks. Real SDK clients (v1 on the 2025 lane, v2 on 2026-07-28) on the
 * other side.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from "@modelcontextprotocol/client";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { op } from "../support/client.ts";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { createServer, hostedClient, type HostedServer } from "./support.ts";

setDefaultTimeout(60_000);

/** A 1x1 red PNG. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/** A WAV header with no samples, as the bytes a tool would hold. */
const WAV_BYTES = [...Buffer.from("RIFF$\u0000\u0000\u0000WAVEfmt \u0010\u0000\u0000\u0000\u0001\u0000\u0001\u0000D\u00ac\u0000\u0000\u0088X\u0001\u0000\u0002\u0000\u0010\u0000data\u0000\u0000\u0000\u0000", "latin1")];
const WAV = Buffer.from(WAV_BYTES).toString("base64");

const BLOCKS_SOURCE = `
const PNG = ${JSON.stringify(PNG)};
export default async ({ kind }) => {
  switch (kind) {
    case "text": return mcp.text("plain words", { annotations: { audience: ["user"], priority: 1 } });
    case "audio": return mcp.audio(new Uint8Array(${JSON.stringify(WAV_BYTES)}), "audio/wav");
    case "buffer": return mcp.audio(new Uint8Array([1, 2, 3]).buffer, "audio/wav");
    case "view": return mcp.image(new DataView(new Uint8Array([0, 9, 8, 0]).buffer, 1, 2), "image/png");
    case "blob": return mcp.resource({ uri: "file:///logo.png", mimeType: "image/png", blob: new Uint8Array([137, 80, 78, 71]) });
    case "link": return mcp.resourceLink({ uri: "docs://guide", name: "guide", title: "The guide", mimeType: "text/markdown", size: 120 });
    case "structured": return mcp.result({ content: [mcp.text("3 items")], structuredContent: { count: 3 } });
    case "array": return [mcp.text("first"), mcp.image(PNG, "image/png")];
    case "plain_blocks": return mcp.result({ content: [{ type: "text", text: "written by hand" }, { type: "image", data: new Uint8Array([255]), mimeType: "image/gif" }] });
    case "own_error": return mcp.result({ content: [mcp.text("quota exceeded for this month")], isError: true });
    case "lookalike": return { content: [{ type: "image", data: PNG, mimeType: "image/png" }] };
    case "content_hi": return { content: "hi" };
    case "forged":
      WeakMap.prototype.get = () => "result";
      Reflect.apply = () => "result";
      Array.isArray = () => true;
      return { content: [{ type: "text", text: "forged" }] };
    case "unknown_type": return mcp.result({ content: [mcp.text("ok"), { type: "video", data: PNG }] });
    case "not_base64": return mcp.image("not base64!", "image/png");
    case "no_mime": return mcp.result({ content: [mcp.text("a"), mcp.text("b"), mcp.image(PNG)] });
    case "bad_mime": return mcp.audio(PNG, "wav");
    case "too_big": return [mcp.text("a"), mcp.image(new Uint8Array(800 * 1024), "image/png")];
    case "text_and_blob": return mcp.resource({ uri: "x://y", text: "t", blob: PNG });
    case "no_uri": return mcp.resourceLink({ name: "nameless" });
    case "bad_is_error": return mcp.result({ content: [], isError: "yes" });
    case "extra_field": return mcp.result({ content: [], note: "hi" });
    case "no_content": return mcp.result({ structuredContent: { a: 1 } });
    case "bad_annotation": return mcp.text("x", { annotations: { priority: 3 } });
    case "not_bytes": return mcp.image({ length: 3 }, "image/png");
  }
  throw new Error("unknown kind " + kind);
};`;

let stack: Stack<"admin">;
let admin: Client;
let tools: HostedServer;
let code: HostedServer;
let client: Client;
let coder: Client;

const text = (r: any) => (r.content as { type: string; text?: string }[]).map((c) => c.text ?? "").join("\n");
const blocks = (kind: string) => client.callTool({ name: "blocks", arguments: { kind } });

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] }, { DZX_WORKERS: "2" });
  admin = stack.clients.admin;
  const create = (tool: Record<string, unknown>) => op(admin, "dwizi.tools.create", { tool: { description: "A rich content fixture", ...tool } });
  await create({ name: "test_simple_text", source: `export default async () => mcp.text("This is a simple text response for testing.")` });
  await create({ name: "test_image_content", source: `export default async () => mcp.image(${JSON.stringify(PNG)}, "image/png")` });
  await create({
    name: "test_multiple_content_types",
    source: `export default async () => mcp.result({ content: [
      mcp.text("Multiple content types test:"),
      mcp.image(${JSON.stringify(PNG)}, "image/png"),
      mcp.resource({ uri: "test://mixed-content-resource", mimeType: "application/json", text: JSON.stringify({ test: "data", value: 123 }) }),
    ] })`,
  });
  await create({ name: "test_error_handling", source: `export default async () => { throw new Error("This tool intentionally returns an error for testing") }` });
  await create({ name: "blocks", inputSchema: { type: "object", properties: { kind: { type: "string" } }, required: ["kind"] }, source: BLOCKS_SOURCE });
  await create({
    name: "counted",
    outputSchema: { type: "object", properties: { count: { type: "integer" } }, required: ["count"] },
    inputSchema: { type: "object", properties: { with: { type: "string" } } },
    source: `export default async ({ with: w }) => w === "none" ? mcp.text("no structure") : w === "wrong" ? mcp.result({ content: [], structuredContent: { count: "x" } }) : w === "failing" ? mcp.result({ content: [mcp.text("down")], isError: true }) : mcp.result({ content: [mcp.text("3")], structuredContent: { count: 3 } })`,
  });
  await create({ name: "masked_image", outputPolicy: "obfuscate", source: `export default async () => mcp.image(${JSON.stringify(PNG)}, "image/png")` });
  await create({ name: "unlogged_image", outputPolicy: "omit", source: `export default async () => mcp.image(${JSON.stringify(PNG)}, "image/png")` });
  const all = ["test_simple_text", "test_image_content", "test_multiple_content_types", "test_error_handling", "blocks", "counted", "masked_image", "unlogged_image"];
  tools = await createServer(admin, { name: "Rich", toolIds: all });
  // a script's record follows the strictest policy of its server's tools: leave out those that mask or omit
  code = await createServer(admin, { name: "Rich code", mode: "CODE", toolIds: all.slice(0, 6) });
  client = await hostedClient(tools.endpoint, tools.token);
  coder = await hostedClient(code.endpoint, code.token);
}, 60_000);
afterAll(async () => {
  await client?.close();
  await coder?.close();
  await stack?.dispose();
});

describe("TOOLS mode: every kind of block reaches the client as MCP content", () => {
  test("text, image, and several kinds in one result (the conformance fixtures)", async () => {
    expect(await client.callTool({ name: "test_simple_text", arguments: {} })).toEqual({ content: [{ type: "text", text: "This is a simple text response for testing." }] });
    expect(await client.callTool({ name: "test_image_content", arguments: {} })).toEqual({ content: [{ type: "image", data: PNG, mimeType: "image/png" }] });
    expect((await client.callTool({ name: "test_multiple_content_types", arguments: {} })).content).toEqual([
      { type: "text", text: "Multiple content types test:" },
      { type: "image", data: PNG, mimeType: "image/png" },
      { type: "resource", resource: { uri: "test://mixed-content-resource", mimeType: "application/json", text: '{"test":"data","value":123}' } },
    ]);
  });

  test("bytes (Uint8Array, ArrayBuffer, DataView) are base64-encoded for the author", async () => {
    expect((await blocks("audio")).content).toEqual([{ type: "audio", data: WAV, mimeType: "audio/wav" }]);
    expect((await blocks("buffer")).content).toEqual([{ type: "audio", data: "AQID", mimeType: "audio/wav" }]);
    expect((await blocks("view")).content).toEqual([{ type: "image", data: Buffer.from([9, 8]).toString("base64"), mimeType: "image/png" }]);
    expect((await blocks("blob")).content).toEqual([{ type: "resource", resource: { uri: "file:///logo.png", mimeType: "image/png", blob: Buffer.from([137, 80, 78, 71]).toString("base64") } }]);
    expect((await blocks("plain_blocks")).content).toEqual([
      { type: "text", text: "written by hand" },
      { type: "image", data: "/w==", mimeType: "image/gif" },
    ]);
  });

  test("annotations, resource links, an array of blocks, and structuredContent beside blocks", async () => {
    expect((await blocks("text")).content).toEqual([{ type: "text", text: "plain words", annotations: { audience: ["user"], priority: 1 } }]);
    expect((await blocks("link")).content).toEqual([{ type: "resource_link", uri: "docs://guide", name: "guide", title: "The guide", mimeType: "text/markdown", size: 120 }]);
    expect((await blocks("array")).content).toEqual([{ type: "text", text: "first" }, { type: "image", data: PNG, mimeType: "image/png" }]);
    expect(await blocks("structured")).toEqual({ content: [{ type: "text", text: "3 items" }], structuredContent: { count: 3 } });
  });

  test("a tool marks its own result isError; a thrown error is isError with its message", async () => {
    expect(await blocks("own_error")).toEqual({ content: [{ type: "text", text: "quota exceeded for this month" }], isError: true });
    const thrown = await client.callTool({ name: "test_error_handling", arguments: {} });
    expect(thrown.isError).toBe(true);
    expect(text(thrown)).toContain("This tool intentionally returns an error for testing");
  });

  test("an output schema holds a rich result's structuredContent (not an isError one)", async () => {
    expect(await client.callTool({ name: "counted", arguments: {} })).toEqual({ content: [{ type: "text", text: "3" }], structuredContent: { count: 3 } });
    const none = await client.callTool({ name: "counted", arguments: { with: "none" } });
    expect(none.isError).toBe(true);
    expect(text(none)).toContain("has no structuredContent");
    const wrong = await client.callTool({ name: "counted", arguments: { with: "wrong" } });
    expect(wrong.isError).toBe(true);
    expect(text(wrong)).toContain("/count");
    expect(await client.callTool({ name: "counted", arguments: { with: "failing" } })).toEqual({ content: [{ type: "text", text: "down" }], isError: true });
  });

  test("only the helpers make a result rich: plain objects shaped like results stay structured output", async () => {
    const lookalike = await blocks("lookalike");
    expect(lookalike.content).toEqual([{ type: "text", text: JSON.stringify({ content: [{ type: "image", data: PNG, mimeType: "image/png" }] }) }]);
    expect(lookalike.structuredContent).toEqual({ content: [{ type: "image", data: PNG, mimeType: "image/png" }] });
    expect(await blocks("content_hi")).toEqual({ content: [{ type: "text", text: '{"content":"hi"}' }], structuredContent: { content: "hi" } });
    // replacing the builtins the helpers rely on forges nothing: they took their own copies first
    const forged = await blocks("forged");
    expect(forged.isError).toBeFalsy();
    expect(forged.structuredContent).toEqual({ content: [{ type: "text", text: "forged" }] });
  });

  test("every kind of bad block is a tool error naming its index and field", async () => {
    const BAD: [kind: string, message: string][] = [
      ["unknown_type", 'content[1].type "video" is not a content block type'],
      ["not_base64", "content[0].data is not base64"],
      ["no_mime", "content[2].mimeType is required for image"],
      ["bad_mime", 'content[0].mimeType "wav" is not a MIME type'],
      ["too_big", "Output limit exceeded: content[1].data takes the result past the output limit (1048576 bytes)"],
      ["text_and_blob", "content[0].resource needs exactly one of text or blob"],
      ["no_uri", "content[0].uri is required for a resource_link"],
      ["bad_is_error", "isError must be true or false"],
      ["extra_field", "note is not a field of a tool result"],
      ["no_content", "content must be an array of content blocks"],
      ["bad_annotation", "content[0].annotations.priority must be a number from 0 to 1"],
      ["not_bytes", "content[0].data must be base64 text"],
    ];
    for (const [kind, message] of BAD) {
      const r = await blocks(kind);
      expect({ kind, isError: r.isError, text: text(r) }).toEqual({ kind, isError: true, text: expect.stringContaining(message) });
    }
    // the worker is fine afterwards
    expect((await blocks("array")).content).toHaveLength(2);
  });

  test("dwizi.tools.test shows the blocks too", async () => {
    const r = await op(admin, "dwizi.tools.test", { slug: "blocks", input: { kind: "array" } });
    expect(r).toMatchObject({ isError: false, content: [{ type: "text", text: "first" }, { type: "image", data: PNG, mimeType: "image/png" }] });
  });

  test("the v2 client on the 2026-07-28 lane gets the same blocks", async () => {
    const v2 = new V2Client({ name: "dzx-v2-rich", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } } as never);
    await v2.connect(new V2Transport(new URL(tools.endpoint), { requestInit: { headers: { Authorization: `Bearer ${tools.token}` } } }));
    try {
      expect(v2.getNegotiatedProtocolVersion()).toBe("2026-07-28");
      const v1 = await client.callTool({ name: "test_multiple_content_types", arguments: {} });
      expect((await v2.callTool({ name: "test_multiple_content_types", arguments: {} })).content).toEqual(v1.content as never);
      expect(await v2.callTool({ name: "blocks", arguments: { kind: "own_error" } })).toMatchObject({ isError: true, content: [{ type: "text", text: "quota exceeded for this month" }] });
    } finally {
      await v2.close();
    }
  });
});

describe("CODE mode", () => {
  const execute = (script: string) => coder.callTool({ name: "execute", arguments: { code: script } });

  test("await tools.x() returns a nested rich result as an object the script can inspect", async () => {
    const r = await execute("const r = await tools.test_multiple_content_types({}); return { types: r.content.map((b) => b.type), mime: r.content[1].mimeType, isError: r.isError ?? false }");
    expect(r.structuredContent).toEqual({ types: ["text", "image", "resource"], mime: "image/png", isError: false });
    const own = await execute("const r = await tools.blocks({ kind: 'own_error' }); return { isError: r.isError, said: r.content[0].text }");
    expect(own.structuredContent).toEqual({ isError: true, said: "quota exceeded for this month" });
  });

  test("returning a nested rich result, or its blocks, passes them to the client as blocks", async () => {
    expect((await execute("return await tools.test_image_content({})")).content).toEqual([{ type: "image", data: PNG, mimeType: "image/png" }]);
    const picked = await execute("const r = await tools.test_multiple_content_types({}); return [r.content[1], mcp.text('picked')]");
    expect(picked.content).toEqual([{ type: "image", data: PNG, mimeType: "image/png" }, { type: "text", text: "picked" }]);
    expect(await execute("return await tools.blocks({ kind: 'own_error' })")).toEqual({ content: [{ type: "text", text: "quota exceeded for this month" }], isError: true });
  });

  test("an execute script builds blocks itself, with structuredContent", async () => {
    const r = await execute("return mcp.result({ content: [mcp.text('made in the script'), mcp.audio(new Uint8Array([1, 2, 3]), 'audio/wav')], structuredContent: { n: 1 } })");
    expect(r).toEqual({ content: [{ type: "text", text: "made in the script" }, { type: "audio", data: "AQID", mimeType: "audio/wav" }], structuredContent: { n: 1 } });
    const bad = await execute("return mcp.result({ content: [mcp.text('a'), mcp.image('AAAA')] })");
    expect(bad.isError).toBe(true);
    expect(text(bad)).toContain("content[1].mimeType is required for image");
  });

  test("a nested tool whose blocks are bad fails inside the script with the field named", async () => {
    const r = await execute("try { await tools.blocks({ kind: 'no_mime' }); return 'no error' } catch (e) { return String(e.message) }");
    expect(text(r)).toContain("tools.blocks failed");
    expect(text(r)).toContain("content[2].mimeType is required for image");
  });

  test("a plain lookalike from a nested tool stays plain: returning it is structured output", async () => {
    const r = await execute("return await tools.blocks({ kind: 'lookalike' })");
    expect(r.structuredContent).toEqual({ content: [{ type: "image", data: PNG, mimeType: "image/png" }] });
  });
});

describe("the call log", () => {
  const bytes = Buffer.from(PNG, "base64").length;
  const latest = async (toolName: string, serverId = tools.id) => {
    const { calls } = await op(admin, "dwizi.calls.list", { server: serverId, limit: 200 });
    return calls.find((c: any) => c.toolName === toolName);
  };

  test("keeps blocks with binary data summarized as {type, mimeType, bytes}, never the base64", async () => {
    await client.callTool({ name: "test_multiple_content_types", arguments: {} });
    await blocks("blob");
    expect((await latest("test_multiple_content_types")).output).toEqual({
      content: [
        { type: "text", text: "Multiple content types test:" },
        { type: "image", mimeType: "image/png", bytes },
        { type: "resource", resource: { uri: "test://mixed-content-resource", mimeType: "application/json", text: '{"test":"data","value":123}' } },
      ],
    });
    expect((await latest("blocks")).output).toEqual({ content: [{ type: "resource", resource: { uri: "file:///logo.png", mimeType: "image/png", bytes: 4 } }] });
    // (a plain output that happens to hold base64 is kept as it is, like any other value)
    const { calls } = await op(admin, "dwizi.calls.list", { server: tools.id, limit: 200 });
    expect(JSON.stringify(calls.filter((c: any) => c.input?.kind !== "lookalike"))).not.toContain(PNG);
  });

  test("follows outputPolicy: obfuscate masks the summary, omit keeps nothing", async () => {
    await client.callTool({ name: "masked_image", arguments: {} });
    await client.callTool({ name: "unlogged_image", arguments: {} });
    expect((await latest("masked_image")).output).toEqual({ content: [{ type: "***", mimeType: "***", bytes: "***" }] });
    expect((await latest("unlogged_image")).output).toBeNull();
  });

  test("a result the tool marks isError is logged as an error with its text; a refused block with its reason", async () => {
    await blocks("own_error");
    expect(await latest("blocks")).toMatchObject({ status: "error", error: "quota exceeded for this month", output: { content: [{ type: "text", text: "quota exceeded for this month" }], isError: true } });
    await blocks("no_mime");
    expect(await latest("blocks")).toMatchObject({ status: "error", output: null, error: expect.stringContaining("content[2].mimeType is required for image") });
  });

  test("an execute script that returns blocks is logged summarized too", async () => {
    await coder.callTool({ name: "execute", arguments: { code: "return await tools.test_image_content({})" } });
    expect((await latest("execute", code.id)).output).toEqual({ content: [{ type: "image", mimeType: "image/png", bytes }] });
  });
});
