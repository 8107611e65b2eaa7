/**
 * Companion tools (issue 17.5, seed 002): a tool input property declaring
 * `"x-dzx-options": {"tool": "<slug>"}` brings `<alias>__list_<property>s` (or
 * `list_<property>s`) onto the server in TOOLS mode, with no required input, running
 * the options tool; CODE mode's search finds it; the declaration is checked when a tool
 * is written; a real tool of the same name wins, and the skipped companion is warned about.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { op, opError } from "../support/client.ts";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { createServer, eventually, hostedClient } from "./support.ts";

setDefaultTimeout(60_000);

const CHANNELS = ["general", "random", "release"];
const SEND_SCHEMA = {
  type: "object",
  properties: {
    channel: { type: "string", description: "Channel name", "x-dzx-options": { tool: "channels" } },
    text: { type: "string" },
  },
  required: ["channel", "text"],
  additionalProperties: false,
};

let stack: Stack<"admin">;
let admin: Client;
const clients: Client[] = [];

const tool = (t: Record<string, unknown>) => op(admin, "dwizi.tools.create", { tool: t });
const made: string[] = [];
/** A client on a new server; the org's cap is 3 servers, so the previous test's server goes first. */
async function connect(server: Record<string, unknown>, attach: Record<string, unknown>[] = []) {
  for (const id of made.splice(0)) await op(admin, "dwizi.mcp.delete", { id });
  const s = await createServer(admin, server);
  made.push(s.id);
  for (const a of attach) await op(admin, "dwizi.mcp.tools.add", { server: s.id, ...a });
  const c = await hostedClient(s.endpoint, s.token);
  clients.push(c);
  return c;
}
const textOf = (r: any) => r.content.map((c: any) => c.text).join("");

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] }, { DZX_WORKERS: "2" });
  admin = stack.clients.admin;
  await tool({
    name: "channels",
    description: "Channels of the workspace.",
    // its own input is required: the companion offers it as optional pass-through
    inputSchema: { type: "object", properties: { prefix: { type: "string" } }, required: ["prefix"] },
    source: `export default async ({ prefix }) => ${JSON.stringify(CHANNELS)}.filter((c) => !prefix || c.startsWith(prefix))`,
  });
  await tool({ name: "send-message", inputSchema: SEND_SCHEMA, source: "export default async ({ channel, text }) => `sent ${text} to ${channel}`" });
}, 60_000);
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await stack?.dispose();
});

describe("TOOLS mode", () => {
  test("an aliased tool brings <alias>__list_<property>s, with no required input, which runs the options tool", async () => {
    const c = await connect({ name: "Slacky" }, [{ toolSlug: "send-message", alias: "slack" }]);
    const { tools } = await c.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["slack__list_channels", "slack__send-message"]);
    const companion = tools.find((t) => t.name === "slack__list_channels")!;
    expect(companion.inputSchema.required).toBeUndefined();
    expect(companion.inputSchema.properties).toEqual({ prefix: { type: "string" } });
    expect(companion.description).toContain(`"channel" argument of slack__send-message`);
    // the declaration stays in the published schema: it tells the agent where the values come from
    const send = tools.find((t) => t.name === "slack__send-message")!;
    expect((send.inputSchema.properties as any).channel["x-dzx-options"]).toEqual({ tool: "channels" });

    const all = await c.callTool({ name: "slack__list_channels", arguments: {} });
    expect(all.isError).toBeFalsy();
    expect(JSON.parse(textOf(all))).toEqual(CHANNELS);
    const some = await c.callTool({ name: "slack__list_channels", arguments: { prefix: "re" } });
    expect(JSON.parse(textOf(some))).toEqual(["release"]);
    const bad = await c.callTool({ name: "slack__list_channels", arguments: { prefix: 7 } });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toContain(`Invalid arguments for slack__list_channels: "prefix" must be string`);
  });

  test("without an alias the companion is list_<property>s", async () => {
    const c = await connect({ name: "Plain", toolIds: ["send-message"] });
    const { tools } = await c.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["list_channels", "send-message"]);
    const r = await c.callTool({ name: "list_channels", arguments: { prefix: "g" } });
    expect(JSON.parse(textOf(r))).toEqual(["general"]);
  });

  test("a real tool named like the companion wins; the companion is skipped with a warning naming both", async () => {
    await tool({ name: "list_channels", source: "export default async () => 'the real one'" });
    const c = await connect({ name: "Clash", toolIds: ["send-message", "list_channels"] });
    const { tools } = await c.listTools();
    expect(tools.filter((t) => t.name === "list_channels")).toHaveLength(1);
    expect(textOf(await c.callTool({ name: "list_channels", arguments: {} }))).toBe("the real one");
    await eventually(() => stack.dzx.output().includes(`Companion tool \\"list_channels\\" of \\"send-message\\" is not published: this server already has a tool named \\"list_channels\\", which wins`), 10_000, "the warning");
  });
});

