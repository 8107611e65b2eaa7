/**
 * The floor for bench/http.ts: plain Bun.serve answering a JSON-RPC-shaped POST
 * with a JSON-RPC result, no MCP at all. Listens on PORT (0 = any free port) and
 * prints "listening <port>".
 */
const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  async fetch(request) {
    // parse the body, as any JSON-RPC server must, so the floor is not just a static reply
    let msg: { id?: unknown; params?: unknown };
    try {
      msg = (await request.json()) as typeof msg;
    } catch {
      return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }, { status: 400 });
    }
    return Response.json({ jsonrpc: "2.0", id: msg.id ?? null, result: { echo: msg.params ?? null } });
  },
});
console.log(`listening ${server.port}`);
