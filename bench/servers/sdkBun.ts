/**
 * The official SDK (v1) echo server on Bun, for bench/http.ts: one `echo` tool,
 * WebStandardStreamableHTTPServerTransport in stateless JSON mode, served by
 * Bun.serve. Listens on PORT (0 = any free port) and prints "listening <port>".
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import * as z from "zod/v4";

/** A fresh server per request: the SDK's stateless pattern (examples/server/honoWebStandardStreamableHttp). */
function getServer(): McpServer {
  const server = new McpServer({ name: "sdk-bun-echo", version: "1.0.0" });
  server.registerTool("echo", { description: "Returns its input", inputSchema: { text: z.string() } }, async (args) => ({
    content: [{ type: "text", text: JSON.stringify(args) }],
  }));
  return server;
}

const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  async fetch(request) {
    if (new URL(request.url).pathname !== "/mcp") return new Response("Not found", { status: 404 });
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    const mcp = getServer();
    await mcp.connect(transport);
    // JSON mode: the Response is complete once handleRequest resolves, as in the SDK example nothing else is kept
    return transport.handleRequest(request);
  },
});
console.log(`listening ${server.port}`);
