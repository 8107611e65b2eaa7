/**
 * Scopes (SPEC "Tenancy, keys and scopes"): every operation in the table refuses a
 * key lacking its scope with FORBIDDEN_SCOPE and no side effect, on MCP and REST;
 * write implies read; dwizi.keys.* cannot escalate.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { operations } from "../../src/management/table.ts";
import { ALL_SCOPES } from "../../src/platform/scope.ts";
import { managementClient, op, opError, rest } from "../support/client.ts";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";
import { restRequest } from "../support/restMirror.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const RATE = { burst: 100000, perMinute: 100000, perHour: 1000000 };
const SOURCE = "export default async () => 1";

let dzx: Dzx;
let adminKey: TestKey;
let admin: Client;
const ids: Record<string, string> = {};
const clients: Client[] = [];

/** A key of orgA with exactly `scopes`, made by the admin, and a client for it. */
async function keyWith(scopes: readonly string[]): Promise<{ key: string; keyId: string; client: Client }> {
  const k = await op(admin, "dwizi.keys.create", { name: scopes.join(" ").slice(0, 200), scopes, rate: RATE });
  const client = await managementClient(dzx.url, k.key);
  clients.push(client);
  return { ...k, client };
}

/** Valid arguments for each operation, aimed at the baseline assets so a wrongly allowed call would show. */
function argsFor(name: string): Record<string, unknown> {
  const table: Record<string, Record<string, unknown>> = {
    "dwizi.org.get": {},
    "dwizi.tools.list": { limit: 10 },
    "dwizi.tools.get": { slug: "base-tool" },
    "dwizi.tools.create": { tool: { name: "Scoped Tool", slug: "scoped-tool", source: SOURCE } },
    "dwizi.tools.update": { slug: "base-tool", patch: { description: "changed" } },
    "dwizi.tools.test": { slug: "base-tool", input: {} },
    "dwizi.tools.delete": { id: ids.tool },
    "dwizi.resources.list": { limit: 10 },
    "dwizi.resources.get": { id: ids.resource },
    "dwizi.resources.create": { resource: { uri: "resource://scoped", name: "Scoped Resource", text: "x" } },
    "dwizi.resources.update": { slug: "base-resource", patch: { text: "changed" } },
    "dwizi.resources.delete": { slug: "base-resource" },
    "dwizi.prompts.list": {},
    "dwizi.prompts.get": { slug: "base-prompt" },
    "dwizi.prompts.create": { prompt: { name: "scoped-prompt", messages: [{ role: "user", content: "hi" }] } },
    "dwizi.prompts.update": { id: ids.prompt, patch: { description: "changed" } },
    "dwizi.prompts.delete": { slug: "base-prompt" },
    "dwizi.mcp.list": {},
    "dwizi.mcp.get": { slug: "base-server" },
    "dwizi.mcp.create": { server: { name: "Scoped Server", toolIds: [ids.tool], resourceIds: [ids.resource] } },
    "dwizi.mcp.update": { slug: "base-server", patch: { description: "changed", promptIds: [] } },
    "dwizi.mcp.delete": { id: ids.server },
    "dwizi.mcp.rotate_token": { slug: "base-server" },
    "dwizi.mcp.tools.list": { server: "base-server" },
    "dwizi.mcp.resources.list": { server: ids.server },
    "dwizi.mcp.prompts.list": { server: "base-server" },
    "dwizi.mcp.execute_code": { server: "base-server", code: "return await tools['base-tool']({})" },
    "dwizi.mcp.declarations": { server: "base-server", integrationOrAlias: "base-tool" },
    "dwizi.mcp.tools.add": { server: "base-server", toolSlug: "base-tool", alias: "extra" },
    "dwizi.mcp.tools.update": { server: "base-server", attachmentId: ids.attachment, patch: { sortOrder: 5 } },
    "dwizi.mcp.tools.remove": { server: ids.server, attachmentId: ids.attachment },
    "dwizi.mcp.tools.rotate_webhook_secret": { server: "base-server", attachmentId: ids.trigger },
    "dwizi.workspaces.list": {},
    "dwizi.workspaces.get": { slug: "default" },
    "dwizi.workspaces.create": { workspace: { name: "Scoped Workspace" } },
    "dwizi.workspaces.update": { slug: "base-workspace", patch: { description: "changed" } },
    "dwizi.workspaces.delete": { id: ids.workspace },
    "dwizi.keys.list": {},
    "dwizi.keys.create": { name: "made", scopes: ["keys:write"] },
    "dwizi.keys.revoke": { keyId: ids.victim },
    "dwizi.keys.rotate": { keyId: ids.victim },
    "dwizi.secrets.list": {},
    "dwizi.secrets.set": { name: "BASE_SECRET", value: "new-value-9999" },
    "dwizi.secrets.delete": { name: "BASE_SECRET" },
    "dwizi.connections.list": { integration: "slack" },
    "dwizi.connections.get": { id: ids.connection },
    "dwizi.connections.create": { connection: { name: "scoped-conn", integration: "slack", values: { SLACK_TOKEN: "scoped-value-1234" } } },
    "dwizi.connections.update": { name: "base-conn", patch: { values: { SLACK_TOKEN: "changed-value-5678" } } },
    "dwizi.connections.delete": { id: ids.connection },
    "dwizi.audit.list": { limit: 50 },
    "dwizi.partials.list": {},
    "dwizi.partials.get": { slug: "base-partial" },
    "dwizi.partials.create": { partial: { name: "Scoped Partial", values: { region: "eu" }, enforced: ["region"] } },
    "dwizi.partials.update": { id: ids.partial, patch: { values: { region: "us" } } },
    "dwizi.partials.delete": { slug: "base-partial" },
    "dwizi.calls.list": { limit: 10 },
    "dwizi.usage.get": { range: "30d" },
    "dwizi.usage.timeseries": { range: "7d" },
    "dwizi.notifications.list": { hours: 48 },
  };
  const args = table[name];
  if (!args) throw new Error(`scopes.test.ts has no arguments for ${name}: add them so every operation is covered`);
  return args;
}

