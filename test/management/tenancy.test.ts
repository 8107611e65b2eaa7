/**
 * Tenancy (SPEC "Tenancy, keys and scopes"): every asset of another org is invisible.
 * Reads, updates and deletes of org B's assets with org A's key answer NOT_FOUND —
 * the same answer as for an id that never existed — and org B is left unchanged.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { managementClient, op, opError, rest } from "../support/client.ts";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const SOURCE = "export default async () => 1";

let dzx: Dzx;
let keyA: TestKey;
let keyB: TestKey;
let a: Client;
let b: Client;
/** Org B's assets. */
const B: Record<string, string> = {};
/** Org A's assets. */
const A: Record<string, string> = {};

beforeAll(async () => {
  const s = await startWithKeys({ a: ["orgA"], b: ["orgB"] });
  dzx = s.dzx;
  keyA = s.keys.a;
  keyB = s.keys.b;
  a = await managementClient(dzx.url, keyA.key);
  b = await managementClient(dzx.url, keyB.key);

  B.tool = (await op(b, "dwizi.tools.create", { tool: { name: "B Tool", slug: "b-tool", source: SOURCE } })).tool.id;
  B.resource = (await op(b, "dwizi.resources.create", { resource: { uri: "resource://shared/doc", name: "B Resource", slug: "b-resource", text: "b" } })).resource.id;
  B.prompt = (await op(b, "dwizi.prompts.create", { prompt: { name: "b-prompt", messages: [{ role: "user", content: "b" }] } })).prompt.id;
  const srv = await op(b, "dwizi.mcp.create", { server: { name: "B Server", slug: "b-server", toolIds: [B.tool], resourceIds: [B.resource], promptIds: [B.prompt] } });
  B.server = srv.server.id;
  B.attachment = srv.tools[0].id;
  await op(b, "dwizi.secrets.set", { name: "B_ONLY", value: "b-only-2222" });
  await op(b, "dwizi.secrets.set", { name: "SHARED_NAME", value: "b-shared-1111" });
  B.connection = (await op(b, "dwizi.connections.create", { connection: { name: "b-conn", integration: "slack", values: { TOKEN: "b-conn-4444" } } })).connection.id;
  const extra = await op(b, "dwizi.keys.create", { name: "b-extra", scopes: ["tools:read"] });
  B.extraKey = extra.keyId;
  B.extraSecret = extra.key;

  A.tool = (await op(a, "dwizi.tools.create", { tool: { name: "A Tool", slug: "a-tool", integration: "slack", source: SOURCE } })).tool.id;
  const aSrv = await op(a, "dwizi.mcp.create", { server: { name: "A Server", slug: "a-server", toolIds: [A.tool] } });
  A.server = aSrv.server.id;
  A.attachment = aSrv.tools[0].id;
  await op(a, "dwizi.secrets.set", { name: "A_SECRET", value: "a-secret-3333" });
}, 60_000);
afterAll(async () => {
  await a?.close().catch(() => {});
  await b?.close().catch(() => {});
  await dzx?.dispose();
});

/** Everything an org's admin can observe (lastUsedAt aside, which any request touches). */
async function snapshot(c: Client) {
  const out: Record<string, any> = { org: await op(c, "dwizi.org.get") };
  for (const n of ["tools", "resources", "prompts", "mcp", "secrets", "connections", "keys"]) out[n] = await op(c, `dwizi.${n}.list`);
  for (const k of out.keys.keys) delete k.lastUsedAt;
  for (const s of out.mcp.servers) out[s.id] = await op(c, "dwizi.mcp.get", { id: s.id });
  out.audit = await op(c, "dwizi.audit.list", { limit: 500 });
  return out;
}

/** One attempt on org B's asset: the MCP call, its REST mirror, and the same call on an id that never existed. */
interface Case {
  name: string;
  args: () => Record<string, unknown>;
  rest: () => [method: string, path: string, body?: unknown];
  /** The foreign reference in args, and a never-existing one to swap in for the comparison. */
  swap?: () => [foreign: string, missing: string];
}

