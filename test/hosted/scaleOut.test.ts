/**
 * Changes made through one process reach sessions held by another (SPEC
 * "Scale-out"): on PostgreSQL through NOTIFY dzx_changes; the embedded database
 * is single-process, so there a second process is refused instead.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { managementClient, op } from "../support/client.ts";
import { usingPostgres } from "../support/database.ts";
import { startDzx, startWithKeys, type Dzx } from "../support/dzx.ts";
import { createServer, eventually, hostedClient } from "./support.ts";

setDefaultTimeout(60_000);

let a: Dzx;
let admin: Client;

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"] });
  a = s.dzx;
  admin = await managementClient(a.url, s.keys.admin.key);
  await op(admin, "dwizi.tools.create", { tool: { name: "first", source: "export default async () => 1" } });
  await op(admin, "dwizi.tools.create", { tool: { name: "second", source: "export default async () => 2" } });
}, 60_000);
afterAll(async () => {
  await admin?.close();
  await a?.dispose();
});

test(
  usingPostgres
    ? "a client of process B hears list_changed for a tool attached through process A, and B refuses a token rotated through A"
    : "a second process cannot open the embedded database while the first holds it",
  async () => {
    if (!usingPostgres) {
      await expect(startDzx({ db: a.db })).rejects.toThrow(/data dir|another|lock|in use/i);
      return;
    }
    const b = await startDzx({ db: a.db });
    try {
      const server = await createServer(admin, { name: "Shared", toolIds: ["first"] });
      const onB = server.endpoint.replace(a.url, b.url);
      const client = await hostedClient(onB, server.token);
      let changes = 0;
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changes++);
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["first"]);
      await Bun.sleep(200);
      await op(admin, "dwizi.mcp.tools.add", { server: server.id, toolSlug: "second" });
      await eventually(() => changes > 0, 10_000, "list_changed relayed by NOTIFY");
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["first", "second"]);
      const rotated = await op(admin, "dwizi.mcp.rotate_token", { id: server.id });
      let refused = false;
      for (let i = 0; i < 100 && !refused; i++) {
        const r = await fetch(onB, { method: "POST", headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }) });
        refused = r.status === 401;
        if (!refused) await Bun.sleep(20);
      }
      expect(refused).toBe(true);
      const fresh = await hostedClient(onB, rotated.bearerToken);
      expect((await fresh.listTools()).tools).toHaveLength(2);
      await fresh.close();
      await client.close().catch(() => {});
    } finally {
      await b?.stop();
    }
  },
);

test(
  usingPostgres
    ? "a trigger's event accepted by process A reaches a subscriber on process B as resources/updated (NOTIFY)"
    : "on the embedded database a trigger's event reaches a subscriber of the same process through the in-process bus",
  async () => {
    await op(admin, "dwizi.tools.create", { tool: { name: "relay", source: "export default async ({ body }) => ({ got: body })" } });
    const server = await createServer(admin, { name: "Hooks", toolIds: ["first"] });
    const added = await op(admin, "dwizi.mcp.tools.add", { server: server.id, toolSlug: "relay", toolType: "TRIGGER" });
    // one process only on the embedded database: the subscriber then sits on A itself
    const b = usingPostgres ? await startDzx({ db: a.db }) : undefined;
    try {
      const client = await hostedClient(b ? server.endpoint.replace(a.url, b.url) : server.endpoint, server.token);
      const updated: string[] = [];
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
      await client.subscribeResource({ uri: added.attachment.resourceUri });
      // the webhook goes to process A; the subscriber sits on B
      const res = await fetch(added.webhook.url, { method: "POST", headers: { authorization: `Bearer ${added.webhook.secret}`, "content-type": "application/json" }, body: '{"n":1}' });
      expect(res.status).toBe(202);
      await eventually(() => updated.includes(added.attachment.resourceUri), 15_000, "resources/updated relayed by NOTIFY");
      const read = await client.readResource({ uri: added.attachment.resourceUri });
      expect(JSON.parse(String((read.contents[0] as { text: string }).text)).events[0].event).toEqual({ got: { n: 1 } });
      await client.close().catch(() => {});
    } finally {
      await b?.stop();
    }
  },
);
