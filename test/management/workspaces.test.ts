/**
 * Workspaces (SPEC "Tenancy, keys and scopes", issue 17.1): dwizi.workspaces.* over MCP
 * and REST; deleting one that still holds servers or keys, or the default one, is a
 * 409 CONFLICT; a key limited to a workspace sees and manages only that workspace's
 * servers — every dwizi.mcp.* operation on another workspace's server is NOT_FOUND,
 * like a server that never was — and its calls, usage, notifications and audit
 * narrow to that workspace. Org caps count every workspace.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { operations } from "../../src/management/table.ts";
import { ALL_SCOPES } from "../../src/platform/scope.ts";
import { managementClient, op, opError, rest } from "../support/client.ts";
import { runCli, startDzx, startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";
import { restRequest } from "../support/restMirror.ts";
import { createServer, hostedClient, type HostedServer } from "../hosted/support.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const RATE = { burst: 100000, perMinute: 100000, perHour: 1000000 };

let dzx: Dzx;
let adminKey: TestKey;
let admin: Client;
const clients: Client[] = [];
/** Workspace ids by slug. */
const ws: Record<string, string> = {};
let alphaSrv: HostedServer;
let betaSrv: HostedServer;
let betaAttachment: string;
let okTool: string;
/** A key limited to workspace alpha (all scopes), and its client. */
let alphaKey: { key: string; keyId: string; workspaceId: string };
let alpha: Client;

async function connect(key: string): Promise<Client> {
  const c = await managementClient(dzx.url, key);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"] });
  dzx = s.dzx;
  adminKey = s.keys.admin;
  admin = await connect(adminKey.key);
  okTool = (await op(admin, "dwizi.tools.create", { tool: { name: "ok", source: "export default async () => ({ ok: true })" } })).tool.id;
  await op(admin, "dwizi.tools.create", { tool: { name: "boom", source: "export default async () => { throw new Error('boom') }" } });
}, 60_000);
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await dzx?.dispose();
});

