/**
 * `dzx dev` speaks every transport the platform does (issue 16.2): the legacy
 * HTTP+SSE transport with the v1 SDK's SSE client, and the 2026-07-28 lane with
 * the v2 SDK client (no session; server/discover), besides Streamable HTTP.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from "@modelcontextprotocol/client";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { BASIC, servedFolder } from "./support.ts";

setDefaultTimeout(60_000);

const served = servedFolder(BASIC);

test("the legacy HTTP+SSE transport (GET /mcp/<name>/sse, POST …/messages) serves the folder", async () => {
  const client = new Client({ name: "dzx-dev-sse", version: "1.0.0" });
  await client.connect(new SSEClientTransport(new URL(`${served.dev.endpoint}/sse`)));
  try {
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(["add", "user-profile"]);
    expect((await client.callTool({ name: "add", arguments: { a: 3, b: 4 } })).structuredContent).toEqual({ sum: 7 });
    expect((await client.readResource({ uri: "resource://getting-started" })).contents[0]).toMatchObject({ text: "# Getting started\nHello.\n" });
  } finally {
    await client.close();
  }
});

test("the v2 SDK client lands on the 2026-07-28 lane and calls, reads and gets without a session", async () => {
  const client = new V2Client({ name: "dzx-dev-v2", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } } as never);
  await client.connect(new V2Transport(new URL(served.dev.endpoint)));
  try {
    expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
    expect(client.getServerVersion()).toMatchObject({ name: "basic", version: "1.2.3" });
    expect((await client.callTool({ name: "add", arguments: { a: 1, b: 2 } })).structuredContent).toEqual({ sum: 3 });
    expect((await client.getPrompt({ name: "summarize", arguments: { text: "x" } })).messages).toHaveLength(1);
  } finally {
    await client.close();
  }
});