/** Everything orgA's admin can observe; any write changes some part of it (at least the audit log). */
async function snapshot() {
  const out: Record<string, any> = { org: await op(admin, "dwizi.org.get") };
  for (const n of ["tools", "resources", "prompts", "mcp", "workspaces", "partials", "secrets", "connections", "keys"]) out[n] = await op(admin, `dwizi.${n}.list`);
  for (const k of out.keys.keys) delete k.lastUsedAt; // touched by any authenticated request, by design
  for (const s of out.mcp.servers) out[s.id] = await op(admin, "dwizi.mcp.get", { id: s.id });
  out.audit = await op(admin, "dwizi.audit.list", { limit: 500 });
  return out;
}

/** Scopes a key needs to lack so `scope` is not granted (dropping x:write too when x:read is needed). */
const without = (scope: string) => ALL_SCOPES.filter((s) => s !== scope && s !== scope.replace(/:read$/, ":write"));

const lacking = new Map<string, { key: string; client: Client }>();

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["orgA"] });
  dzx = s.dzx;
  adminKey = s.keys.admin;
  admin = await managementClient(dzx.url, adminKey.key);
  ids.tool = (await op(admin, "dwizi.tools.create", { tool: { name: "Base Tool", slug: "base-tool", source: SOURCE } })).tool.id;
  ids.resource = (await op(admin, "dwizi.resources.create", { resource: { uri: "resource://base", name: "Base Resource", text: "base" } })).resource.id;
  const prompt = { name: "base-prompt", messages: [{ role: "user", content: "hello" }] };
  ids.prompt = (await op(admin, "dwizi.prompts.create", { prompt })).prompt.id;
  const server = { name: "Base Server", toolIds: [ids.tool], resourceIds: [ids.resource], promptIds: [ids.prompt] };
  const srv = await op(admin, "dwizi.mcp.create", { server });
  ids.server = srv.server.id;
  ids.attachment = srv.tools[0].id;
  ids.trigger = (await op(admin, "dwizi.mcp.tools.add", { server: ids.server, toolSlug: "base-tool", alias: "hook", toolType: "TRIGGER" })).attachment.id;
  await op(admin, "dwizi.secrets.set", { name: "BASE_SECRET", value: "base-value-1234" });
  const conn = { name: "base-conn", integration: "slack", values: { SLACK_TOKEN: "base-value-5678" } };
  ids.connection = (await op(admin, "dwizi.connections.create", { connection: conn })).connection.id;
  ids.partial = (await op(admin, "dwizi.partials.create", { partial: { name: "Base Partial", slug: "base-partial", values: { region: "eu" } } })).partial.id;
  ids.victim = (await op(admin, "dwizi.keys.create", { name: "victim", scopes: ["keys:write"], rate: RATE })).keyId;
  ids.workspace = (await op(admin, "dwizi.workspaces.create", { workspace: { name: "Base Workspace" } })).workspace.id;
  for (const scope of new Set(operations.map((o) => o.scope))) lacking.set(scope, await keyWith(without(scope)));
}, 60_000);
afterAll(async () => {
  for (const c of [admin, ...clients]) await c?.close().catch(() => {});
  await dzx?.dispose();
});