describe("dwizi.workspaces.* over MCP and REST", () => {
  test("create (MCP and REST), get by id and slug, list, update", async () => {
    const a = await op(admin, "dwizi.workspaces.create", { workspace: { name: "Alpha Team", slug: "alpha", description: "first" } });
    expect(a.workspace).toMatchObject({ slug: "alpha", name: "Alpha Team", description: "first", orgId: adminKey.orgId, createdBy: adminKey.keyId });
    ws.alpha = a.workspace.id;
    const b = await rest(dzx.url, adminKey.key, "POST", "/workspaces", { name: "Beta" });
    expect(b.status).toBe(201);
    expect(b.json.workspace).toMatchObject({ slug: "beta", name: "Beta", description: "" });
    ws.beta = b.json.workspace.id;

    expect((await op(admin, "dwizi.workspaces.get", { slug: "alpha" })).workspace.id).toBe(ws.alpha);
    expect((await rest(dzx.url, adminKey.key, "GET", `/workspaces/${ws.beta}`)).json.workspace.slug).toBe("beta");
    expect((await rest(dzx.url, adminKey.key, "GET", "/workspaces/beta")).json.workspace.id).toBe(ws.beta);
    const org = (await op(admin, "dwizi.org.get")).org;
    const listed = await op(admin, "dwizi.workspaces.list");
    expect(listed.workspaces.map((w: any) => w.slug)).toEqual(["default", "alpha", "beta"]);
    expect(listed.workspaces[0].id).toBe(org.defaultWorkspaceId);
    ws.default = org.defaultWorkspaceId;

    const u = await op(admin, "dwizi.workspaces.update", { slug: "alpha", patch: { description: "renamed", name: "Alpha" } });
    expect(u.workspace).toMatchObject({ id: ws.alpha, slug: "alpha", name: "Alpha", description: "renamed" });
    const r = await rest(dzx.url, adminKey.key, "PATCH", `/workspaces/${ws.beta}`, { description: "via rest" });
    expect(r.status).toBe(200);
    expect(r.json.workspace.description).toBe("via rest");
  });

  test("slug rules: grammar named on refusal, derived from the name, unique per org, the default keeps its slug", async () => {
    for (const slug of ["Bad Slug", "9lives", "a__b", "x".repeat(65)]) {
      const e = await opError(admin, "dwizi.workspaces.create", { workspace: { name: "X", slug } });
      expect(e.code).toBe("VALIDATION_ERROR");
      expect(e.message).toContain("lowercase letter");
    }
    expect((await opError(admin, "dwizi.workspaces.create", { workspace: { name: "!!!" } })).message).toContain(`pass "slug"`);
    expect((await op(admin, "dwizi.workspaces.create", { workspace: { name: "Ops Crew" } })).workspace.slug).toBe("ops-crew");
    const dup = await rest(dzx.url, adminKey.key, "POST", "/workspaces", { name: "Again", slug: "alpha" });
    expect(dup.status).toBe(409);
    expect(dup.json.error.code).toBe("DUPLICATE");
    expect((await opError(admin, "dwizi.workspaces.update", { slug: "beta", patch: { slug: "alpha" } })).code).toBe("DUPLICATE");
    const def = await opError(admin, "dwizi.workspaces.update", { slug: "default", patch: { slug: "main" } });
    expect(def.code).toBe("CONFLICT");
    expect(def.message).toContain("default");
    expect((await opError(admin, "dwizi.workspaces.get", { slug: "never-was" })).code).toBe("NOT_FOUND");
  });

  test("delete: refused (409 CONFLICT) for the default workspace and while servers or keys remain; then soft, slug free again", async () => {
    const gone = await rest(dzx.url, adminKey.key, "DELETE", "/workspaces/default");
    expect(gone.status).toBe(409);
    expect(gone.json.error).toMatchObject({ code: "CONFLICT", message: expect.stringContaining("default workspace cannot be deleted") });

    const crew = await createServer(admin, { name: "Crew Server", workspaceId: "ops-crew" });
    const crewKey = await op(admin, "dwizi.keys.create", { name: "crew", scopes: ["mcp:read"], workspaceId: "ops-crew" });
    const busy = await rest(dzx.url, adminKey.key, "DELETE", "/workspaces/ops-crew");
    expect(busy.status).toBe(409);
    expect(busy.json.error.code).toBe("CONFLICT");
    expect(busy.json.error.message).toBe(
      `Workspace "ops-crew" still has 1 live server and 1 API key limited to it; delete its servers (dwizi.mcp.delete) and revoke its keys (dwizi.keys.revoke) first, then delete it`,
    );
    expect(busy.json.error.details).toEqual({ servers: 1, keys: 1 });
    await op(admin, "dwizi.mcp.delete", { id: crew.id });
    const keyed = await opError(admin, "dwizi.workspaces.delete", { slug: "ops-crew" });
    expect(keyed.code).toBe("CONFLICT");
    expect(keyed.message).toBe(`Workspace "ops-crew" still has 1 API key limited to it; revoke its keys (dwizi.keys.revoke) first, then delete it`);
    await op(admin, "dwizi.keys.revoke", { keyId: crewKey.keyId });

    const del = await op(admin, "dwizi.workspaces.delete", { slug: "ops-crew" });
    expect(del).toMatchObject({ deleted: true, slug: "ops-crew" });
    expect((await opError(admin, "dwizi.workspaces.get", { id: del.id })).code).toBe("NOT_FOUND");
    expect((await op(admin, "dwizi.workspaces.list")).workspaces.map((w: any) => w.slug)).toEqual(["default", "alpha", "beta"]);
    expect((await opError(admin, "dwizi.mcp.create", { server: { name: "Late", workspaceId: del.id } })).code).toBe("NOT_FOUND");
    expect((await op(admin, "dwizi.workspaces.create", { workspace: { name: "Ops Crew" } })).workspace.id).not.toBe(del.id);
    expect((await op(admin, "dwizi.workspaces.delete", { slug: "ops-crew" })).deleted).toBe(true);
    const audit = (await op(admin, "dwizi.audit.list", { limit: 500 })).entries.map((e: any) => e.operation);
    for (const name of ["workspaces.create", "workspaces.update", "workspaces.delete"]) expect(audit).toContain(name);
  });
});

