/**
 * When `dzx dev` cannot listen on TCP it serves on a Unix socket (DZX_SOCKET or
 * /tmp/dzx-<name>.sock) and says so on the console (issue 16.2, seed 004).
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASIC, devFolder, eventually, startDev } from "./support.ts";

setDefaultTimeout(60_000);

test("the port taken, dzx dev falls back to the Unix socket, serves MCP there, says so, and removes the socket on stop", async () => {
  const busy = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("someone else") });
  const folder = devFolder(BASIC);
  const socket = join(tmpdir(), `dzx-test-${process.pid}-${Date.now()}.sock`);
  try {
    const dev = await startDev(folder.dir, { PORT: String(busy.port), DZX_SOCKET: socket });
    try {
      expect(dev.output()).toContain(`TCP listen on 127.0.0.1:${busy.port} failed (the port is in use): serving on the Unix socket ${socket}`);
      const res = await fetch("http://localhost/mcp/basic", {
        unix: socket,
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "add", arguments: { a: 1, b: 1 } } }),
      } as RequestInit);
      expect(((await res.json()) as any).result.structuredContent).toEqual({ sum: 2 });
      const status = (await (await fetch("http://localhost/status", { unix: socket } as RequestInit)).json()) as any;
      expect(status.tools).toBe(2);
      // the other program still has its port
      expect(await (await fetch(`http://127.0.0.1:${busy.port}/`)).text()).toBe("someone else");
    } finally {
      expect(await dev.stop()).toBe(0);
    }
    await eventually(() => (existsSync(socket) ? undefined : true), "the socket removed");
  } finally {
    busy.stop(true);
    folder.dispose();
  }
});