describe("a key without the operation's scope gets FORBIDDEN_SCOPE and changes nothing", () => {
  test("the table covers every documented scope family", () => {
    expect(new Set(operations.map((o) => o.scope))).toEqual(
      new Set(["org:read", "tools:read", "tools:write", "resources:read", "resources:write", "prompts:read", "prompts:write", "mcp:read", "mcp:write", "keys:write", "secrets:read", "secrets:write", "audit:read", "usage:read"]),
    );
  });

  for (const o of operations) {
    test(`${o.name} (${o.scope}) on MCP and REST`, async () => {
      const k = lacking.get(o.scope)!;
      const args = argsFor(o.name);
      const before = await snapshot();

      const r = await k.client.callTool({ name: o.name, arguments: args });
      expect(r.isError).toBe(true);
      const err = (r.structuredContent as any).error;
      expect(err.code).toBe("FORBIDDEN_SCOPE");
      expect(err.message).toContain(o.scope);
      expect(err.details).toEqual({ requiredScope: o.scope });
      expect(JSON.parse((r.content as any)[0].text)).toEqual({ error: err });

      const req = restRequest(o, args);
      const res = await rest(dzx.url, k.key, req.method, req.path, req.body);
      expect(res.status).toBe(403);
      expect(res.json.error.code).toBe("FORBIDDEN_SCOPE");
      expect(res.json.error.message).toContain(o.scope);

      expect(await snapshot()).toEqual(before);
    });
  }

  test("a revoke or rotate refused for scope leaves the target key working", async () => {
    const victim = (await op(admin, "dwizi.keys.list")).keys.find((k: any) => k.keyId === ids.victim);
    expect(victim).toMatchObject({ revokedAt: null, rotatedAt: null });
  });

  test("REST: scope is checked before the body is read, like on MCP", async () => {
    const k = lacking.get("tools:write")!;
    const mcp = await opError(k.client, "dwizi.tools.create", { tool: "not an object" });
    expect(mcp.code).toBe("FORBIDDEN_SCOPE");
    const r = await rest(dzx.url, k.key, "POST", "/tools", "[1,2,3]");
    expect(r.json.error.code).toBe("FORBIDDEN_SCOPE");
    expect(r.status).toBe(403);
  });
});

describe("write implies read", () => {
  for (const family of ["tools", "resources", "prompts", "mcp", "secrets"]) {
    test(`a key holding only ${family}:write can use every ${family}:read operation`, async () => {
      const k = await keyWith([`${family}:write`]);
      const reads = operations.filter((o) => o.scope === `${family}:read`);
      expect(reads.length).toBeGreaterThan(0);
      for (const o of reads) {
        const args = argsFor(o.name);
        const r = await k.client.callTool({ name: o.name, arguments: args });
        expect({ op: o.name, isError: r.isError ?? false }).toEqual({ op: o.name, isError: false });
        const req = restRequest(o, args);
        expect({ op: o.name, status: (await rest(dzx.url, k.key, req.method, req.path)).status }).toEqual({ op: o.name, status: 200 });
      }
      // …but not another family's reads
      const other = family === "tools" ? "dwizi.prompts.list" : "dwizi.tools.list";
      expect((await opError(k.client, other)).code).toBe("FORBIDDEN_SCOPE");
    });
  }

  test("a tools:write key lists the baseline tool", async () => {
    const k = await keyWith(["tools:write"]);
    expect((await op(k.client, "dwizi.tools.list")).tools.map((t: any) => t.slug)).toEqual(["base-tool"]);
    expect((await op(k.client, "dwizi.tools.get", { slug: "base-tool" })).tool.id).toBe(ids.tool);
  });

  test("read does not imply write", async () => {
    const k = await keyWith(["tools:read"]);
    const e = await opError(k.client, "dwizi.tools.update", { slug: "base-tool", patch: { name: "x" } });
    expect(e.code).toBe("FORBIDDEN_SCOPE");
    expect(e.message).toContain("tools:write");
  });
});