const patch = { description: "hijacked", name: "Hijacked" };
const cases: Case[] = [];
for (const [kind, singular] of [["tools", "tool"], ["resources", "resource"], ["prompts", "prompt"]] as const) {
  const slug = () => `b-${singular}`;
  cases.push(
    { name: `${kind}.get by id`, args: () => ({ id: B[singular] }), rest: () => ["GET", `/${kind}/${B[singular]}`], swap: () => [B[singular], crypto.randomUUID()] },
    { name: `${kind}.get by slug`, args: () => ({ slug: slug() }), rest: () => ["GET", `/${kind}/${slug()}`], swap: () => [slug(), "never-was"] },
    { name: `${kind}.update by id`, args: () => ({ id: B[singular], patch }), rest: () => ["PATCH", `/${kind}/${B[singular]}`, patch], swap: () => [B[singular], crypto.randomUUID()] },
    { name: `${kind}.update by slug`, args: () => ({ slug: slug(), patch }), rest: () => ["PATCH", `/${kind}/${slug()}`, patch] },
    { name: `${kind}.delete by id`, args: () => ({ id: B[singular] }), rest: () => ["DELETE", `/${kind}/${B[singular]}`], swap: () => [B[singular], crypto.randomUUID()] },
    { name: `${kind}.delete by slug`, args: () => ({ slug: slug() }), rest: () => ["DELETE", `/${kind}/${slug()}`] },
  );
}
const srvPath = () => `/mcp/servers/${B.server}`;
const fakeSrv = () => "zzzzzzzzzzzz";
cases.push(
  { name: "mcp.get by id", args: () => ({ id: B.server }), rest: () => ["GET", srvPath()], swap: () => [B.server, fakeSrv()] },
  { name: "mcp.get by srv_ id", args: () => ({ id: `srv_${B.server}` }), rest: () => ["GET", `/mcp/servers/srv_${B.server}`] },
  { name: "mcp.get by slug", args: () => ({ slug: "b-server" }), rest: () => ["GET", "/mcp/servers/b-server"], swap: () => ["b-server", "never-was"] },
  { name: "mcp.update", args: () => ({ id: B.server, patch: { description: "hijacked", toolIds: [] } }), rest: () => ["PATCH", srvPath(), { description: "hijacked", toolIds: [] }], swap: () => [B.server, fakeSrv()] },
  { name: "mcp.delete", args: () => ({ id: B.server }), rest: () => ["DELETE", srvPath()], swap: () => [B.server, fakeSrv()] },
  { name: "mcp.rotate_token", args: () => ({ id: B.server }), rest: () => ["POST", `${srvPath()}/regenerate-token`], swap: () => [B.server, fakeSrv()] },
  { name: "mcp.tools.list", args: () => ({ server: B.server }), rest: () => ["GET", `${srvPath()}/tools`], swap: () => [B.server, fakeSrv()] },
  { name: "mcp.resources.list", args: () => ({ server: "b-server" }), rest: () => ["GET", `${srvPath()}/resources`] },
  { name: "mcp.prompts.list", args: () => ({ server: B.server }), rest: () => ["GET", `${srvPath()}/prompts`] },
  { name: "mcp.tools.add (A's tool onto B's server)", args: () => ({ server: B.server, toolId: A.tool }), rest: () => ["POST", `${srvPath()}/tools`, { toolId: A.tool }] },
  { name: "mcp.tools.add (B's tool onto A's server)", args: () => ({ server: A.server, toolId: B.tool }), rest: () => ["POST", `/mcp/servers/${A.server}/tools`, { toolId: B.tool }], swap: () => [B.tool, crypto.randomUUID()] },
  { name: "mcp.tools.update", args: () => ({ server: B.server, attachmentId: B.attachment, patch: { alias: "evil" } }), rest: () => ["PATCH", `${srvPath()}/tools/${B.attachment}`, { alias: "evil" }] },
  { name: "mcp.tools.remove", args: () => ({ server: B.server, attachmentId: B.attachment }), rest: () => ["DELETE", `${srvPath()}/tools/${B.attachment}`] },
  { name: "mcp.create attaching B's tool", args: () => ({ server: { name: "Grab", toolIds: [B.tool] } }), rest: () => ["POST", "/mcp/servers", { name: "Grab", toolIds: [B.tool] }] },
  { name: "mcp.create attaching B's resource", args: () => ({ server: { name: "Grab", resourceIds: [B.resource] } }), rest: () => ["POST", "/mcp/servers", { name: "Grab", resourceIds: [B.resource] }] },
  { name: "mcp.update attaching B's prompt", args: () => ({ id: A.server, patch: { promptIds: [B.prompt] } }), rest: () => ["PATCH", `/mcp/servers/${A.server}`, { promptIds: [B.prompt] }] },
  { name: "connections.get by id", args: () => ({ id: B.connection }), rest: () => ["GET", `/connections/${B.connection}`], swap: () => [B.connection, crypto.randomUUID()] },
  { name: "connections.get by name", args: () => ({ name: "b-conn" }), rest: () => ["GET", "/connections/b-conn"], swap: () => ["b-conn", "never-was"] },
  { name: "connections.update", args: () => ({ id: B.connection, patch: { name: "hijacked", values: { TOKEN: "mine-0000" } } }), rest: () => ["PATCH", `/connections/${B.connection}`, { name: "hijacked" }], swap: () => [B.connection, crypto.randomUUID()] },
  { name: "connections.delete", args: () => ({ id: B.connection }), rest: () => ["DELETE", `/connections/${B.connection}`], swap: () => [B.connection, crypto.randomUUID()] },
  { name: "mcp.tools.add (B's connection onto A's server)", args: () => ({ server: A.server, toolId: A.tool, alias: "grab", connectionId: B.connection }), rest: () => ["POST", `/mcp/servers/${A.server}/tools`, { toolId: A.tool, alias: "grab", connectionId: B.connection }], swap: () => [B.connection, crypto.randomUUID()] },
  { name: "mcp.tools.update (B's connection on A's attachment)", args: () => ({ server: A.server, attachmentId: A.attachment, patch: { connectionId: B.connection } }), rest: () => ["PATCH", `/mcp/servers/${A.server}/tools/${A.attachment}`, { connectionId: "b-conn" }], swap: () => [B.connection, crypto.randomUUID()] },
  { name: "secrets.delete", args: () => ({ name: "B_ONLY" }), rest: () => ["DELETE", "/secrets/B_ONLY"], swap: () => ["B_ONLY", "NEVER_WAS"] },
  { name: "keys.revoke", args: () => ({ keyId: B.extraKey }), rest: () => ["DELETE", `/keys/${B.extraKey}`], swap: () => [B.extraKey, crypto.randomUUID()] },
  { name: "keys.rotate", args: () => ({ keyId: keyB.keyId }), rest: () => ["POST", `/keys/${keyB.keyId}/rotate`], swap: () => [keyB.keyId, crypto.randomUUID()] },
  { name: "keys.rotate (B's extra key)", args: () => ({ keyId: B.extraKey }), rest: () => ["POST", `/keys/${B.extraKey}/rotate`] },
);

