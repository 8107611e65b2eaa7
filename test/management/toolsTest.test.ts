/**
 * dwizi.tools.test refuses what a hosted call refuses (issue 15, point 5): its input is
 * checked against the tool's input schema and its secrets resolved (org-wide, or as an
 * end user) through the hosted call's own admission, with the same messages; a test
 * that runs shows the tool the secret and keeps it out of logs and call records.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { managementClient, op, opError, rest } from "../support/client.ts";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";
import { createServer, hostedClient } from "../hosted/support.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const rand = () => crypto.randomUUID().replace(/-/g, "");
const ORG_SECRET = `org_${rand()}`;
const ADA_SECRET = `ada_${rand()}`;
const reversed = (s: string) => s.split("").reverse().join("");

let dzx: Dzx;
let key: TestKey;
let admin: Client;

/** The first text block of a hosted call's result. */
const text = (r: any): string => r.content[0].text;

/** A hosted call's result on a new server exposing `tool` (for `endUserId` when given). */
async function hostedCall(tool: string, args: Record<string, unknown>, endUserId?: string) {
  const s = await createServer(admin, { name: `Srv ${rand().slice(0, 8)}`, toolIds: [tool], ...(endUserId ? { endUserId } : {}) });
  const client = await hostedClient(s.endpoint, s.token);
  try {
    return await client.callTool({ name: tool, arguments: args });
  } finally {
    await client.close();
    await op(admin, "dwizi.mcp.delete", { id: s.id });
  }
}

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"] });
  dzx = s.dzx;
  key = s.keys.admin;
  admin = await managementClient(dzx.url, key.key);
  const numbers = { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] };
  await op(admin, "dwizi.tools.create", { tool: { name: "add", slug: "add", inputSchema: numbers, source: "export default async ({ a, b }) => ({ sum: a + b })" } });
  // proves it saw the whole value without returning it; prints it, so the log must redact it
  const keyed = `export default async (input, context) => {
    const k = context.secrets.API_KEY;
    console.log("using key " + k);
    return { reversed: k.split("").reverse().join(""), endUserId: context.endUserId };
  }`;
  await op(admin, "dwizi.tools.create", { tool: { name: "keyed", slug: "keyed", secrets: ["API_KEY"], source: keyed } });
}, 60_000);
afterAll(async () => {
  await admin?.close().catch(() => {});
  await dzx?.dispose();
});

describe("input checked against the tool's schema", () => {
  test("a wrong-typed input is refused with the message a hosted call gives, on MCP and REST", async () => {
    const hosted = await hostedCall("add", { a: "x", b: 2 });
    expect(hosted.isError).toBe(true);
    expect(text(hosted)).toContain('"a"');

    const e = await opError(admin, "dwizi.tools.test", { slug: "add", input: { a: "x", b: 2 } });
    expect(e).toMatchObject({ code: "VALIDATION_ERROR", message: text(hosted) });

    const r = await rest(dzx.url, key.key, "POST", "/tools/add/test", { input: { a: "x", b: 2 } });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: "VALIDATION_ERROR", message: text(hosted) });
    expect(r.text).not.toContain("x2");
  });

  test("a missing required property is refused as a hosted call refuses it", async () => {
    const hosted = await hostedCall("add", { a: 1 });
    expect(hosted.isError).toBe(true);
    expect(await opError(admin, "dwizi.tools.test", { slug: "add", input: { a: 1 } })).toMatchObject({ code: "VALIDATION_ERROR", message: text(hosted) });
  });

  test("a well-typed input runs", async () => {
    expect((await op(admin, "dwizi.tools.test", { slug: "add", input: { a: 1, b: 2 } })).output).toEqual({ sum: 3 });
    const r = await rest(dzx.url, key.key, "POST", "/tools/add/test", { input: { a: 1, b: 2 } });
    expect(r.status).toBe(200);
    expect(r.json.output).toEqual({ sum: 3 });
  });
});