describe("dwizi.keys.create cannot escalate", () => {
  test("granting a scope the caller lacks → FORBIDDEN_SCOPE naming it, and no key is made", async () => {
    const k = await keyWith(["keys:write", "tools:read"]);
    const before = (await op(admin, "dwizi.keys.list")).keys.map((x: any) => x.keyId);
    const e1 = await opError(k.client, "dwizi.keys.create", { scopes: ["tools:write"] });
    expect(e1.code).toBe("FORBIDDEN_SCOPE");
    expect(e1.message).toContain("tools:write");
    const e2 = await opError(k.client, "dwizi.keys.create", { scopes: ["tools:read", "mcp:read", "tools:write"] });
    expect(e2.code).toBe("FORBIDDEN_SCOPE");
    expect(e2.message).toContain("mcp:read");
    expect(e2.message).toContain("tools:write");
    expect((e2 as any).details).toEqual({ missingScopes: ["mcp:read", "tools:write"] });
    const r = await rest(dzx.url, k.key, "POST", "/keys", { scopes: ["audit:read"] });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe("FORBIDDEN_SCOPE");
    expect(r.json.error.message).toContain("audit:read");
    expect((await op(admin, "dwizi.keys.list")).keys.map((x: any) => x.keyId)).toEqual(before);
  });

  test("unknown scopes → VALIDATION_ERROR naming them (also 'all'), on MCP and REST", async () => {
    const k = await keyWith(["keys:write", "tools:read"]);
    const before = (await op(admin, "dwizi.keys.list")).keys.length;
    const e = await opError(k.client, "dwizi.keys.create", { scopes: ["tools:read", "tools:admin"] });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toContain("tools:admin");
    expect((await opError(k.client, "dwizi.keys.create", { scopes: ["all"] })).code).toBe("VALIDATION_ERROR");
    expect((await opError(admin, "dwizi.keys.create", { scopes: ["root"] })).code).toBe("VALIDATION_ERROR");
    expect((await opError(k.client, "dwizi.keys.create", { scopes: [] })).code).toBe("VALIDATION_ERROR");
    const r = await rest(dzx.url, k.key, "POST", "/keys", { scopes: ["keys:admin"] });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: "VALIDATION_ERROR", message: expect.stringContaining("keys:admin") });
    expect((await op(admin, "dwizi.keys.list")).keys.length).toBe(before);
  });

  test("a higher rate than the caller's own is refused", async () => {
    const k = await keyWith(["keys:write"]);
    const e = await opError(k.client, "dwizi.keys.create", { scopes: ["keys:write"], rate: { perMinute: RATE.perMinute + 1 } });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toContain("perMinute");
  });

  test("a subset is granted, and the new key holds exactly that subset", async () => {
    const k = await keyWith(["keys:write", "tools:write"]);
    const made = await op(k.client, "dwizi.keys.create", { scopes: ["tools:read", "tools:read"], rate: RATE });
    expect(made.scopes).toEqual(["tools:read"]);
    const listed = (await op(admin, "dwizi.keys.list")).keys.find((x: any) => x.keyId === made.keyId);
    expect(listed.scopes).toEqual(["tools:read"]);
    const child = await managementClient(dzx.url, made.key);
    clients.push(child);
    expect((await op(child, "dwizi.tools.list")).total).toBeGreaterThanOrEqual(1);
    expect((await opError(child, "dwizi.tools.delete", { slug: "base-tool" })).code).toBe("FORBIDDEN_SCOPE");
    expect((await opError(child, "dwizi.keys.create", { scopes: ["tools:read"] })).code).toBe("FORBIDDEN_SCOPE");
  });

  test("dwizi.keys.rotate cannot hand a narrower key the secret of a broader one", async () => {
    const broad = await keyWith(ALL_SCOPES);
    const k = await keyWith(["keys:write"]);
    const r = await k.client.callTool({ name: "dwizi.keys.rotate", arguments: { keyId: broad.keyId } });
    const out = r.structuredContent as any;
    // a keys:write-only key must not walk away with a working secret that holds every scope
    expect(out.key).toBeUndefined();
    expect(r.isError).toBe(true);
    expect(out.error.code).toBe("FORBIDDEN_SCOPE");
    expect((await rest(dzx.url, broad.key, "GET", "/org")).status).toBe(200);
  });
});

describe("control: the same arguments succeed with exactly the operation's scope", () => {
  // reads, then creates, then updates, then detaching, then deletes — so each call finds what it targets
  const phase = (name: string) =>
    /\.(list|get)$/.test(name) ? 0 : /\.(create|set)$/.test(name) ? 1 : /tools\.remove$/.test(name) ? 3 : /\.(delete|revoke)$/.test(name) ? 4 : 2;

  test("every operation, in dependency order", async () => {
    const ordered = [...operations].sort((a, b) => phase(a.name) - phase(b.name));
    for (const o of ordered) {
      const k = await keyWith([o.scope]);
      const r = await k.client.callTool({ name: o.name, arguments: argsFor(o.name) });
      expect({ op: o.name, result: r.isError ? r.structuredContent : "ok" }).toEqual({ op: o.name, result: "ok" });
    }
    const audit = (await op(admin, "dwizi.audit.list", { limit: 500 })).entries.map((e: any) => e.operation);
    for (const o of operations.filter((x) => x.scope.endsWith(":write") && !x.name.endsWith(".list") && !x.name.endsWith(".test"))) expect(audit).toContain(o.name.replace(/^dwizi\./, ""));
  });
});
