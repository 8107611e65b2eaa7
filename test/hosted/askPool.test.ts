/**
 * Waiting on a client holds no sandbox worker: with DZX_WORKERS=2, twenty calls
 * wait on elicitation (a person who has not answered yet) while another tool is
 * called a hundred times, and every one of those hundred is answered — none waits
 * for a worker until it times out. Then the twenty get their answers and finish.
 * Completion is asserted, never wall-clock numbers.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { op } from "../support/client.ts";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { createServer, eventually, hostedClient, metric, type HostedServer } from "./support.ts";

setDefaultTimeout(120_000);

let stack: Stack<"admin">;
let admin: Client;
let server: HostedServer;

beforeAll(async () => {
  // a call that waited for a worker this long fails: held workers would show as timeouts, not as a hang
  stack = await startWithClients({ admin: ["acme"] }, { DZX_WORKERS: "2", DZX_TOOL_TIMEOUT_MS: "10000" });
  admin = stack.clients.admin;
  await op(admin, "dwizi.tools.create", {
    tool: {
      name: "ask-name",
      inputSchema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] },
      source: `export default async (input, context) => {
        const r = await context.elicit({ message: "name " + input.n + "?", requestedSchema: { type: "object", properties: { name: { type: "string" } } } });
        return { n: input.n, name: r.content.name };
      }`,
    },
  });
  await op(admin, "dwizi.tools.create", {
    tool: { name: "work", inputSchema: { type: "object", properties: { i: { type: "integer" } } }, source: "export default async (input) => { let s = 0; for (let k = 0; k < 1000; k++) s += k; return { i: input.i, s }; }" },
  });
  server = await createServer(admin, { name: "Busy", toolIds: ["ask-name", "work"] });
}, 60_000);
afterAll(async () => {
  await stack?.dispose();
});

test("20 calls waiting on elicitation, 100 calls of another tool with DZX_WORKERS=2: all 100 answered, then the 20", async () => {
  const asker = await hostedClient(server.endpoint, server.token, { elicitation: {} });
  const worker = await hostedClient(server.endpoint, server.token);
  const held: { n: number; answer(v: unknown): void }[] = [];
  asker.setRequestHandler(ElicitRequestSchema, (request) => new Promise((resolve) => held.push({ n: parseInt(request.params.message.split(" ")[1]!, 10), answer: resolve as never })));
  try {
    const waiting = Array.from({ length: 20 }, (_, n) => asker.callTool({ name: "ask-name", arguments: { n } }, undefined, { timeout: 110_000 }));
    await eventually(() => held.length === 20, 30_000, "20 elicitation requests");
    let parked = 0;
    for (let i = 0; i < 400 && parked < 20; i++) {
      parked = await metric(stack.dzx.url, "dzx_sandbox_parked_calls");
      if (parked < 20) await Bun.sleep(25);
    }
    expect(parked).toBe(20);

    const results = [];
    for (let batch = 0; batch < 10; batch++) {
      results.push(...(await Promise.all(Array.from({ length: 10 }, (_, k) => worker.callTool({ name: "work", arguments: { i: batch * 10 + k } })))));
    }
    expect(results).toHaveLength(100);
    // every one completed, none timed out waiting for a worker
    expect(results.filter((r) => r.isError).map((r) => (r.content as { text: string }[])[0]?.text)).toEqual([]);
    expect(results.map((r) => (r.structuredContent as { i: number }).i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // the twenty still wait, untouched
    expect(await metric(stack.dzx.url, "dzx_sandbox_parked_calls")).toBe(20);

    for (const h of held) h.answer({ action: "accept", content: { name: `person ${h.n}` } });
    const answered = await Promise.all(waiting);
    expect(answered.map((r) => r.structuredContent)).toEqual(Array.from({ length: 20 }, (_, n) => ({ n, name: `person ${n}` })));
    expect(await metric(stack.dzx.url, "dzx_sandbox_parked_calls")).toBe(0);
    expect(await metric(stack.dzx.url, "dzx_sandbox_workers_replaced")).toBe(0);
  } finally {
    await asker.close();
    await worker.close();
  }
});