describe("a key limited to one workspace", () => {
  beforeAll(async () => {
    alphaSrv = await createServer(admin, { name: "Alpha Server", workspaceId: "alpha", toolIds: ["ok", "boom"] });
    const beta = await op(admin, "dwizi.mcp.create", { server: { name: "Beta Server", workspaceId: ws.beta, toolIds: ["ok", "boom"] } });
    betaSrv = { id: beta.server.id, slug: beta.server.slug, endpoint: beta.mcpEndpoint, token: beta.bearerToken };
    betaAttachment = beta.tools[0].id;
    // hosted calls on both workspaces' servers, one failing on each (a notification each)
    for (const s of [alphaSrv, betaSrv]) {
      const c = await hostedClient(s.endpoint, s.token);
      expect((await c.callTool({ name: "ok", arguments: {} })).isError).toBeFalsy();
      expect((await c.callTool({ name: "boom", arguments: {} })).isError).toBe(true);
      await c.close();
    }
    const made = await op(admin, "dwizi.keys.create", { name: "alpha", scopes: [...ALL_SCOPES], rate: RATE, workspaceId: "alpha" });
    alphaKey = made;
    alpha = await connect(made.key);
  });

  test("keys.create {workspaceId} limits the key; keys.list shows it", async () => {
    expect(alphaKey.workspaceId).toBe(ws.alpha);
    const listed = (await op(admin, "dwizi.keys.list")).keys.find((k: any) => k.keyId === alphaKey.keyId);
    expect(listed.workspaceId).toBe(ws.alpha);
    // an org-wide key's keys stay org-wide unless asked
    expect((await op(admin, "dwizi.keys.create", { scopes: ["mcp:read"] })).workspaceId).toBeUndefined();
  });

  test("dwizi.mcp.list shows only its workspace's servers; a server it creates lands there", async () => {
    expect((await op(alpha, "dwizi.mcp.list")).servers.map((s: any) => s.id)).toEqual([alphaSrv.id]);
    const mine = await op(alpha, "dwizi.mcp.create", { server: { name: "Alpha Two" } });
    expect(mine.server.workspaceId).toBe(ws.alpha);
    expect((await rest(dzx.url, alphaKey.key, "GET", "/mcp/servers")).json.servers.map((s: any) => s.slug)).toEqual(["alpha-server", "alpha-two"]);
    expect((await op(admin, "dwizi.mcp.list")).servers.map((s: any) => s.slug)).toEqual(["alpha-server", "beta-server", "alpha-two"]);
  });

  describe("every dwizi.mcp.* operation on another workspace's server → NOT_FOUND, read exactly like a server that never was", () => {
    /** Arguments aimed at `ref` for an operation of the table, the rest filled from its schema. */
    function argsFor(o: (typeof operations)[number], ref: string): Record<string, unknown> {
      const props = (o.args as any).properties as Record<string, any>;
      const args: Record<string, unknown> = "server" in props ? { server: ref } : { id: ref };
      const fill: Record<string, unknown> = { attachmentId: betaAttachment, toolId: okTool, patch: { description: "hijacked" } };
      const sample: Record<string, unknown> = { string: "x", object: {}, array: [], integer: 1, number: 1, boolean: false };
      for (const [k, v] of Object.entries(fill)) if (k in props) args[k] = v;
      for (const k of (o.args as any).required ?? []) if (!(k in args)) args[k] = sample[props[k].type];
      return args;
    }
    // every dwizi.mcp.* operation that names one server (dwizi.mcp.create's "server" is the new server's fields)
    const aimed = operations.filter((o) => {
      const props = (o.args as any).properties;
      return o.name.startsWith("dwizi.mcp.") && (props.server?.type === "string" || "id" in props);
    });

    test("the loop covers every server-addressed dwizi.mcp.* operation", () => {
      expect(aimed.map((o) => o.name)).toEqual(expect.arrayContaining(["dwizi.mcp.get", "dwizi.mcp.update", "dwizi.mcp.delete", "dwizi.mcp.rotate_token", "dwizi.mcp.tools.add", "dwizi.mcp.tools.remove"]));
    });

    for (const o of aimed) {
      test(o.name, async () => {
        const before = await op(admin, "dwizi.mcp.get", { id: betaSrv.id });
        for (const [ref, missing] of [[betaSrv.id, "zzzzzzzzzzzz"], [`srv_${betaSrv.id}`, "srv_zzzzzzzzzzzz"], [betaSrv.slug, "never-was"]]) {
          const e = await opError(alpha, o.name, argsFor(o, ref));
          const never = await opError(alpha, o.name, argsFor(o, missing));
          expect({ ref, code: e.code }).toEqual({ ref, code: "NOT_FOUND" });
          const bare = (r: string) => r.replace(/^srv_/, "");
          expect(e.message.replaceAll(bare(ref), "<ref>")).toBe(never.message.replaceAll(bare(missing), "<ref>"));
          const req = restRequest(o, argsFor(o, ref));
          const r = await rest(dzx.url, alphaKey.key, req.method, req.path, req.body);
          expect({ ref, status: r.status, code: r.json?.error?.code }).toEqual({ ref, status: 404, code: "NOT_FOUND" });
        }
        expect(await op(admin, "dwizi.mcp.get", { id: betaSrv.id })).toEqual(before);
      });
    }

    test("dwizi.mcp.create into another workspace → NOT_FOUND", async () => {
      for (const ref of [ws.beta, "beta", ws.default]) {
        expect((await opError(alpha, "dwizi.mcp.create", { server: { name: "Sneak", workspaceId: ref } })).code).toBe("NOT_FOUND");
      }
      const r = await rest(dzx.url, alphaKey.key, "POST", "/mcp/servers", { name: "Sneak", workspaceId: "beta" });
      expect(r.status).toBe(404);
    });
  });

  test("workspaces: it lists and reads only its own, cannot create one, another one is NOT_FOUND", async () => {
    expect((await op(alpha, "dwizi.workspaces.list")).workspaces.map((w: any) => w.id)).toEqual([ws.alpha]);
    expect((await op(alpha, "dwizi.workspaces.get", { slug: "alpha" })).workspace.id).toBe(ws.alpha);
    for (const [name, args] of [
      ["dwizi.workspaces.get", { slug: "beta" }],
      ["dwizi.workspaces.get", { id: ws.default }],
      ["dwizi.workspaces.update", { id: ws.beta, patch: { name: "Mine" } }],
      ["dwizi.workspaces.delete", { slug: "beta" }],
    ] as const) {
      expect((await opError(alpha, name, args)).code).toBe("NOT_FOUND");
    }
    expect((await rest(dzx.url, alphaKey.key, "DELETE", `/workspaces/${ws.beta}`)).status).toBe(404);
    const made = await rest(dzx.url, alphaKey.key, "POST", "/workspaces", { name: "Gamma" });
    expect(made.status).toBe(403);
    expect(made.json.error.message).toContain("only an org-wide key can create workspaces");
    expect((await op(admin, "dwizi.workspaces.get", { id: ws.beta })).workspace.name).toBe("Beta");
  });

  test("keys: it cannot make keys outside its workspace; its keys are its workspace's", async () => {
    for (const ref of [ws.beta, "beta", "default"]) {
      expect((await opError(alpha, "dwizi.keys.create", { scopes: ["mcp:read"], workspaceId: ref })).code).toBe("NOT_FOUND");
    }
    const child = await op(alpha, "dwizi.keys.create", { name: "child", scopes: ["mcp:read"] });
    expect(child.workspaceId).toBe(ws.alpha);
    const c = await connect(child.key);
    expect((await op(c, "dwizi.mcp.list")).servers.every((s: any) => s.workspaceId === ws.alpha)).toBe(true);
    expect((await op(alpha, "dwizi.keys.list")).keys.map((k: any) => k.keyId).sort()).toEqual([alphaKey.keyId, child.keyId].sort());
  });

  test("calls.list, usage.*, notifications.list and audit narrow to its workspace", async () => {
    const all = (await op(admin, "dwizi.calls.list")).calls;
    expect(new Set(all.map((c: any) => c.serverId))).toEqual(new Set([alphaSrv.id, betaSrv.id]));
    const mine = (await op(alpha, "dwizi.calls.list")).calls;
    expect(mine.map((c: any) => [c.serverId, c.toolName]).sort()).toEqual([[alphaSrv.id, "boom"], [alphaSrv.id, "ok"]]);
    expect((await rest(dzx.url, alphaKey.key, "GET", "/calls")).json.calls).toHaveLength(2);
    expect((await opError(alpha, "dwizi.calls.list", { server: betaSrv.id })).code).toBe("NOT_FOUND");

    expect((await op(admin, "dwizi.usage.get")).usage).toMatchObject({ calls: 4, errors: 2 });
    const usage = (await op(alpha, "dwizi.usage.get", { range: "30d" })).usage;
    expect(usage).toMatchObject({ calls: 2, errors: 1 });
    expect(usage.byTool.every((t: any) => t.serverId === alphaSrv.id)).toBe(true);
    expect((await opError(alpha, "dwizi.usage.get", { server: "beta-server" })).code).toBe("NOT_FOUND");
    const days = (await op(alpha, "dwizi.usage.timeseries")).buckets;
    expect(days.reduce((n: number, d: any) => n + d.calls, 0)).toBe(2);
    expect((await opError(alpha, "dwizi.usage.timeseries", { server: betaSrv.id })).code).toBe("NOT_FOUND");

    expect((await op(admin, "dwizi.notifications.list")).notifications.map((n: any) => n.server.id).sort()).toEqual([alphaSrv.id, betaSrv.id].sort());
    expect((await op(alpha, "dwizi.notifications.list")).notifications.map((n: any) => [n.kind, n.server.id, n.toolName])).toEqual([["tool_failing", alphaSrv.id, "boom"]]);

    const audit = (await op(alpha, "dwizi.audit.list", { limit: 500 })).entries;
    const foreign = new Set([betaSrv.id, ws.beta, adminKey.keyId]);
    expect(audit.filter((e: any) => foreign.has(e.targetId))).toEqual([]);
    expect(audit.some((e: any) => e.operation === "mcp.create" && e.targetId === alphaSrv.id)).toBe(true);
    expect(audit.some((e: any) => e.operation === "keys.create" && e.targetId === alphaKey.keyId)).toBe(true);
    expect(audit.every((e: any) => e.actorKeyId !== adminKey.keyId || [alphaSrv.id, alphaKey.keyId, ws.alpha].includes(e.targetId))).toBe(true);
    const adminAudit = (await op(admin, "dwizi.audit.list", { limit: 500 })).entries;
    expect(adminAudit.some((e: any) => e.targetId === betaSrv.id)).toBe(true);
  });

  test("org caps count every workspace's servers", async () => {
    // 3 live servers (cap 3): alpha-server, beta-server, alpha-two; alpha holds only two of them
    const e = await opError(alpha, "dwizi.mcp.create", { server: { name: "Alpha Three" } });
    expect(e.code).toBe("QUOTA_EXCEEDED");
    expect((await op(alpha, "dwizi.mcp.list")).servers).toHaveLength(2);
  });
});