describe("CODE mode", () => {
  test("search finds the companion and a script calls it", async () => {
    const c = await connect({ name: "Coder", mode: "CODE" }, [{ toolSlug: "send-message", alias: "team" }]);
    const found = await c.callTool({ name: "search", arguments: { query: "channel values" } });
    const names = (found.content as { text: string }[])[0].text.split("\n").map((l) => l.split(":")[0]);
    expect(names).toContain("team__list_channels");
    const api = await c.callTool({ name: "read_api", arguments: { tools: ["team__list_channels"] } });
    expect(textOf(api)).toContain("team__list_channels");
    const run = await c.callTool({ name: "execute", arguments: { code: "return await tools.team__list_channels({ prefix: 'ra' })" } });
    expect(run.isError).toBeFalsy();
    expect(textOf(run)).toContain("random");
  });
});

describe("the x-dzx-options declaration", () => {
  const withOptions = (decl: unknown, property = "channel") => ({ type: "object", properties: { [property]: { type: "string", "x-dzx-options": decl } } });

  test("naming a tool the org does not have is a VALIDATION_ERROR naming the property", async () => {
    const e = await opError(admin, "dwizi.tools.create", { tool: { name: "bad-ref", inputSchema: withOptions({ tool: "no-such-tool" }), source: "export default async () => 1" } });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toBe(`inputSchema property "channel": "x-dzx-options" names tool "no-such-tool", which this org does not have (create it first)`);
  });

  test("a malformed declaration is refused, on create and on update", async () => {
    const e = await opError(admin, "dwizi.tools.create", { tool: { name: "bad-shape", inputSchema: withOptions("channels"), source: "export default async () => 1" } });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toContain(`inputSchema property "channel": "x-dzx-options" must be {"tool": "<tool slug>"}`);
    await tool({ name: "later", source: "export default async () => 1" });
    const u = await opError(admin, "dwizi.tools.update", { slug: "later", patch: { inputSchema: withOptions({ tool: "gone" }, "room") } });
    expect(u.code).toBe("VALIDATION_ERROR");
    expect(u.message).toContain(`inputSchema property "room"`);
    const ok = await op(admin, "dwizi.tools.update", { slug: "later", patch: { inputSchema: withOptions({ tool: "channels" }, "room") } });
    expect(ok.tool.inputSchema.properties.room["x-dzx-options"]).toEqual({ tool: "channels" });
  });

  test("a property whose companion name could not be a tool name is refused", async () => {
    const e = await opError(admin, "dwizi.tools.create", { tool: { name: "bad-name", inputSchema: withOptions({ tool: "channels" }, "a b"), source: "export default async () => 1" } });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toContain(`inputSchema property "a b"`);
  });

  test("an options tool deleted since takes its companion off the server", async () => {
    await tool({ name: "rooms", source: "export default async () => ['a']" });
    await tool({ name: "book", inputSchema: withOptions({ tool: "rooms" }, "room"), source: "export default async () => 'booked'" });
    const c = await connect({ name: "Rooms", toolIds: ["book"] });
    expect((await c.listTools()).tools.map((t) => t.name).sort()).toEqual(["book", "list_rooms"]);
    await op(admin, "dwizi.tools.delete", { slug: "rooms" });
    let names: string[] = [];
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      names = (await c.listTools()).tools.map((t) => t.name);
      if (!names.includes("list_rooms")) break;
      await Bun.sleep(20);
    }
    expect(names).toEqual(["book"]);
  });
});
