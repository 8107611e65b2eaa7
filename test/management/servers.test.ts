/**
 * dwizi.mcp.*: hosted server records, their bearer tokens, attached resources and
 * prompts, and per-server tool attachments (seed 001 "Add Tool") — over the SDK client.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { op, opError } from "../support/client.ts";
import { startWithClients, type Dzx, type Stack } from "../support/dzx.ts";

// Server start runs the CLI once per key; on a busy machine that alone can pass the 5 s default.
setDefaultTimeout(60_000);

let stack: Stack<"admin" | "reader" | "other" | "capped">;
let dzx: Dzx;
let keys: Stack<"admin" | "reader" | "other" | "capped">["keys"];
let admin: Client, reader: Client, other: Client, capped: Client;
const ids: Record<string, string> = {};
let token = "";

const source = "export default async (input) => input";
const newTool = (c: Client, slug: string) => op(c, "dwizi.tools.create", { tool: { name: slug, slug, source } }).then((r) => r.tool.id as string);

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"], reader: ["acme", "mcp:read,audit:read"], other: ["globex"], capped: ["initech"] });
  ({ dzx, keys } = stack);
  ({ admin, reader, other, capped } = stack.clients);
  for (const slug of ["send-email", "lookup", "notify"]) ids[slug] = await newTool(admin, slug);
  ids.foreign = await newTool(other, "foreign");
  const res = (n: number) => ({ resource: { uri: `resource://docs/${n}`, name: `Doc ${n}`, text: `doc ${n}` } });
  ids.doc1 = (await op(admin, "dwizi.resources.create", res(1))).resource.id;
  ids.doc2 = (await op(admin, "dwizi.resources.create", res(2))).resource.id;
  const prompt = { prompt: { name: "triage", messages: [{ role: "user", content: "Triage" }] } };
  ids.triage = (await op(admin, "dwizi.prompts.create", prompt)).prompt.id;
}, 60_000);
afterAll(() => stack?.dispose());

const serverCount = async (c: Client) => (await op(c, "dwizi.mcp.list", {})).total as number;
const exposed = async (server: string) => (await op(admin, "dwizi.mcp.tools.list", { server })).tools.map((t: any) => t.exposedName);

describe("create and read", () => {
  test("create returns the server, its attachments, a bearer token shown once and its endpoint", async () => {
    const out = await op(admin, "dwizi.mcp.create", {
      server: {
        name: "Support Suite",
        slug: "support-suite",
        description: "Helpdesk",
        toolIds: [ids["send-email"], "lookup", ids["send-email"]],
        resourceIds: [ids.doc1],
        promptIds: [ids.triage],
      },
    });
    const org = (await op(admin, "dwizi.org.get", {})).org;
    ids.server = out.server.id;
    token = out.bearerToken;
    expect(out.server).toMatchObject({ slug: "support-suite", name: "Support Suite", description: "Helpdesk", mode: "TOOLS", endUserId: null });
    expect(out.server).toMatchObject({ orgId: keys.admin.orgId, workspaceId: org.defaultWorkspaceId, createdBy: keys.admin.keyId });
    expect(out.bearerToken).toMatch(/^mcp_[A-Za-z0-9]{32,}$/);
    expect(out.mcpEndpoint).toBe(`${dzx.url}/mcp/srv_${ids.server}`);
    expect(out.server.mcpEndpoint).toBe(out.mcpEndpoint);
    expect(out.tools.map((t: any) => [t.toolId, t.exposedName])).toEqual([[ids["send-email"], "send-email"], [ids.lookup, "lookup"]]);
    expect(out.resources).toEqual([{ id: ids.doc1, slug: "doc-1", uri: "resource://docs/1", name: "Doc 1" }]);
    expect(out.prompts).toEqual([{ id: ids.triage, slug: "triage", name: "triage" }]);
    const args = out.clientConfigs.claudeDesktop.mcpServers["support-suite"].args;
    expect(args).toEqual(["-y", "mcp-remote", out.mcpEndpoint, "--header", `Authorization: Bearer ${token}`]);
  });

  test("get by id, slug or srv_<id>; list; the token is never shown again", async () => {
    const byId = await op(admin, "dwizi.mcp.get", { id: ids.server });
    expect(byId.server.slug).toBe("support-suite");
    expect(await op(admin, "dwizi.mcp.get", { slug: "support-suite" })).toEqual(byId);
    expect(await op(admin, "dwizi.mcp.get", { id: `srv_${ids.server}` })).toEqual(byId);
    const list = await op(reader, "dwizi.mcp.list", {});
    expect(list.total).toBe(1);
    expect(list.servers[0]).toEqual(byId.server);
    expect(JSON.stringify([byId, list])).not.toContain(token);
    expect(JSON.stringify([byId, list])).not.toContain("bearerToken");
  });

  test("inline resources, prompts or tools are refused with a pointer to the id lists", async () => {
    for (const [field, idField] of [["resources", "resourceIds"], ["prompts", "promptIds"], ["tools", "toolIds"]]) {
      const e = await opError(admin, "dwizi.mcp.create", { server: { name: "Inline", [field]: [{ name: "x" }] } });
      expect(e.code).toBe("VALIDATION_ERROR");
      expect(e.message).toContain(idField);
      const u = await opError(admin, "dwizi.mcp.update", { slug: "support-suite", patch: { [field]: [] } });
      expect(u.code).toBe("VALIDATION_ERROR");
      expect(u.message).toContain(idField);
    }
    expect(await serverCount(admin)).toBe(1);
  });

  test("bad input writes nothing", async () => {
    const bad: [string, Record<string, unknown>][] = [
      ["NOT_FOUND", { name: "Ghost", toolIds: [ids.lookup, "no-such-tool"] }],
      ["NOT_FOUND", { name: "Ghost", toolIds: [ids.foreign] }],
      ["NOT_FOUND", { name: "Ghost", resourceIds: ["nope"] }],
      ["NOT_FOUND", { name: "Ghost", promptIds: ["nope"] }],
      ["NOT_FOUND", { name: "Ghost", workspaceId: "no-such-workspace" }],
      ["DUPLICATE", { name: "Support Suite" }],
      ["VALIDATION_ERROR", { name: "Ghost", mode: "SCRIPT" }],
      ["VALIDATION_ERROR", { name: "Ghost", slug: "Ghost_Server" }],
      ["VALIDATION_ERROR", { slug: "ghost" }],
    ];
    for (const [code, server] of bad) expect((await opError(admin, "dwizi.mcp.create", { server })).code).toBe(code);
    expect(await serverCount(admin)).toBe(1);
    expect((await opError(admin, "dwizi.mcp.get", { slug: "ghost" })).code).toBe("NOT_FOUND");
  });
});

describe("update", () => {
  test("changes fields and replaces attached sets, keeping settings of attachments still listed", async () => {
    await op(admin, "dwizi.mcp.tools.update", { server: "support-suite", attachmentId: "lookup", patch: { displayName: "Find" } });
    const out = await op(admin, "dwizi.mcp.update", {
      slug: "support-suite",
      patch: { description: "Tier 1", mode: "CODE", endUserId: "user-42", toolIds: [ids.lookup, ids.notify], resourceIds: [ids.doc2, ids.doc1], promptIds: [] },
    });
    expect(out.server).toMatchObject({ id: ids.server, name: "Support Suite", description: "Tier 1", mode: "CODE", endUserId: "user-42" });
    expect(out.tools.map((t: any) => [t.toolSlug, t.displayName])).toEqual([["lookup", "Find"], ["notify", null]]);
    expect(out.resources.map((r: any) => r.id)).toEqual([ids.doc2, ids.doc1]);
    expect(out.prompts).toEqual([]);
    const back = await op(admin, "dwizi.mcp.update", { id: ids.server, patch: { mode: "TOOLS", endUserId: null, toolIds: [ids["send-email"], ids.lookup] } });
    expect(back.server).toMatchObject({ mode: "TOOLS", endUserId: null, description: "Tier 1" });
    expect(back.tools.map((t: any) => t.toolSlug)).toEqual(["lookup", "send-email"]);
    expect(await op(admin, "dwizi.mcp.get", { id: ids.server })).toEqual(back);
  });

  test("slug rename, DUPLICATE, NOT_FOUND", async () => {
    const tmp = await op(admin, "dwizi.mcp.create", { server: { name: "Temp" } });
    expect((await opError(admin, "dwizi.mcp.update", { slug: "temp", patch: { slug: "support-suite" } })).code).toBe("DUPLICATE");
    expect((await op(admin, "dwizi.mcp.update", { slug: "temp", patch: { slug: "scratch" } })).server.slug).toBe("scratch");
    expect((await opError(admin, "dwizi.mcp.get", { slug: "temp" })).code).toBe("NOT_FOUND");
    expect((await opError(admin, "dwizi.mcp.update", { slug: "nope", patch: { name: "x" } })).code).toBe("NOT_FOUND");
    expect((await op(admin, "dwizi.mcp.delete", { id: tmp.server.id })).deleted).toBe(true);
  });
});

describe("tool attachments", () => {
  test("add with alias and presentation settings; exposed name <alias>__<slug>", async () => {
    const { attachment } = await op(admin, "dwizi.mcp.tools.add", {
      server: "support-suite",
      toolSlug: "send-email",
      alias: "mail_bot",
      displayName: "Send as bot",
      description: "Sends from the bot address",
      inputDefaults: { from: "bot@acme.test" },
      sortOrder: -1,
    });
    ids.botAttachment = attachment.id;
    expect(attachment).toMatchObject({
      mcpServerId: ids.server,
      toolId: ids["send-email"],
      toolSlug: "send-email",
      alias: "mail_bot",
      exposedName: "mail_bot__send-email",
      displayName: "Send as bot",
      description: "Sends from the bot address",
      inputDefaults: { from: "bot@acme.test" },
      sortOrder: -1,
    });
    expect(await exposed("support-suite")).toEqual(["mail_bot__send-email", "lookup", "send-email"]);
    const plain = (await op(admin, "dwizi.mcp.tools.add", { server: ids.server, toolId: ids.notify })).attachment;
    expect(plain).toMatchObject({ alias: null, exposedName: "notify", displayName: null, inputDefaults: null, sortOrder: 3 });
  });

  test("the same tool with the same alias (or none) twice is DUPLICATE; another alias is fine", async () => {
    const dupAlias = await opError(admin, "dwizi.mcp.tools.add", { server: "support-suite", toolId: ids["send-email"], alias: "mail_bot" });
    expect(dupAlias.code).toBe("DUPLICATE");
    expect((await opError(admin, "dwizi.mcp.tools.add", { server: "support-suite", toolSlug: "notify" })).code).toBe("DUPLICATE");
    const user = (await op(admin, "dwizi.mcp.tools.add", { server: "support-suite", toolSlug: "send-email", alias: "mail_user", sortOrder: 10 })).attachment;
    expect(user.exposedName).toBe("mail_user__send-email");
    expect(await exposed("support-suite")).toEqual(["mail_bot__send-email", "lookup", "send-email", "notify", "mail_user__send-email"]);
  });

  test("add validates alias, tool and server", async () => {
    for (const alias of ["Mail", "1mail", "mail.bot", "", `m${"a".repeat(64)}`]) {
      expect((await opError(admin, "dwizi.mcp.tools.add", { server: "support-suite", toolSlug: "lookup", alias })).code).toBe("VALIDATION_ERROR");
    }
    expect((await opError(admin, "dwizi.mcp.tools.add", { server: "support-suite" })).code).toBe("VALIDATION_ERROR");
    expect((await opError(admin, "dwizi.mcp.tools.add", { server: "support-suite", toolSlug: "ghost" })).code).toBe("NOT_FOUND");
    expect((await opError(admin, "dwizi.mcp.tools.add", { server: "support-suite", toolId: ids.foreign })).code).toBe("NOT_FOUND");
    expect((await opError(admin, "dwizi.mcp.tools.add", { server: "nope", toolSlug: "lookup" })).code).toBe("NOT_FOUND");
    expect((await op(admin, "dwizi.mcp.tools.list", { server: "support-suite" })).tools).toHaveLength(5);
  });

  test("update reorders, renames and clears; conflicts and empty patches are refused", async () => {
    const u = await op(admin, "dwizi.mcp.tools.update", { server: "support-suite", attachmentId: ids.botAttachment, patch: { sortOrder: 99, alias: "bot", inputDefaults: null } });
    expect(u.attachment).toMatchObject({ id: ids.botAttachment, alias: "bot", exposedName: "bot__send-email", sortOrder: 99, inputDefaults: null, displayName: "Send as bot" });
    expect((await exposed("support-suite")).at(-1)).toBe("bot__send-email");
    const clash = await opError(admin, "dwizi.mcp.tools.update", { server: "support-suite", attachmentId: ids.botAttachment, patch: { alias: "mail_user" } });
    expect(["ALIAS_CONFLICT", "DUPLICATE"]).toContain(clash.code);
    const clashPlain = await opError(admin, "dwizi.mcp.tools.update", { server: "support-suite", attachmentId: ids.botAttachment, patch: { alias: null } });
    expect(["ALIAS_CONFLICT", "DUPLICATE"]).toContain(clashPlain.code);
    expect((await opError(admin, "dwizi.mcp.tools.update", { server: "support-suite", attachmentId: ids.botAttachment, patch: {} })).code).toBe("VALIDATION_ERROR");
    expect((await opError(admin, "dwizi.mcp.tools.update", { server: "support-suite", attachmentId: ids.botAttachment, patch: { alias: "Bad" } })).code).toBe("VALIDATION_ERROR");
    expect((await opError(admin, "dwizi.mcp.tools.update", { server: "support-suite", attachmentId: "nope", patch: { sortOrder: 1 } })).code).toBe("NOT_FOUND");
    const byExposed = await op(admin, "dwizi.mcp.tools.update", { server: "support-suite", attachmentId: "notify", patch: { description: "Ping someone" } });
    expect(byExposed.attachment).toMatchObject({ toolSlug: "notify", description: "Ping someone" });
  });

  test("remove detaches; a soft-deleted tool disappears from every server", async () => {
    const r = await op(admin, "dwizi.mcp.tools.remove", { server: ids.server, attachmentId: ids.botAttachment });
    expect(r).toEqual({ deleted: true, id: ids.botAttachment });
    expect((await opError(admin, "dwizi.mcp.tools.remove", { server: ids.server, attachmentId: ids.botAttachment })).code).toBe("NOT_FOUND");
    expect(await exposed("support-suite")).toEqual(["lookup", "send-email", "notify", "mail_user__send-email"]);
    await op(admin, "dwizi.tools.delete", { slug: "notify" });
    expect(await exposed("support-suite")).toEqual(["lookup", "send-email", "mail_user__send-email"]);
    ids.notify = await newTool(admin, "notify");
    expect((await op(admin, "dwizi.mcp.tools.add", { server: "support-suite", toolSlug: "notify" })).attachment.toolId).toBe(ids.notify);
  });

  test("an attachment id only works on its own server", async () => {
    const side = (await op(admin, "dwizi.mcp.create", { server: { name: "Side", toolIds: [ids.lookup] } })).server;
    const mine = (await op(admin, "dwizi.mcp.tools.list", { server: "support-suite" })).tools[0].id;
    expect((await opError(admin, "dwizi.mcp.tools.update", { server: "side", attachmentId: mine, patch: { sortOrder: 5 } })).code).toBe("NOT_FOUND");
    expect((await opError(admin, "dwizi.mcp.tools.remove", { server: "side", attachmentId: mine })).code).toBe("NOT_FOUND");
    expect((await op(admin, "dwizi.mcp.tools.list", { server: "support-suite" })).tools[0].id).toBe(mine);
    await op(admin, "dwizi.mcp.delete", { id: side.id });
  });

  test("attachment writes are audited against the server", async () => {
    const { entries } = await op(reader, "dwizi.audit.list", { limit: 100 });
    const ours = entries.filter((e: any) => e.operation.startsWith("mcp.tools."));
    expect(ours.map((e: any) => e.operation)).toEqual(["mcp.tools.add", "mcp.tools.remove", "mcp.tools.update", "mcp.tools.update", "mcp.tools.add", "mcp.tools.add", "mcp.tools.add", "mcp.tools.update"]);
    for (const e of ours) expect(e).toMatchObject({ actorKeyId: keys.admin.keyId, targetType: "server", targetId: ids.server });
    expect(ours[1].detail.attachmentId).toBe(ids.botAttachment);
  });
});

describe("attached resources and prompts", () => {
  test("listed per server; soft-deleted assets drop out", async () => {
    await op(admin, "dwizi.mcp.update", { slug: "support-suite", patch: { resourceIds: [ids.doc1, ids.doc2], promptIds: [ids.triage] } });
    expect((await op(reader, "dwizi.mcp.resources.list", { server: "support-suite" })).resources.map((r: any) => r.id)).toEqual([ids.doc1, ids.doc2]);
    expect((await op(reader, "dwizi.mcp.prompts.list", { id: ids.server })).prompts.map((p: any) => p.id)).toEqual([ids.triage]);
    await op(admin, "dwizi.resources.delete", { id: ids.doc1 });
    await op(admin, "dwizi.prompts.delete", { id: ids.triage });
    expect((await op(reader, "dwizi.mcp.resources.list", { slug: "support-suite" })).resources.map((r: any) => r.id)).toEqual([ids.doc2]);
    expect((await op(reader, "dwizi.mcp.prompts.list", { server: "support-suite" })).prompts).toEqual([]);
    expect((await opError(reader, "dwizi.mcp.resources.list", {})).code).toBe("VALIDATION_ERROR");
  });
});

describe("rotate_token", () => {
  test("issues a fresh token for the same endpoint, audited without the token", async () => {
    const a = await op(admin, "dwizi.mcp.rotate_token", { slug: "support-suite" });
    const b = await op(admin, "dwizi.mcp.rotate_token", { id: ids.server });
    for (const r of [a, b]) {
      expect(Object.keys(r).sort()).toEqual(["bearerToken", "mcpEndpoint"]);
      expect(r.bearerToken).toMatch(/^mcp_[A-Za-z0-9]{32,}$/);
      expect(r.mcpEndpoint).toBe(`${dzx.url}/mcp/srv_${ids.server}`);
    }
    expect(new Set([token, a.bearerToken, b.bearerToken]).size).toBe(3);
    const { entries } = await op(admin, "dwizi.audit.list", { limit: 500 });
    expect(entries.filter((e: any) => e.operation === "mcp.rotate_token" && e.targetId === ids.server)).toHaveLength(2);
    const text = JSON.stringify(entries);
    for (const t of [token, a.bearerToken, b.bearerToken]) expect(text).not.toContain(t);
    expect(JSON.stringify(await op(admin, "dwizi.mcp.get", { id: ids.server }))).not.toContain(b.bearerToken);
  });

  test("unknown or foreign servers are NOT_FOUND; read keys are refused", async () => {
    expect((await opError(admin, "dwizi.mcp.rotate_token", { slug: "nope" })).code).toBe("NOT_FOUND");
    expect((await opError(other, "dwizi.mcp.rotate_token", { id: ids.server })).code).toBe("NOT_FOUND");
    const e = await opError(reader, "dwizi.mcp.rotate_token", { id: ids.server });
    expect(e.code).toBe("FORBIDDEN_SCOPE");
    expect(e.message).toContain("mcp:write");
  });
});

describe("tenancy, scopes, caps, delete", () => {
  test("another org sees nothing of this server", async () => {
    expect(await serverCount(other)).toBe(0);
    for (const [name, args] of [
      ["dwizi.mcp.get", { id: ids.server }],
      ["dwizi.mcp.update", { id: ids.server, patch: { name: "x" } }],
      ["dwizi.mcp.delete", { id: ids.server }],
      ["dwizi.mcp.tools.list", { server: ids.server }],
      ["dwizi.mcp.tools.add", { server: ids.server, toolId: ids.foreign }],
      ["dwizi.mcp.tools.remove", { server: ids.server, attachmentId: "lookup" }],
    ] as const) {
      expect((await opError(other, name, args as Record<string, unknown>)).code).toBe("NOT_FOUND");
    }
    expect((await opError(other, "dwizi.mcp.create", { server: { name: "Theirs", toolIds: [ids.lookup] } })).code).toBe("NOT_FOUND");
  });

  test("an mcp:read key reads but cannot write", async () => {
    expect((await op(reader, "dwizi.mcp.get", { slug: "support-suite" })).server.id).toBe(ids.server);
    expect((await op(reader, "dwizi.mcp.tools.list", { server: "support-suite" })).tools.length).toBeGreaterThan(0);
    for (const [name, args] of [
      ["dwizi.mcp.create", { server: { name: "Nope" } }],
      ["dwizi.mcp.update", { slug: "support-suite", patch: { name: "x" } }],
      ["dwizi.mcp.delete", { slug: "support-suite" }],
      ["dwizi.mcp.tools.add", { server: "support-suite", toolSlug: "lookup", alias: "x" }],
      ["dwizi.mcp.tools.remove", { server: "support-suite", attachmentId: "lookup" }],
    ] as const) {
      expect((await opError(reader, name, args as Record<string, unknown>)).code).toBe("FORBIDDEN_SCOPE");
    }
    expect(await exposed("support-suite")).toContain("lookup");
  });

  test("a fourth live server is QUOTA_EXCEEDED; a soft delete frees a slot", async () => {
    const ws = (await op(capped, "dwizi.org.get", {})).org.defaultWorkspaceId;
    const acmeWs = (await op(admin, "dwizi.org.get", {})).org.defaultWorkspaceId;
    expect((await opError(capped, "dwizi.mcp.create", { server: { name: "One", workspaceId: acmeWs } })).code).toBe("NOT_FOUND");
    expect((await op(capped, "dwizi.mcp.create", { server: { name: "One", workspaceId: ws } })).server.workspaceId).toBe(ws);
    for (const name of ["Two", "Three"]) await op(capped, "dwizi.mcp.create", { server: { name } });
    const e = await opError(capped, "dwizi.mcp.create", { server: { name: "Four" } });
    expect(e.code).toBe("QUOTA_EXCEEDED");
    expect(await serverCount(capped)).toBe(3);
    await op(capped, "dwizi.mcp.delete", { slug: "one" });
    expect((await op(capped, "dwizi.mcp.create", { server: { name: "Four" } })).server.slug).toBe("four");
  });

  test("soft delete hides the server, frees its slug and keeps the audit trail", async () => {
    const r = await op(admin, "dwizi.mcp.delete", { slug: "support-suite" });
    expect(r).toEqual({ deleted: true, id: ids.server, slug: "support-suite" });
    for (const [name, args] of [
      ["dwizi.mcp.get", { id: ids.server }],
      ["dwizi.mcp.delete", { id: ids.server }],
      ["dwizi.mcp.rotate_token", { id: ids.server }],
      ["dwizi.mcp.tools.list", { server: ids.server }],
    ] as const) {
      expect((await opError(admin, name, args)).code).toBe("NOT_FOUND");
    }
    expect((await op(admin, "dwizi.mcp.list", {})).servers.map((s: any) => s.id)).not.toContain(ids.server);
    const again = await op(admin, "dwizi.mcp.create", { server: { name: "Support Suite" } });
    expect(again.server.slug).toBe("support-suite");
    expect(again.server.id).not.toBe(ids.server);
    expect(again.tools).toEqual([]);
    const { entries } = await op(admin, "dwizi.audit.list", { limit: 500 });
    const trail = entries.filter((e: any) => e.targetId === ids.server && e.operation.startsWith("mcp.") && !e.operation.startsWith("mcp.tools."));
    expect(trail.map((e: any) => e.operation)).toEqual(["mcp.delete", "mcp.rotate_token", "mcp.rotate_token", "mcp.update", "mcp.update", "mcp.update", "mcp.create"]);
  });
});
