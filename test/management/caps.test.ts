/**
 * Per-org asset caps (seed 000 "Limits"): tools 10, prompts 20, resources 20,
 * servers 3 by default, configurable per org. Exceeded → QUOTA_EXCEEDED and
 * nothing written (no row, no audit entry); exact under concurrency.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { managementClient, op, opError, rawCall, rest } from "../support/client.ts";
import { freshDatabase } from "../support/database.ts";
import { cliKey, runCli, startDzx, type Dzx, type TestKey } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

let dzx: Dzx;
const k: Record<string, TestKey> = {};
let acme: Client;

beforeAll(async () => {
  const db = await freshDatabase();
  k.acme = await cliKey(db, "acme");
  k.race = await cliKey(db, "race");
  k.raceServers = await cliKey(db, "race-servers");
  k.custom = await cliKey(db, "custom");
  const set = await runCli(db, ["orgs", "limits", "--org", "custom", "--set", JSON.stringify({ rate: { burst: 500, perMinute: 5000 }, caps: { tools: 11, prompts: 1, servers: 1 } })]);
  expect(set.code).toBe(0);
  dzx = await startDzx({ db });
  acme = await managementClient(dzx.url, k.acme.key);
}, 120_000);
afterAll(async () => {
  await acme?.close();
  await dzx?.dispose();
});

const tool = (slug: string) => ({ tool: { name: `Tool ${slug}`, slug, source: "export default async () => 1" } });
const resource = (slug: string) => ({ resource: { uri: `resource://caps/${slug}`, name: slug, slug, text: "x" } });
const prompt = (slug: string) => ({ prompt: { name: slug, messages: [{ role: "user", content: "hi" }] } });
const server = (slug: string) => ({ server: { name: `Server ${slug}`, slug } });

async function auditEntries(client: Client): Promise<any[]> {
  return (await op(client, "dwizi.audit.list", { limit: 500 })).entries;
}

function expectQuota(e: { code: string; message: string }, limit: number, kind: string) {
  expect(e.code).toBe("QUOTA_EXCEEDED");
  expect(e.message).toContain(String(limit));
  expect(e.message).toContain(kind);
}

describe("default caps", () => {
  test("tools: ten are created, the 11th is refused with QUOTA_EXCEEDED and nothing is written", async () => {
    for (let i = 1; i <= 10; i++) await op(acme, "dwizi.tools.create", tool(`t${i}`));
    const before = await auditEntries(acme);
    const e = await opError(acme, "dwizi.tools.create", tool("t11"));
    expectQuota(e, 10, "tools");
    expect((await op(acme, "dwizi.tools.list", { limit: 200 })).tools.length).toBe(10);
    expect((await opError(acme, "dwizi.tools.get", { slug: "t11" })).code).toBe("NOT_FOUND");
    const after = await auditEntries(acme);
    expect(after.length).toBe(before.length);
    expect(after.filter((a) => a.operation === "tools.create").length).toBe(10);
    expect(after.some((a) => a.detail?.slug === "t11")).toBe(false);
    const org = (await op(acme, "dwizi.org.get")).org;
    expect(org.usage.tools).toEqual({ count: 10, cap: 10 });
  });

  test("tools over REST: 403 {error:{code:QUOTA_EXCEEDED}}", async () => {
    const r = await rest(dzx.url, k.acme.key, "POST", "/tools", tool("t11").tool);
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe("QUOTA_EXCEEDED");
    expect(r.json.error.message).not.toMatch(/\n\s+at\s/);
    expect((await rest(dzx.url, k.acme.key, "GET", "/tools?limit=200")).json.tools.length).toBe(10);
  });

  test("tools: after soft-deleting one, a create works again — and the next one is refused again", async () => {
    await op(acme, "dwizi.tools.delete", { slug: "t3" });
    const made = await op(acme, "dwizi.tools.create", tool("t11"));
    expect(made.tool.slug).toBe("t11");
    expect((await opError(acme, "dwizi.tools.create", tool("t12"))).code).toBe("QUOTA_EXCEEDED");
    const slugs = (await op(acme, "dwizi.tools.list", { limit: 200 })).tools.map((t: any) => t.slug);
    expect(slugs.length).toBe(10);
    expect(slugs).not.toContain("t3");
    expect(slugs).toContain("t11");
  });

  test("resources: 20 created, the 21st refused; delete one and it fits", async () => {
    for (let i = 1; i <= 20; i++) await op(acme, "dwizi.resources.create", resource(`r${i}`));
    const before = (await auditEntries(acme)).length;
    expectQuota(await opError(acme, "dwizi.resources.create", resource("r21")), 20, "resources");
    expect((await auditEntries(acme)).length).toBe(before);
    expect((await op(acme, "dwizi.resources.list", { limit: 200 })).resources.length).toBe(20);
    expect((await opError(acme, "dwizi.resources.get", { slug: "r21" })).code).toBe("NOT_FOUND");
    const r = await rest(dzx.url, k.acme.key, "POST", "/resources", resource("r21").resource);
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe("QUOTA_EXCEEDED");

    await op(acme, "dwizi.resources.delete", { slug: "r1" });
    expect((await op(acme, "dwizi.resources.create", resource("r21"))).resource.slug).toBe("r21");
    expect((await op(acme, "dwizi.resources.list", { limit: 200 })).resources.length).toBe(20);
    expect((await opError(acme, "dwizi.resources.create", resource("r22"))).code).toBe("QUOTA_EXCEEDED");
  });

  test("prompts: 20 created, the 21st refused; delete one and it fits", async () => {
    for (let i = 1; i <= 20; i++) await op(acme, "dwizi.prompts.create", prompt(`p${i}`));
    const before = (await auditEntries(acme)).length;
    expectQuota(await opError(acme, "dwizi.prompts.create", prompt("p21")), 20, "prompts");
    expect((await auditEntries(acme)).length).toBe(before);
    expect((await op(acme, "dwizi.prompts.list", { limit: 200 })).prompts.length).toBe(20);
    expect((await opError(acme, "dwizi.prompts.get", { slug: "p21" })).code).toBe("NOT_FOUND");

    await op(acme, "dwizi.prompts.delete", { slug: "p20" });
    expect((await op(acme, "dwizi.prompts.create", prompt("p21"))).prompt.slug).toBe("p21");
    expect((await op(acme, "dwizi.prompts.list", { limit: 200 })).prompts.length).toBe(20);
    expect((await opError(acme, "dwizi.prompts.create", prompt("p22"))).code).toBe("QUOTA_EXCEEDED");
  });

  test("servers: 3 created, the 4th refused (MCP and REST, seed 001's 403); delete one and it fits", async () => {
    for (let i = 1; i <= 3; i++) await op(acme, "dwizi.mcp.create", server(`s${i}`));
    const before = (await auditEntries(acme)).length;
    expectQuota(await opError(acme, "dwizi.mcp.create", server("s4")), 3, "servers");
    const r = await rest(dzx.url, k.acme.key, "POST", "/mcp/servers", server("s4").server);
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe("QUOTA_EXCEEDED");
    expect((await auditEntries(acme)).length).toBe(before);
    expect((await op(acme, "dwizi.mcp.list", { limit: 200 })).servers.length).toBe(3);
    expect((await opError(acme, "dwizi.mcp.get", { slug: "s4" })).code).toBe("NOT_FOUND");

    await op(acme, "dwizi.mcp.delete", { slug: "s2" });
    const made = await op(acme, "dwizi.mcp.create", server("s4"));
    expect(made.server.slug).toBe("s4");
    expect(made.bearerToken).toMatch(/^mcp_/);
    expect((await op(acme, "dwizi.mcp.list", { limit: 200 })).servers.length).toBe(3);
  });

  test("dwizi.org.get reports counts against the default caps", async () => {
    const { usage } = (await op(acme, "dwizi.org.get")).org;
    expect(usage).toEqual({
      tools: { count: 10, cap: 10 },
      resources: { count: 20, cap: 20 },
      prompts: { count: 20, cap: 20 },
      servers: { count: 3, cap: 3 },
    });
  });
});

describe("caps under concurrency", () => {
  test("15 parallel tool creates against a cap of 10 → exactly 10 exist, 5 QUOTA_EXCEEDED", async () => {
    const all = await Promise.all(Array.from({ length: 15 }, (_, i) => rawCall(dzx.url, k.race.key, "dwizi.tools.create", tool(`race-${i}`))));
    for (const r of all) expect(r.status).toBe(200);
    const ok = all.filter((r) => !r.json.result.isError);
    const refused = all.filter((r) => r.json.result.isError);
    expect(ok.length).toBe(10);
    expect(refused.length).toBe(5);
    for (const r of refused) expect(r.json.result.structuredContent.error.code).toBe("QUOTA_EXCEEDED");
    const list = await rest(dzx.url, k.race.key, "GET", "/tools?limit=200");
    expect(list.json.tools.length).toBe(10);
    const created = ok.map((r) => r.json.result.structuredContent.tool.slug).sort();
    expect(list.json.tools.map((t: any) => t.slug).sort()).toEqual(created);
    const audit = await rest(dzx.url, k.race.key, "GET", "/audit?limit=500");
    expect(audit.json.entries.filter((a: any) => a.operation === "tools.create").length).toBe(10);
  });

  test("8 parallel REST server creates against a cap of 3 → exactly 3 exist", async () => {
    const all = await Promise.all(
      Array.from({ length: 8 }, (_, i) => rest(dzx.url, k.raceServers.key, "POST", "/mcp/servers", server(`rs-${i}`).server)),
    );
    expect(all.filter((r) => r.status === 201).length).toBe(3);
    const refused = all.filter((r) => r.status !== 201);
    expect(refused.length).toBe(5);
    for (const r of refused) {
      expect(r.status).toBe(403);
      expect(r.json.error.code).toBe("QUOTA_EXCEEDED");
    }
    expect((await rest(dzx.url, k.raceServers.key, "GET", "/mcp/servers?limit=200")).json.servers.length).toBe(3);
  });
});

describe("per-org caps (dzx orgs limits --set)", () => {
  let custom: Client;
  beforeAll(async () => {
    custom = await managementClient(dzx.url, k.custom.key);
  }, 60_000);
  afterAll(() => custom?.close());

  test("dwizi.org.get shows the org's caps and rate, defaults for the rest", async () => {
    const { usage, rate } = (await op(custom, "dwizi.org.get")).org;
    expect(rate).toMatchObject({ burst: 500, perMinute: 5000, perHour: 600 });
    expect(usage.tools.cap).toBe(11);
    expect(usage.prompts.cap).toBe(1);
    expect(usage.servers.cap).toBe(1);
    expect(usage.resources.cap).toBe(20);
  });

  test("a raised tool cap (11) admits an 11th tool and refuses the 12th", async () => {
    for (let i = 1; i <= 11; i++) await op(custom, "dwizi.tools.create", tool(`c${i}`));
    const e = await opError(custom, "dwizi.tools.create", tool("c12"));
    expectQuota(e, 11, "tools");
    expect((await op(custom, "dwizi.tools.list", { limit: 200 })).tools.length).toBe(11);
  });

  test("a lowered prompt cap (1) refuses the second prompt", async () => {
    await op(custom, "dwizi.prompts.create", prompt("only"));
    expectQuota(await opError(custom, "dwizi.prompts.create", prompt("second")), 1, "prompts");
    expect((await op(custom, "dwizi.prompts.list")).prompts.map((p: any) => p.slug)).toEqual(["only"]);
  });

  test("a lowered server cap (1) refuses the second server, over REST too", async () => {
    await op(custom, "dwizi.mcp.create", server("one"));
    expectQuota(await opError(custom, "dwizi.mcp.create", server("two")), 1, "servers");
    const r = await rest(dzx.url, k.custom.key, "POST", "/mcp/servers", server("two").server);
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe("QUOTA_EXCEEDED");
    expect((await op(custom, "dwizi.mcp.list")).servers.length).toBe(1);
  });

  test("one org's caps and counts do not affect another's", async () => {
    // acme is full on prompts (20) while custom's cap is 1; resources of custom are untouched
    expect((await op(custom, "dwizi.resources.create", resource("mine"))).resource.slug).toBe("mine");
    expect((await op(acme, "dwizi.org.get")).org.usage.prompts).toEqual({ count: 20, cap: 20 });
  });
});