describe("CLI: dzx keys create --workspace", () => {
  test("makes a key limited to that workspace; an unknown workspace is refused and makes nothing", async () => {
    // PGlite is single-process: the CLI writes while the server is stopped
    const db = dzx.db;
    await dzx.stop();
    const made = await runCli(db, ["keys", "create", "--org", "acme", "--scopes", "all", "--workspace", "beta", "--rate", "burst=1000,perMinute=1000,perHour=10000", "--json"]);
    expect(made.code).toBe(0);
    const key = JSON.parse(made.stdout);
    expect(key).toMatchObject({ orgId: adminKey.orgId, workspaceId: ws.beta });
    const human = await runCli(db, ["keys", "create", "--org", "acme", "--scopes", "mcp:read", "--workspace", ws.alpha]);
    expect(human.stdout).toContain("workspace: alpha");
    const bad = await runCli(db, ["keys", "create", "--org", "neworg", "--scopes", "all", "--workspace", "nope", "--json"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`No workspace "nope" in org "neworg"`);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    expect((await runCli(db, ["orgs", "list", "--json"])).stdout).not.toContain("neworg");

    dzx = await startDzx({ db });
    const beta = await connect(key.key);
    expect((await op(beta, "dwizi.mcp.list")).servers.map((s: any) => s.id)).toEqual([betaSrv.id]);
    expect((await op(beta, "dwizi.workspaces.list")).workspaces.map((w: any) => w.slug)).toEqual(["beta"]);
    expect((await opError(beta, "dwizi.mcp.get", { id: alphaSrv.id })).code).toBe("NOT_FOUND");
    expect((await op(beta, "dwizi.calls.list")).calls.every((c: any) => c.serverId === betaSrv.id)).toBe(true);
  });
});