/** The management operation a case calls. */
const opName = (c: Case) => `dwizi.${c.name.split(" ")[0]}`;

describe("org A's key on org B's assets → NOT_FOUND, org B unchanged", () => {
  let beforeB: Record<string, any>;
  let beforeA: Record<string, any>;
  beforeAll(async () => {
    beforeB = await snapshot(b);
    beforeA = await snapshot(a);
  }, 60_000);

  for (const c of cases) {
    test(c.name, async () => {
      const e = await opError(a, opName(c), c.args());
      expect(e.code).toBe("NOT_FOUND");
      expect(e.message).not.toMatch(/forbidden|another org|permission|scope/i);

      const [method, path, body] = c.rest();
      const r = await rest(dzx.url, keyA.key, method, path, body);
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe("NOT_FOUND");

      if (c.swap) {
        // no existence oracle: the answer for B's asset reads exactly like the one for nothing at all
        const [foreign, missing] = c.swap();
        const args = JSON.parse(JSON.stringify(c.args()).replaceAll(foreign, missing));
        const never = await opError(a, opName(c), args);
        expect(never.code).toBe("NOT_FOUND");
        expect(e.message.replaceAll(foreign, "<ref>")).toBe(never.message.replaceAll(missing, "<ref>"));
      }
    });
  }

  test("org B is exactly as it was", async () => {
    expect(await snapshot(b)).toEqual(beforeB);
  });

  test("org A recorded nothing and gained nothing from the refused attempts", async () => {
    expect(await snapshot(a)).toEqual(beforeA);
  });

  test("org B's keys still work with their original secrets", async () => {
    expect((await rest(dzx.url, keyB.key, "GET", "/org")).json.org.name).toBe("orgB");
    const extra = await rest(dzx.url, B.extraSecret, "GET", "/tools");
    expect(extra.status).toBe(200);
    expect(extra.json.tools.map((t: any) => t.slug)).toEqual(["b-tool"]);
  });

  test("org B's server still has its attachments and B_ONLY still exists", async () => {
    const srv = await op(b, "dwizi.mcp.get", { id: B.server });
    expect(srv.server).toMatchObject({ slug: "b-server", description: "" });
    expect(srv.tools.map((t: any) => [t.id, t.toolId, t.alias])).toEqual([[B.attachment, B.tool, null]]);
    expect(srv.resources.map((x: any) => x.id)).toEqual([B.resource]);
    expect(srv.prompts.map((x: any) => x.id)).toEqual([B.prompt]);
    expect((await op(b, "dwizi.secrets.list")).secrets.map((s: any) => s.name)).toEqual(["B_ONLY", "SHARED_NAME"]);
  });
});

