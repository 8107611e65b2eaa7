/**
 * Prompts with any content (issue 14, point 4): a message's content is text or one
 * MCP content block (text, image, audio, embedded resource, resource_link), checked
 * on create and update with errors naming the message and field and nothing
 * written; prompts/get returns each block as MCP expects, `{{arg}}` filled in its
 * strings (not in base64 data).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { op, opError, rest } from "../support/client.ts";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { createServer, hostedClient, type HostedServer } from "../hosted/support.ts";

setDefaultTimeout(60_000);

/** A 1x1 red PNG. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const WAV = Buffer.from("RIFF$\u0000\u0000\u0000WAVEfmt ").toString("base64");

let stack: Stack<"admin">;
let admin: Client;
let server: HostedServer;
let client: Client;

const PROMPTS = [
  { name: "Simple", slug: "test_simple_prompt", messages: [{ role: "user", content: "This is a simple prompt for testing." }] },
  {
    name: "With image",
    slug: "test_prompt_with_image",
    messages: [
      { role: "user", content: { type: "image", data: PNG, mimeType: "image/png" } },
      { role: "user", content: "Please analyze the image above." },
    ],
  },
  {
    name: "With embedded resource",
    slug: "test_prompt_with_embedded_resource",
    arguments: [{ name: "resourceUri", required: true }],
    messages: [
      { role: "user", content: { type: "resource", resource: { uri: "{{resourceUri}}", mimeType: "text/plain", text: "Embedded resource content for testing." } } },
      { role: "user", content: { type: "text", text: "Please process {{ resourceUri }} above." } },
    ],
  },
  {
    name: "Every other block",
    slug: "every_block",
    arguments: [{ name: "topic" }],
    messages: [
      { role: "assistant", content: { type: "audio", data: WAV, mimeType: "audio/wav", annotations: { audience: ["user"], priority: 0.5 } } },
      { role: "user", content: { type: "resource_link", uri: "docs://{{topic}}", name: "{{topic}} guide", mimeType: "text/markdown", size: 12 } },
      { role: "user", content: { type: "resource", resource: { uri: "file:///logo.png", mimeType: "image/png", blob: PNG } } },
    ],
  },
];

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] });
  admin = stack.clients.admin;
  for (const prompt of PROMPTS) await op(admin, "dwizi.prompts.create", { prompt });
  server = await createServer(admin, { name: "Prompter", promptIds: PROMPTS.map((p) => p.slug) });
  client = await hostedClient(server.endpoint, server.token);
}, 60_000);
afterAll(async () => {
  await client?.close();
  await stack?.dispose();
});

describe("prompts/get returns each message's content as one MCP block", () => {
  test("text content becomes a text block (prompts-get-simple)", async () => {
    expect(await client.getPrompt({ name: "test_simple_prompt" })).toEqual({
      messages: [{ role: "user", content: { type: "text", text: "This is a simple prompt for testing." } }],
    });
  });

  test("an image block is returned as stored (prompts-get-with-image)", async () => {
    const r = await client.getPrompt({ name: "test_prompt_with_image" });
    expect(r.messages).toEqual([
      { role: "user", content: { type: "image", data: PNG, mimeType: "image/png" } },
      { role: "user", content: { type: "text", text: "Please analyze the image above." } },
    ]);
  });

  test("an embedded resource takes its uri from the arguments (prompts-get-embedded-resource)", async () => {
    const r = await client.getPrompt({ name: "test_prompt_with_embedded_resource", arguments: { resourceUri: "test://example-resource" } });
    expect(r.messages).toEqual([
      { role: "user", content: { type: "resource", resource: { uri: "test://example-resource", mimeType: "text/plain", text: "Embedded resource content for testing." } } },
      { role: "user", content: { type: "text", text: "Please process test://example-resource above." } },
    ]);
  });

  test("audio, resource_link and a blob resource; placeholders filled in strings, base64 left alone", async () => {
    const r = await client.getPrompt({ name: "every_block", arguments: { topic: "billing" } });
    expect(r.messages).toEqual([
      { role: "assistant", content: { type: "audio", data: WAV, mimeType: "audio/wav", annotations: { audience: ["user"], priority: 0.5 } } },
      { role: "user", content: { type: "resource_link", uri: "docs://billing", name: "billing guide", mimeType: "text/markdown", size: 12 } },
      { role: "user", content: { type: "resource", resource: { uri: "file:///logo.png", mimeType: "image/png", blob: PNG } } },
    ]);
  });

  test("the management view shows blocks as stored", async () => {
    const { prompt } = await op(admin, "dwizi.prompts.get", { slug: "test_prompt_with_image" });
    expect(prompt.messages[0]).toEqual({ role: "user", content: { type: "image", data: PNG, mimeType: "image/png" } });
  });
});

describe("bad content is refused naming the message and field, and nothing is written", () => {
  const BAD: [content: unknown, expected: string][] = [
    [{ type: "video", data: PNG }, 'messages[0].content.type "video" is not a content block type'],
    [{ type: "image", data: PNG }, "messages[0].content.mimeType is required for image"],
    [{ type: "image", data: "not base64!", mimeType: "image/png" }, "messages[0].content.data is not base64"],
    [{ type: "audio", data: WAV, mimeType: "wav" }, 'messages[0].content.mimeType "wav" is not a MIME type'],
    [{ type: "resource", resource: { uri: "x://y", text: "a", blob: PNG } }, "messages[0].content.resource needs exactly one of text or blob"],
    [{ type: "resource", resource: { text: "a" } }, "messages[0].content.resource.uri is required for an embedded resource"],
    [{ type: "resource_link", uri: "docs://a" }, "messages[0].content.name is required for a resource_link"],
    [{ type: "text", text: "hi", colour: "red" }, "messages[0].content.colour is not a field of text"],
    [{ type: "text", text: "hi", annotations: { priority: 2 } }, "messages[0].content.annotations.priority must be a number from 0 to 1"],
    [{ type: "text", text: "Hello {{who}}" }, "messages[0] uses {{who}}, which is not a declared argument"],
    [{ type: "resource_link", uri: "docs://{{page}}", name: "x" }, "messages[0] uses {{page}}"],
    [{ text: "no type" }, "prompt.messages.0.content.type"],
  ];

  test("on create", async () => {
    const before = await op(admin, "dwizi.prompts.list", {});
    for (const [content, expected] of BAD) {
      const e = await opError(admin, "dwizi.prompts.create", { prompt: { name: "Bad", slug: "bad", messages: [{ role: "user", content }] } });
      expect(e.code).toBe("VALIDATION_ERROR");
      expect(e.message).toContain(expected);
    }
    const notAString = await opError(admin, "dwizi.prompts.create", { prompt: { name: "Bad", slug: "bad", messages: [{ role: "user", content: 42 }] } });
    expect(notAString).toMatchObject({ code: "VALIDATION_ERROR" });
    expect(notAString.message).toContain("prompt.messages.0.content");
    expect(await op(admin, "dwizi.prompts.list", {})).toEqual(before);
  });

  test("on update, the second message named; the prompt is unchanged", async () => {
    const before = await op(admin, "dwizi.prompts.get", { slug: "test_prompt_with_image" });
    const e = await opError(admin, "dwizi.prompts.update", {
      slug: "test_prompt_with_image",
      patch: { messages: [{ role: "user", content: "fine" }, { role: "user", content: { type: "image", data: PNG } }] },
    });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toContain("messages[1].content.mimeType is required for image");
    expect(await op(admin, "dwizi.prompts.get", { slug: "test_prompt_with_image" })).toEqual(before);
  });

  test("over REST too (400 VALIDATION_ERROR)", async () => {
    const r = await rest(stack.dzx.url, stack.keys.admin.key, "POST", "/prompts", { name: "Bad", messages: [{ role: "user", content: { type: "image", mimeType: "image/png" } }] });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: "VALIDATION_ERROR", message: "messages[0].content.data is required for image" });
  });
});
