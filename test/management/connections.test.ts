/**
 * Connections (issue 17.2): a named, org-level set of secret values for one integration.
 * CRUD over MCP and REST with values write-only and masked, sealed at rest like secrets;
 * attaching a tool with `connectionId` makes its secrets resolve from that connection first
 * (seed 002: one Slack tool under `slack_bot` and `slack_user`, each with its own token);
 * one alias holds one integration (409 ALIAS_CONFLICT); a connection of another integration
 * is refused; end users' connections serve only their calls.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connections } from "../../db/schema.ts";
import { openDatabase } from "../../src/database/index.ts";
import { openSecretBox } from "../../src/platform/secretBox.ts";
import { createServer, hostedClient } from "../hosted/support.ts";
import { managementClient, op, opError, rest } from "../support/client.ts";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const rand = () => crypto.randomUUID().replace(/-/g, "");
const BOT = `xoxb-bot-${rand()}`;
const BOT_ROTATED = `xoxb-rot-${rand()}`;
const USER = `xoxp-user-${rand()}`;
const ORG = `org-wide-${rand()}`;
const END_USER = `xoxp-eu-${rand()}`;
const GITHUB = `ghp_${rand()}`;
const ALL_VALUES = [BOT, BOT_ROTATED, USER, ORG, END_USER, GITHUB];

/** Reversed, so a call result can show which token the tool saw without holding it (results and logs are redacted of secrets). */
const rev = (s: string) => s.split("").reverse().join("");
const SEES = `export default async (input, context) => ({ seen: (context.secrets.SLACK_TOKEN ?? "none").split("").reverse().join("") })`;
const LEAKS = `export default async (input, context) => { console.log("token " + context.secrets.SLACK_TOKEN); return { raw: context.secrets.SLACK_TOKEN }; }`;
const masked = (v: string) => `••••${v.slice(-4)}`;

let dzx: Dzx;
let keys: Record<"admin" | "reader" | "other", TestKey>;
let admin: Client;
let other: Client;
const ids: Record<string, string> = {};
const clients: Client[] = [];

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"], reader: ["acme", "secrets:read"], other: ["globex"] });
  dzx = s.dzx;
  keys = s.keys;
  admin = await managementClient(dzx.url, keys.admin.key);
  other = await managementClient(dzx.url, keys.other.key);
  const tool = (t: Record<string, unknown>) => op(admin, "dwizi.tools.create", { tool: t });
  const text = { type: "object", properties: { text: { type: "string" } } };
  await tool({ name: "Send message", slug: "send_message", integration: "slack", secrets: ["SLACK_TOKEN"], inputSchema: text, source: SEES });
  await tool({ name: "Leak token", slug: "leak_token", integration: "slack", secrets: ["SLACK_TOKEN"], source: LEAKS });
  await tool({ name: "Create issue", slug: "create_issue", integration: "github", secrets: ["GH_TOKEN"], source: "export default async () => 'ok'" });
  await tool({ name: "Plain", slug: "plain", secrets: ["SLACK_TOKEN"], source: SEES });
  await op(admin, "dwizi.secrets.set", { name: "SLACK_TOKEN", value: ORG });
}, 120_000);
afterAll(async () => {
  for (const c of [admin, other, ...clients]) await c?.close().catch(() => {});
  await dzx?.dispose();
});

/** A connected SDK client on a hosted server. */
async function hosted(server: { endpoint: string; token: string }): Promise<Client> {
  const c = await hostedClient(server.endpoint, server.token);
  clients.push(c);
  return c;
}

/** What the tool saw as SLACK_TOKEN when called under `name`. */
async function seen(c: Client, name: string): Promise<string> {
  const r = await c.callTool({ name, arguments: { text: "hi" } });
  expect(r.isError).toBeFalsy();
  return (r.structuredContent as any).seen;
}