describe("secrets resolved as a hosted call resolves them", () => {
  test("a secret that is not set is refused, naming it and how to set it, as a hosted call is", async () => {
    const hosted = await hostedCall("keyed", {});
    expect(hosted.isError).toBe(true);
    const e = await opError(admin, "dwizi.tools.test", { slug: "keyed", input: {} });
    expect(e.code).toBe("MISSING_SECRET");
    expect(e.message).toBe(text(hosted));
    expect(e.message).toContain('"API_KEY"');
    expect(e.message).toContain("dwizi.secrets.set");

    const r = await rest(dzx.url, key.key, "POST", "/tools/keyed/test", { input: {} });
    expect(r.status).toBe(409);
    expect(r.json.error).toMatchObject({ code: "MISSING_SECRET", message: text(hosted), details: { secret: "API_KEY" } });
  });

  test("the OpenAPI document lists MISSING_SECRET among the test route's 409 answers", async () => {
    const doc = (await rest(dzx.url, null, "GET", "/openapi.json")).json;
    expect(doc.paths["/api/v1/tools/{id}/test"].post.responses["409"].description).toContain("MISSING_SECRET");
  });

  test("as an end user, the missing secret is named for that end user, as on the end user's server", async () => {
    const hosted = await hostedCall("keyed", {}, "ada");
    expect(hosted.isError).toBe(true);
    const e = await opError(admin, "dwizi.tools.test", { slug: "keyed", input: {}, endUserId: "ada" });
    expect(e.code).toBe("MISSING_SECRET");
    // the hosted error words it the same, then adds the end user's setup link (issue 17.7), which a test without a server has not
    expect(text(hosted).startsWith(`${e.message} Or the end user enters it at ${dzx.url}/setup/`)).toBe(true);
    expect(e.message).toContain('"endUserId":"ada"');
  });

  test("with the org's secret set the test runs, the tool sees the value, and the logs keep none of it", async () => {
    await op(admin, "dwizi.secrets.set", { name: "API_KEY", value: ORG_SECRET });
    const r = await admin.callTool({ name: "dwizi.tools.test", arguments: { slug: "keyed", input: {} } });
    const out = r.structuredContent as any;
    expect(out.isError).toBe(false);
    expect(out.output).toEqual({ reversed: reversed(ORG_SECRET), endUserId: null });
    expect(out.logs.map((l: any) => l.message)).toEqual(["using key [secret]"]);
    expect(JSON.stringify(r)).not.toContain(ORG_SECRET);

    const viaRest = await rest(dzx.url, key.key, "POST", "/tools/keyed/test", { input: {} });
    expect(viaRest.status).toBe(200);
    expect(viaRest.json.output.reversed).toBe(reversed(ORG_SECRET));
    expect(viaRest.text).not.toContain(ORG_SECRET);
  });

  test("as an end user: the org's value until the end user has one, then the end user's", async () => {
    const before = await op(admin, "dwizi.tools.test", { slug: "keyed", input: {}, endUserId: "ada" });
    expect(before.output).toEqual({ reversed: reversed(ORG_SECRET), endUserId: "ada" });

    await op(admin, "dwizi.secrets.set", { name: "API_KEY", value: ADA_SECRET, endUserId: "ada" });
    const r = await admin.callTool({ name: "dwizi.tools.test", arguments: { slug: "keyed", input: {}, endUserId: "ada" } });
    const out = r.structuredContent as any;
    expect(out.output).toEqual({ reversed: reversed(ADA_SECRET), endUserId: "ada" });
    expect(out.logs.map((l: any) => l.message)).toEqual(["using key [secret]"]);
    expect(JSON.stringify(r)).not.toContain(ADA_SECRET);
    // another end user, or none, still gets the org's value
    expect((await op(admin, "dwizi.tools.test", { slug: "keyed", input: {} })).output.reversed).toBe(reversed(ORG_SECRET));

    const viaRest = await rest(dzx.url, key.key, "POST", "/tools/keyed/test", { input: {}, endUserId: "ada" });
    expect(viaRest.json.output.reversed).toBe(reversed(ADA_SECRET));
    expect(viaRest.text).not.toContain(ADA_SECRET);
  });

  test("test calls leave nothing of the secret in the call records", async () => {
    const before = (await op(admin, "dwizi.calls.list", { limit: 500 })).calls;
    await op(admin, "dwizi.tools.test", { slug: "keyed", input: {}, endUserId: "ada" });
    await op(admin, "dwizi.tools.test", { slug: "keyed", input: {} });
    const after = await rest(dzx.url, key.key, "GET", "/calls?limit=500");
    expect(after.status).toBe(200);
    expect(after.json.calls).toHaveLength(before.length);
    for (const secret of [ORG_SECRET, ADA_SECRET]) expect(after.text).not.toContain(secret);
  });
});
