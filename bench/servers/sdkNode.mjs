/**
 * The official SDK (v1) echo server on Node, for bench/http.ts: one `echo` tool,
 * Express (createMcpExpressApp) + StreamableHTTPServerTransport in stateless JSON
 * mode. Listens on PORT (0 = any free port) and prints "listening <port>".
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import * as z from "zod/v4";

/** A fresh server per request: the SDK's stateless pattern (examples/server/simpleStatelessStreamableHttp). */
function getServer() {
  const server = new McpServer({ name: "sdk-node-echo", version: "1.0.0" });
  server.registerTool("echo", { description: "Returns its input", inputSchema: { text: z.string() } }, async (args) => ({
    content: [{ type: "text", text: JSON.stringify(args) }],
  }));
  return server;
}

const app = createMcpExpressApp();
app.post("/mcp", async (req, res) => {
  const server = getServer();
  try {
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
    res.on("close", () => {
      transport.close();
      server.close();
    });
  } catch (error) {
    console.error("MCP request failed:", error);
    if (!res.headersSent) res.status(500).json({ jsonrpc: "2.0", error: { code: -32603, message: "Internal server error" }, id: null });
  }
});

const listener = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1", (error) => {
  if (error) {
    console.error("listen failed:", error);
    process.exit(1);
  }
  console.log(`listening ${listener.address().port}`);
});