describe("dwizi.connections.* — values write-only, masked like secrets", () => {
  test("create (MCP and REST) answers the connection with masked values, never a value", async () => {
    const bot = await op(admin, "dwizi.connections.create", { connection: { name: "slack-bot", integration: "slack", values: { SLACK_TOKEN: BOT } } });
    ids.bot = bot.connection.id;
    expect(bot.connection).toMatchObject({ name: "slack-bot", integration: "slack", endUserId: null, values: [{ name: "SLACK_TOKEN", masked: masked(BOT) }] });
    expect(bot.connection.id).toMatch(/^[0-9a-f-]{36}$/);
    const user = await rest(dzx.url, keys.admin.key, "POST", "/connections", { name: "slack-user", integration: "slack", values: { SLACK_TOKEN: USER } });
    expect(user.status).toBe(201);
    expect(user.json.connection).toMatchObject({ name: "slack-user", integration: "slack", values: [{ name: "SLACK_TOKEN", masked: masked(USER) }] });
    ids.user = user.json.connection.id;
    const gh = await op(admin, "dwizi.connections.create", { connection: { name: "github", integration: "github", values: { GH_TOKEN: GITHUB } } });
    ids.github = gh.connection.id;
    for (const text of [JSON.stringify(bot), user.text, JSON.stringify(gh)]) for (const v of ALL_VALUES) expect(text).not.toContain(v);
  });

  test("list, filter and get by id or name show names and masks only (a secrets:read key may read)", async () => {
    const reader = await managementClient(dzx.url, keys.reader.key);
    clients.push(reader);
    const list = await op(reader, "dwizi.connections.list");
    expect(list.connections.map((c: any) => c.name)).toEqual(["github", "slack-bot", "slack-user"]);
    expect(list.total).toBe(3);
    expect((await op(admin, "dwizi.connections.list", { integration: "slack" })).connections.map((c: any) => c.name)).toEqual(["slack-bot", "slack-user"]);
    const byName = await op(admin, "dwizi.connections.get", { name: "slack-bot" });
    expect(byName).toEqual(await op(admin, "dwizi.connections.get", { id: ids.bot }));
    const viaRest = await rest(dzx.url, keys.reader.key, "GET", `/connections/${ids.user}`);
    expect(viaRest.status).toBe(200);
    expect(viaRest.json.connection.values).toEqual([{ name: "SLACK_TOKEN", masked: masked(USER) }]);
    const restList = await rest(dzx.url, keys.reader.key, "GET", "/connections?integration=github");
    expect(restList.json.connections.map((c: any) => c.id)).toEqual([ids.github]);
    for (const text of [JSON.stringify(list), viaRest.text, restList.text]) for (const v of ALL_VALUES) expect(text).not.toContain(v);
    expect((await opError(reader, "dwizi.connections.create", { connection: { name: "x", integration: "slack", values: { A: "b" } } })).code).toBe("FORBIDDEN_SCOPE");
  });

  test("update renames, sets and removes values and keeps the rest; emptying one is refused", async () => {
    const a = `alpha-${rand()}`;
    const b = `bravo-${rand()}`;
    const c = `charlie-${rand()}`;
    const t = await op(admin, "dwizi.connections.create", { connection: { name: "temp", integration: "notion", values: { A: a, B: b } } });
    const u = await op(admin, "dwizi.connections.update", { id: t.connection.id, patch: { name: "temp-2", values: { B: null, C: c } } });
    expect(u.connection).toMatchObject({ id: t.connection.id, name: "temp-2", values: [{ name: "A", masked: masked(a) }, { name: "C", masked: masked(c) }] });
    const viaRest = await rest(dzx.url, keys.admin.key, "PATCH", `/connections/${t.connection.id}`, { values: { A: null } });
    expect(viaRest.status).toBe(200);
    expect(viaRest.json.connection.values).toEqual([{ name: "C", masked: masked(c) }]);
    const empty = await opError(admin, "dwizi.connections.update", { name: "temp-2", patch: { values: { C: null } } });
    expect(empty).toMatchObject({ code: "VALIDATION_ERROR" });
    expect(empty.message).toContain("at least one value");
    expect((await opError(admin, "dwizi.connections.update", { id: t.connection.id, patch: {} })).code).toBe("VALIDATION_ERROR");
    const del = await rest(dzx.url, keys.admin.key, "DELETE", `/connections/${t.connection.id}`);
    expect(del.json).toEqual({ deleted: true, id: t.connection.id, name: "temp-2" });
    expect((await opError(admin, "dwizi.connections.get", { id: t.connection.id })).code).toBe("NOT_FOUND");
    // a deleted connection frees its name
    const again = await op(admin, "dwizi.connections.create", { connection: { name: "temp-2", integration: "notion", values: { A: a } } });
    await op(admin, "dwizi.connections.delete", { id: again.connection.id });
  });

  test("bad input: a taken name is DUPLICATE, bad integration or value names VALIDATION_ERROR, an unknown ref NOT_FOUND", async () => {
    const dup = await opError(admin, "dwizi.connections.create", { connection: { name: "slack-bot", integration: "slack", values: { SLACK_TOKEN: "x" } } });
    expect(dup).toMatchObject({ code: "DUPLICATE", message: `A connection named "slack-bot" already exists` });
    for (const connection of [
      { name: "x", integration: "Slack", values: { A: "b" } },
      { name: "x", integration: "sl__ack", values: { A: "b" } },
      { name: "x", integration: "slack", values: { "bad-name": "b" } },
      { name: "x", integration: "slack", values: {} },
      { name: "x", integration: "slack", values: { A: "" } },
      { name: "", integration: "slack", values: { A: "b" } },
    ]) {
      expect((await opError(admin, "dwizi.connections.create", { connection })).code).toBe("VALIDATION_ERROR");
    }
    expect((await rest(dzx.url, keys.admin.key, "POST", "/connections", { name: "x", integration: "Slack", values: { A: "b" } })).status).toBe(400);
    expect((await opError(admin, "dwizi.connections.get", { name: "never-was" })).code).toBe("NOT_FOUND");
    expect((await rest(dzx.url, keys.admin.key, "GET", `/connections/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await op(admin, "dwizi.connections.list")).total).toBe(3);
  });

  test("another org sees none of them: lists, gets, updates and deletes read like a connection that never was", async () => {
    expect((await op(other, "dwizi.connections.list")).connections).toEqual([]);
    for (const name of ["dwizi.connections.get", "dwizi.connections.delete"]) {
      const missing = crypto.randomUUID();
      const e = await opError(other, name, { id: ids.bot });
      const never = await opError(other, name, { id: missing });
      expect(e.code).toBe("NOT_FOUND");
      expect(e.message.replace(ids.bot, "<ref>")).toBe(never.message.replace(missing, "<ref>"));
    }
    expect((await opError(other, "dwizi.connections.update", { id: ids.bot, patch: { name: "mine" } })).code).toBe("NOT_FOUND");
    expect((await rest(dzx.url, keys.other.key, "PATCH", `/connections/${ids.bot}`, { name: "mine" })).status).toBe(404);
    expect((await op(admin, "dwizi.connections.get", { id: ids.bot })).connection.name).toBe("slack-bot");
  });

  test("the audit log names connections and their value names, never a value", async () => {
    const entries = (await op(admin, "dwizi.audit.list", { limit: 500 })).entries.filter((e: any) => e.operation.startsWith("connections."));
    expect(entries.map((e: any) => e.operation)).toContain("connections.create");
    expect(entries.find((e: any) => e.targetId === ids.bot).detail).toMatchObject({ name: "slack-bot", integration: "slack", keys: ["SLACK_TOKEN"] });
    for (const v of ALL_VALUES) expect(JSON.stringify(entries)).not.toContain(v);
  });
});

describe("attachments with a connection (seed 002: the same integration twice under two aliases)", () => {
  let hub: { id: string; endpoint: string; token: string };
  let c: Client;

  beforeAll(async () => {
    hub = await createServer(admin, { name: "Slack hub", slug: "slack-hub" });
  });

  test("slack_bot__send_message and slack_user__send_message each see their own connection's token; no connection reads the org's secret", async () => {
    const bot = await op(admin, "dwizi.mcp.tools.add", { server: hub.id, toolSlug: "send_message", alias: "slack_bot", connectionId: ids.bot });
    expect(bot.attachment).toMatchObject({ alias: "slack_bot", exposedName: "slack_bot__send_message", connectionId: ids.bot, integrationName: "slack", toolType: "ACTION" });
    ids.botAttachment = bot.attachment.id;
    // seed 001's body on the same route, naming the connection by its name
    const user = await rest(dzx.url, keys.admin.key, "POST", `/mcp/servers/${hub.id}/tools`, { integrationName: "slack", actionName: "send_message", integrationAlias: "slack_user", connectionId: "slack-user" });
    expect(user.status).toBe(201);
    expect(user.json.tool).toMatchObject({ integrationAlias: "slack_user", connectionId: ids.user });
    ids.userAttachment = user.json.tool.id;
    await op(admin, "dwizi.mcp.tools.add", { server: hub.id, toolSlug: "send_message", alias: "slack" });
    c = await hosted(hub);
    expect((await c.listTools()).tools.map((t) => t.name)).toEqual(["slack_bot__send_message", "slack_user__send_message", "slack__send_message"]);
    expect(await seen(c, "slack_bot__send_message")).toBe(rev(BOT));
    expect(await seen(c, "slack_user__send_message")).toBe(rev(USER));
    expect(await seen(c, "slack__send_message")).toBe(rev(ORG));
  });

  test("a changed connection value is what the next call reads", async () => {
    await op(admin, "dwizi.connections.update", { id: ids.bot, patch: { values: { SLACK_TOKEN: BOT_ROTATED } } });
    expect(await seen(c, "slack_bot__send_message")).toBe(rev(BOT_ROTATED));
    expect(await seen(c, "slack_user__send_message")).toBe(rev(USER));
    // switching an attachment's connection, and dropping it (back to the org's secret)
    await op(admin, "dwizi.mcp.tools.update", { server: hub.id, attachmentId: ids.userAttachment, patch: { connectionId: ids.bot } });
    expect(await seen(c, "slack_user__send_message")).toBe(rev(BOT_ROTATED));
    const dropped = await op(admin, "dwizi.mcp.tools.update", { server: hub.id, attachmentId: ids.userAttachment, patch: { connectionId: null } });
    expect(dropped.attachment.connectionId).toBeNull();
    expect(await seen(c, "slack_user__send_message")).toBe(rev(ORG));
    await op(admin, "dwizi.mcp.tools.update", { server: hub.id, attachmentId: ids.userAttachment, patch: { connectionId: ids.user } });
    expect(await seen(c, "slack_user__send_message")).toBe(rev(USER));
  });

  test("a connection's values are redacted from the call log like secrets", async () => {
    await op(admin, "dwizi.mcp.tools.add", { server: hub.id, toolSlug: "leak_token", alias: "slack_user", connectionId: ids.user });
    const r = await c.callTool({ name: "slack_user__leak_token", arguments: {} });
    expect(r.isError).toBeFalsy();
    const logged = (await op(admin, "dwizi.calls.list", { limit: 50 })).calls.find((x: any) => x.toolName === "slack_user__leak_token");
    expect(logged).toBeDefined();
    expect(JSON.stringify(logged)).toContain("[secret]");
    const log = JSON.stringify(await op(admin, "dwizi.calls.list", { limit: 200 }));
    for (const v of ALL_VALUES) expect(log).not.toContain(v);
  });

  test("a connection of another integration, or on a tool with none, is VALIDATION_ERROR; nothing is attached", async () => {
    const before = await op(admin, "dwizi.mcp.tools.list", { server: hub.id });
    const wrong = await opError(admin, "dwizi.mcp.tools.add", { server: hub.id, toolSlug: "create_issue", alias: "gh", connectionId: ids.bot });
    expect(wrong.code).toBe("VALIDATION_ERROR");
    expect(wrong.message).toBe(`Connection "slack-bot" is for integration "slack", but tool "create_issue" is of integration "github"`);
    const none = await opError(admin, "dwizi.mcp.tools.add", { server: hub.id, toolSlug: "plain", connectionId: ids.bot });
    expect(none.code).toBe("VALIDATION_ERROR");
    expect(none.message).toContain(`declares no integration`);
    const patched = await rest(dzx.url, keys.admin.key, "PATCH", `/mcp/servers/${hub.id}/tools/${ids.botAttachment}`, { connectionId: ids.github });
    expect(patched.status).toBe(400);
    expect(patched.json.error.code).toBe("VALIDATION_ERROR");
    expect(await op(admin, "dwizi.mcp.tools.list", { server: hub.id })).toEqual(before);
  });

  test("a secret neither the connection nor the org has is a tool error saying where to add it", async () => {
    const thin = (await op(admin, "dwizi.connections.create", { connection: { name: "github-thin", integration: "github", values: { OTHER: `other-${rand()}` } } })).connection;
    await op(admin, "dwizi.mcp.tools.add", { server: hub.id, toolSlug: "create_issue", alias: "gh_thin", connectionId: thin.id });
    const r = await c.callTool({ name: "gh_thin__create_issue", arguments: {} });
    expect(r.isError).toBe(true);
    const text = (r.content as any)[0].text as string;
    expect(text).toStartWith(`Missing secret "GH_TOKEN": the tool needs it.`);
    expect(text).toContain(`Or add it to the tool's connection "github-thin" with dwizi.connections.update {"id":"${thin.id}","patch":{"values":{"GH_TOKEN":"…"}}} (REST: PATCH /api/v1/connections/${thin.id}`);
    await op(admin, "dwizi.mcp.tools.remove", { server: hub.id, attachmentId: "gh_thin__create_issue" });
    await op(admin, "dwizi.connections.delete", { id: thin.id });
  });

  test("an unknown or another org's connection is NOT_FOUND, read exactly alike", async () => {
    const theirs = (await op(other, "dwizi.connections.create", { connection: { name: "their-slack", integration: "slack", values: { SLACK_TOKEN: `theirs-${rand()}` } } })).connection.id;
    const missing = crypto.randomUUID();
    for (const [ref, name] of [[theirs, "dwizi.mcp.tools.add"], [theirs, "dwizi.mcp.tools.update"], ["their-slack", "dwizi.mcp.tools.add"]] as const) {
      const args = (r: string) =>
        name === "dwizi.mcp.tools.add"
          ? { server: hub.id, toolSlug: "send_message", alias: "theirs", connectionId: r }
          : { server: hub.id, attachmentId: ids.botAttachment, patch: { connectionId: r } };
      const e = await opError(admin, name, args(ref));
      const never = await opError(admin, name, args(missing));
      expect(e.code).toBe("NOT_FOUND");
      expect(e.message.replace(ref, "<ref>")).toBe(never.message.replace(missing, "<ref>"));
    }
    const viaRest = await rest(dzx.url, keys.admin.key, "POST", `/mcp/servers/${hub.id}/tools`, { integrationName: "slack", actionName: "send_message", integrationAlias: "theirs", connectionId: theirs });
    expect(viaRest.status).toBe(404);
    expect(await seen(c, "slack_bot__send_message")).toBe(rev(BOT_ROTATED));
  });

  test("ALIAS_CONFLICT: an alias holding slack refuses a github tool, on add and on update (409, seed 001's message)", async () => {
    const viaRest = await rest(dzx.url, keys.admin.key, "POST", `/mcp/servers/${hub.id}/tools`, { toolSlug: "create_issue", alias: "slack_bot" });
    expect(viaRest.status).toBe(409);
    expect(viaRest.json.error.code).toBe("ALIAS_CONFLICT");
    expect(viaRest.json.error.message).toStartWith("Alias is already mapped to a different integration");
    const seedBody = await rest(dzx.url, keys.admin.key, "POST", `/mcp/servers/${hub.id}/tools`, { integrationName: "github", actionName: "create_issue", integrationAlias: "slack_user" });
    expect([seedBody.status, seedBody.json.error.code]).toEqual([409, "ALIAS_CONFLICT"]);
    // a tool with no integration does not join a slack alias either
    expect((await opError(admin, "dwizi.mcp.tools.add", { server: hub.id, toolSlug: "plain", alias: "slack_bot" })).code).toBe("ALIAS_CONFLICT");
    const gh = await op(admin, "dwizi.mcp.tools.add", { server: hub.id, toolSlug: "create_issue", alias: "gh" });
    const renamed = await opError(admin, "dwizi.mcp.tools.update", { server: hub.id, attachmentId: gh.attachment.id, patch: { alias: "slack_bot" } });
    expect(renamed.code).toBe("ALIAS_CONFLICT");
    expect(renamed.message).toStartWith("Alias is already mapped to a different integration");
    const seedPatch = await rest(dzx.url, keys.admin.key, "PATCH", `/mcp/servers/${hub.id}/tools/${gh.attachment.id}`, { integrationAlias: "slack_user" });
    expect([seedPatch.status, seedPatch.json.error.code]).toEqual([409, "ALIAS_CONFLICT"]);
    // a tool attached with a slack connection cannot leave slack
    const moved = await opError(admin, "dwizi.tools.update", { slug: "leak_token", patch: { integration: "github" } });
    expect(moved.code).toBe("VALIDATION_ERROR");
    expect(moved.message).toContain(`connection "slack-user" of integration "slack"`);
    await op(admin, "dwizi.mcp.tools.remove", { server: hub.id, attachmentId: gh.attachment.id });
    // one server's alias says nothing about another's
    const elsewhere = await createServer(admin, { name: "Elsewhere" });
    expect((await op(admin, "dwizi.mcp.tools.add", { server: elsewhere.id, toolSlug: "create_issue", alias: "slack_bot" })).attachment.exposedName).toBe("slack_bot__create_issue");
    await op(admin, "dwizi.mcp.delete", { id: elsewhere.id });
  });

  test("a tool changing integration under a shared alias is ALIAS_CONFLICT", async () => {
    // slack_user holds send_message and leak_token; leak_token leaving slack would split the alias
    await op(admin, "dwizi.mcp.tools.update", { server: hub.id, attachmentId: "slack_user__leak_token", patch: { connectionId: null } });
    const moved = await opError(admin, "dwizi.tools.update", { slug: "leak_token", patch: { integration: "github" } });
    expect(moved.code).toBe("ALIAS_CONFLICT");
    expect((await op(admin, "dwizi.tools.get", { slug: "leak_token" })).tool.integration).toBe("slack");
  });

  test("a connection attached on a live server cannot be deleted; once detached it can", async () => {
    const refused = await opError(admin, "dwizi.connections.delete", { id: ids.user });
    expect(refused.code).toBe("CONFLICT");
    expect(refused.message).toContain(`"slack-hub"`);
    const viaRest = await rest(dzx.url, keys.admin.key, "DELETE", `/connections/${ids.user}`);
    expect(viaRest.status).toBe(409);
    await op(admin, "dwizi.mcp.tools.remove", { server: hub.id, attachmentId: ids.userAttachment });
    expect((await op(admin, "dwizi.connections.delete", { name: "slack-user" })).deleted).toBe(true);
    expect((await op(admin, "dwizi.connections.list", { integration: "slack" })).connections.map((x: any) => x.name)).toEqual(["slack-bot"]);
  });
});

describe("end-user connections", () => {
  test("an end user's connection serves that end user's calls only, on their server and in dwizi.tools.test", async () => {
    const eu = await op(admin, "dwizi.connections.create", { connection: { name: "slack", integration: "slack", values: { SLACK_TOKEN: END_USER }, endUserId: "user_123" } });
    expect(eu.connection).toMatchObject({ endUserId: "user_123", values: [{ name: "SLACK_TOKEN", masked: masked(END_USER) }] });
    // names are per owner: the org's "slack" is another connection
    expect((await opError(admin, "dwizi.connections.get", { name: "slack" })).code).toBe("NOT_FOUND");
    expect((await op(admin, "dwizi.connections.get", { name: "slack", endUserId: "user_123" })).connection.id).toBe(eu.connection.id);
    expect((await op(admin, "dwizi.connections.list", { endUserId: "user_123" })).connections.map((x: any) => x.id)).toEqual([eu.connection.id]);

    // their server: a slack tool with no connection reads their connection of slack; attached by name, it is theirs too
    const theirs = await createServer(admin, { name: "User 123", endUserId: "user_123" });
    await op(admin, "dwizi.mcp.tools.add", { server: theirs.id, toolSlug: "send_message", alias: "slack" });
    const byName = await op(admin, "dwizi.mcp.tools.add", { server: theirs.id, toolSlug: "send_message", alias: "mine", connectionId: "slack" });
    expect(byName.attachment.connectionId).toBe(eu.connection.id);
    const c = await hosted(theirs);
    expect(await seen(c, "slack__send_message")).toBe(rev(END_USER));
    expect(await seen(c, "mine__send_message")).toBe(rev(END_USER));

    // not on the org's server, nor another end user's
    const refused = await opError(admin, "dwizi.mcp.tools.add", { server: "slack-hub", toolSlug: "send_message", alias: "eu", connectionId: eu.connection.id });
    expect(refused.code).toBe("VALIDATION_ERROR");
    expect(refused.message).toContain(`belongs to end user "user_123"`);
    const someoneElse = await createServer(admin, { name: "User 999", endUserId: "user_999" });
    await op(admin, "dwizi.mcp.tools.add", { server: someoneElse.id, toolSlug: "send_message", alias: "slack" });
    expect(await seen(await hosted(someoneElse), "slack__send_message")).toBe(rev(ORG));

    // dwizi.tools.test resolves the same way
    expect((await op(admin, "dwizi.tools.test", { slug: "send_message", input: {}, endUserId: "user_123" })).output).toEqual({ seen: rev(END_USER) });
    expect((await op(admin, "dwizi.tools.test", { slug: "send_message", input: {} })).output).toEqual({ seen: rev(ORG) });
    await op(admin, "dwizi.mcp.delete", { id: someoneElse.id });
    await op(admin, "dwizi.mcp.delete", { id: theirs.id });
  });
});

describe("at rest", () => {
  test("every value is sealed: the table holds no value in plaintext, and the secret box opens each back", async () => {
    await dzx.stop(); // PGlite is one process's: read the table with the server stopped
    const database = await openDatabase({ databaseUrl: dzx.db.env.DATABASE_URL, dataDir: dzx.db.dataDir });
    try {
      const rows = await database.db.select().from(connections);
      expect(rows.length).toBeGreaterThanOrEqual(4);
      const text = JSON.stringify(rows);
      for (const v of ALL_VALUES) expect(text).not.toContain(v);
      const box = openSecretBox(dzx.db.env.DZX_SECRET_KEY, dzx.db.dataDir);
      const bot = rows.find((r) => r.id === ids.bot)!;
      expect(Object.keys(bot.values)).toEqual(["SLACK_TOKEN"]);
      expect(bot.values.SLACK_TOKEN).not.toBe(BOT_ROTATED);
      expect(box.open(bot.values.SLACK_TOKEN!)).toBe(BOT_ROTATED);
      expect(box.open(rows.find((r) => r.id === ids.github)!.values.GH_TOKEN!)).toBe(GITHUB);
    } finally {
      await database.close();
    }
  });
});