describe("lists never show the other org's assets", () => {
  test("org B's lists show only org B (MCP)", async () => {
    expect((await op(b, "dwizi.tools.list")).tools.map((t: any) => t.id)).toEqual([B.tool]);
    expect((await op(b, "dwizi.resources.list")).resources.map((t: any) => t.id)).toEqual([B.resource]);
    expect((await op(b, "dwizi.prompts.list")).prompts.map((t: any) => t.id)).toEqual([B.prompt]);
    const servers = (await op(b, "dwizi.mcp.list")).servers;
    expect(servers.map((s: any) => s.id)).toEqual([B.server]);
    expect(servers.every((s: any) => s.orgId === keyB.orgId)).toBe(true);
    expect((await op(b, "dwizi.secrets.list")).secrets.map((s: any) => s.name)).not.toContain("A_SECRET");
    const keys = (await op(b, "dwizi.keys.list")).keys.map((k: any) => k.keyId);
    expect(keys.sort()).toEqual([keyB.keyId, B.extraKey].sort());
    const audit = (await op(b, "dwizi.audit.list", { limit: 500 })).entries;
    const aIds = new Set([keyA.keyId, A.tool, A.server]);
    expect(audit.filter((e: any) => aIds.has(e.actorKeyId) || aIds.has(e.targetId))).toEqual([]);
    const org = (await op(b, "dwizi.org.get")).org;
    expect(org).toMatchObject({ id: keyB.orgId, name: "orgB" });
    expect(org.usage).toMatchObject({ tools: { count: 1 }, resources: { count: 1 }, prompts: { count: 1 }, servers: { count: 1 } });
  });

  test("org A's lists show only org A (REST)", async () => {
    const get = async (path: string) => (await rest(dzx.url, keyA.key, "GET", path)).json;
    expect((await get("/tools")).tools.map((t: any) => t.id)).toEqual([A.tool]);
    expect((await get("/resources")).resources).toEqual([]);
    expect((await get("/prompts")).prompts).toEqual([]);
    expect((await get("/mcp/servers")).servers.map((s: any) => s.id)).toEqual([A.server]);
    expect((await get("/secrets")).secrets.map((s: any) => s.name)).toEqual(["A_SECRET"]);
    expect((await get("/keys")).keys.map((k: any) => k.keyId)).toEqual([keyA.keyId]);
    const audit = (await get("/audit?limit=500")).entries;
    expect(audit.length).toBeGreaterThan(0);
    expect(audit.some((e: any) => [B.tool, B.server, B.extraKey, keyB.keyId].includes(e.targetId))).toBe(false);
    expect((await get("/org")).org.usage.tools.count).toBe(1);
  });
});

