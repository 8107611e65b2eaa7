/**
 * Tool-backed resources whose tool returns explicit MCP blocks (issue 14, point 5,
 * with point 2's sandbox helpers `mcp.image`, `mcp.resource`, `mcp.result`): binary
 * blocks read as blob contents, embedded text and blobs keep their own uri, and a
 * block resource contents cannot hold, or a result the tool marks isError, is a
 * JSON-RPC error naming it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { op } from "../support/client.ts";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { createServer, hostedClient } from "./support.ts";

setDefaultTimeout(60_000);

// the first bytes of a PNG and of a PDF, and their base64
const PNG_BYTES = "[137, 80, 78, 71, 13, 10, 26, 10]";
const PNG_B64 = "iVBORw0KGgo=";
const PDF_BYTES = "[37, 80, 68, 70]";
const PDF_B64 = "JVBERg==";

let stack: Stack<"admin">;
let client: Client;

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] });
  const admin = stack.clients.admin;
  const backed = async (slug: string, uri: string, source: string) => {
    await op(admin, "dwizi.tools.create", { tool: { name: slug, slug, source } });
    await op(admin, "dwizi.resources.create", { resource: { uri, name: slug, slug, toolId: slug } });
  };
  await backed("image", "image://{name}", `export default async () => mcp.image(new Uint8Array(${PNG_BYTES}), "image/png")`);
  await backed("audio", "audio://clip", `export default async () => mcp.audio(new Uint8Array(${PNG_BYTES}).buffer, "audio/wav")`);
  await backed(
    "report",
    "report://{id}",
    `export default async ({ id }) => mcp.result({ content: [
      mcp.text("Report " + id),
      mcp.resource({ uri: "files://report-" + id + ".pdf", blob: new Uint8Array(${PDF_BYTES}), mimeType: "application/pdf" }),
      mcp.resource({ uri: "files://report-" + id + ".txt", text: "plain " + id, mimeType: "text/plain" }),
    ] })`,
  );
  await backed("link", "link://x", `export default async () => mcp.resourceLink({ uri: "files://elsewhere", name: "elsewhere" })`);
  await backed("refusal", "refusal://x", `export default async () => mcp.result({ content: [mcp.text("not today")], isError: true })`);
  const server = await createServer(admin, { name: "Blobs", resourceIds: ["image", "audio", "report", "link", "refusal"] });
  client = await hostedClient(server.endpoint, server.token);
}, 60_000);
afterAll(async () => {
  await client?.close();
  await stack?.dispose();
});

describe("binary blocks from a tool", () => {
  test("an image block is a blob with the block's mimeType", async () => {
    expect((await client.readResource({ uri: "image://logo" })).contents).toEqual([{ uri: "image://logo", mimeType: "image/png", blob: PNG_B64 }]);
  });

  test("an audio block is a blob too", async () => {
    expect((await client.readResource({ uri: "audio://clip" })).contents).toEqual([{ uri: "audio://clip", mimeType: "audio/wav", blob: PNG_B64 }]);
  });

  test("several blocks are several contents; embedded resources keep their own uri", async () => {
    expect((await client.readResource({ uri: "report://7" })).contents).toEqual([
      { uri: "report://7", mimeType: "text/plain", text: "Report 7" },
      { uri: "files://report-7.pdf", mimeType: "application/pdf", blob: PDF_B64 },
      { uri: "files://report-7.txt", mimeType: "text/plain", text: "plain 7" },
    ]);
  });

  test("a resource_link block, or a result the tool marks isError, is a JSON-RPC error naming it", async () => {
    const link = await client.readResource({ uri: "link://x" }).catch((e) => e);
    expect(link).toMatchObject({ code: -32603, message: expect.stringContaining('content[0] is a "resource_link" block') });
    const refusal = await client.readResource({ uri: "refusal://x" }).catch((e) => e);
    expect(refusal).toMatchObject({ code: -32603, message: expect.stringContaining("not today") });
  });
});