describe("the same names in two orgs do not collide", () => {
  test("org A may reuse org B's slugs, uri and secret name; each org sees its own", async () => {
    const t = await op(a, "dwizi.tools.create", { tool: { name: "Mine", slug: "b-tool", source: SOURCE } });
    expect(t.tool.id).not.toBe(B.tool);
    const r = await op(a, "dwizi.resources.create", { resource: { uri: "resource://shared/doc", name: "Mine", slug: "b-resource", text: "a" } });
    expect(r.resource.id).not.toBe(B.resource);
    const s = await op(a, "dwizi.mcp.create", { server: { name: "Mine", slug: "b-server" } });
    expect(s.server.id).not.toBe(B.server);
    await op(a, "dwizi.secrets.set", { name: "SHARED_NAME", value: "a-shared-9999" });

    expect((await op(a, "dwizi.tools.get", { slug: "b-tool" })).tool).toMatchObject({ id: t.tool.id, orgId: keyA.orgId, name: "Mine" });
    expect((await op(b, "dwizi.tools.get", { slug: "b-tool" })).tool).toMatchObject({ id: B.tool, orgId: keyB.orgId, name: "B Tool" });
    expect((await op(a, "dwizi.mcp.get", { slug: "b-server" })).server.id).toBe(s.server.id);
    const maskedA = (await op(a, "dwizi.secrets.list")).secrets.find((x: any) => x.name === "SHARED_NAME").masked;
    const maskedB = (await op(b, "dwizi.secrets.list")).secrets.find((x: any) => x.name === "SHARED_NAME").masked;
    expect(maskedA).toContain("9999");
    expect(maskedB).toContain("1111");
  });

  test("deleting by a shared slug or name touches only the caller's org", async () => {
    expect((await op(a, "dwizi.tools.delete", { slug: "b-tool" })).deleted).toBe(true);
    expect((await op(a, "dwizi.resources.delete", { slug: "b-resource" })).deleted).toBe(true);
    expect((await op(a, "dwizi.mcp.delete", { slug: "b-server" })).deleted).toBe(true);
    expect((await op(a, "dwizi.secrets.delete", { name: "SHARED_NAME" })).deleted).toBe(true);

    expect((await op(b, "dwizi.tools.get", { slug: "b-tool" })).tool.id).toBe(B.tool);
    expect((await op(b, "dwizi.resources.get", { slug: "b-resource" })).resource.id).toBe(B.resource);
    expect((await op(b, "dwizi.mcp.get", { slug: "b-server" })).server.id).toBe(B.server);
    expect((await op(b, "dwizi.secrets.list")).secrets.map((x: any) => x.name)).toEqual(["B_ONLY", "SHARED_NAME"]);
    // and A's second attempt is a plain NOT_FOUND again, not B's asset
    expect((await opError(a, "dwizi.tools.get", { slug: "b-tool" })).code).toBe("NOT_FOUND");
    expect((await opError(a, "dwizi.secrets.delete", { name: "SHARED_NAME" })).code).toBe("NOT_FOUND");
  });
});
