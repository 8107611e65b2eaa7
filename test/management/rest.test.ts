/**
 * The REST mirror under /api/v1: every route answers like its MCP operation (same
 * bodies, same errors, HTTP statuses per error code, 201 on create), and
 * /api/v1/openapi.json documents every operation under its name.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { operations } from "../../src/management/table.ts";
import { managementClient, op, opError, rest } from "../support/client.ts";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";

// Server start runs the CLI once per key; on a busy machine that alone can pass the 5 s default.
setDefaultTimeout(60_000);

let dzx: Dzx;
let keys: Record<"admin" | "reader" | "other", TestKey>;
let admin: Client;
let reader: Client;

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"], reader: ["acme", "tools:read,resources:read,prompts:read,mcp:read"], other: ["globex"] });
  dzx = s.dzx;
  keys = s.keys;
  [admin, reader] = await Promise.all([managementClient(dzx.url, keys.admin.key), managementClient(dzx.url, keys.reader.key)]);
}, 60_000);
afterAll(async () => {
  await Promise.all([admin, reader].map((c) => c?.close()));
  await dzx.dispose();
});

const api = (method: string, path: string, body?: unknown, key: string | null = keys.admin.key) => rest(dzx.url, key, method, path, body);
/** The REST answer must equal the MCP operation's structuredContent. */
const mirrors = async (res: { status: number; json: any }, name: string, args: Record<string, unknown> = {}, client = admin) => {
  expect(res.status).toBe(200);
  expect(res.json).toEqual(await op(client, name, args));
};
/** The REST error must equal the MCP operation's error, with the HTTP status of its code. */
const failsLike = async (res: { status: number; json: any }, status: number, name: string, args: Record<string, unknown>, client = admin) => {
  expect(res.status).toBe(status);
  expect(res.json.error).toEqual(await opError(client, name, args));
};

const SOURCE = "export default async (input) => input";

const library = [
  {
    plural: "tools",
    singular: "tool",
    input: { name: "Echo", slug: "echo", source: SOURCE, inputSchema: { type: "object", properties: { x: { type: "string" } } } },
    second: { name: "Echo Two", source: SOURCE },
    patch: { description: "Echoes", outputPolicy: "omit" },
    bad: { name: "Broken", source: "export default async () => {\n  return 1 +;\n}" },
  },
  {
    plural: "resources",
    singular: "resource",
    input: { uri: "resource://docs/echo", name: "Echo", slug: "echo", text: "hello" },
    second: { uri: "resource://docs/two", name: "Echo Two", blob: "AAEC" },
    patch: { text: "hello again", mimeType: "text/markdown" },
    bad: { uri: "resource://docs/bad", name: "Broken", text: "x", blob: "AAEC" },
  },
  {
    plural: "prompts",
    singular: "prompt",
    input: { name: "Echo", slug: "echo", arguments: [{ name: "x", required: true }], messages: [{ role: "user", content: "Say {{x}}" }] },
    second: { name: "Echo Two", messages: [{ role: "user", content: "Hi" }] },
    patch: { description: "Echoes" },
    bad: { name: "Broken", messages: [{ role: "user", content: "{{undeclared}}" }] },
  },
];

for (const k of library) {
  describe(`/api/v1/${k.plural}`, () => {
    let id = "";
    const get = `dwizi.${k.plural}.get`;

    test("POST creates with 201; GET by id or slug mirrors get", async () => {
      const created = await api("POST", `/${k.plural}`, k.input);
      expect(created.status).toBe(201);
      expect(created.json[k.singular]).toMatchObject({ slug: "echo", name: "Echo", orgId: keys.admin.orgId });
      id = created.json[k.singular].id;
      expect(await op(admin, get, { id })).toEqual(created.json);
      await mirrors(await api("GET", `/${k.plural}/${id}`), get, { id });
      await mirrors(await api("GET", `/${k.plural}/echo`), get, { slug: "echo" });
    });

    test("GET list mirrors list, with limit and cursor in the query", async () => {
      await op(admin, `dwizi.${k.plural}.create`, { [k.singular]: k.second });
      await mirrors(await api("GET", `/${k.plural}`), `dwizi.${k.plural}.list`);
      const first = await api("GET", `/${k.plural}?limit=1`);
      await mirrors(first, `dwizi.${k.plural}.list`, { limit: 1 });
      expect(first.json.total).toBe(2);
      const cursor = first.json.nextCursor;
      const next = await api("GET", `/${k.plural}?limit=1&cursor=${cursor}`);
      await mirrors(next, `dwizi.${k.plural}.list`, { limit: 1, cursor });
      expect(next.json[k.plural][0].slug).toBe("echo-two");
      await failsLike(await api("GET", `/${k.plural}?limit=0`), 400, `dwizi.${k.plural}.list`, { limit: 0 });
    });

    test("PATCH mirrors update", async () => {
      const res = await api("PATCH", `/${k.plural}/echo`, k.patch);
      expect(res.status).toBe(200);
      expect(res.json[k.singular]).toMatchObject({ id, ...k.patch });
      expect(await op(admin, get, { id })).toEqual(res.json);
    });

    test("errors match MCP's, with 400 / 403 / 404 / 409", async () => {
      await failsLike(await api("POST", `/${k.plural}`, k.bad), 400, `dwizi.${k.plural}.create`, { [k.singular]: k.bad });
      await failsLike(await api("POST", `/${k.plural}`, k.input), 409, `dwizi.${k.plural}.create`, { [k.singular]: k.input });
      await failsLike(await api("PATCH", `/${k.plural}/echo`, { slug: "echo-two" }), 409, `dwizi.${k.plural}.update`, { slug: "echo", patch: { slug: "echo-two" } });
      await failsLike(await api("GET", `/${k.plural}/nope`), 404, get, { id: "nope" });
      await failsLike(await api("POST", `/${k.plural}`, k.second, keys.reader.key), 403, `dwizi.${k.plural}.create`, { [k.singular]: k.second }, reader);
      expect((await api("GET", `/${k.plural}/${id}`, undefined, keys.other.key)).status).toBe(404);
      expect((await api("DELETE", `/${k.plural}/${id}`, undefined, keys.other.key)).status).toBe(404);
    });

    test("DELETE soft-deletes like delete", async () => {
      const res = await api("DELETE", `/${k.plural}/${id}`);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ deleted: true, id, slug: "echo" });
      expect((await opError(admin, get, { id })).code).toBe("NOT_FOUND");
      await failsLike(await api("DELETE", `/${k.plural}/${id}`), 404, `dwizi.${k.plural}.delete`, { id });
      expect((await api("POST", `/${k.plural}`, k.input)).status).toBe(201);
    });
  });
}

describe("/api/v1/mcp/servers (seed 001 paths)", () => {
  let sid = "";
  let token = "";
  let attachmentId = "";

  test("POST creates with 201, a bearer token and the endpoint; GET mirrors get and list", async () => {
    const created = await api("POST", "/mcp/servers", { name: "Sales Tools", description: "CRM", mode: "TOOLS", toolIds: ["echo"], resourceIds: ["echo"], promptIds: ["echo"] });
    expect(created.status).toBe(201);
    sid = created.json.server.id;
    token = created.json.bearerToken;
    expect(token).toMatch(/^mcp_[A-Za-z0-9]{32,}$/);
    expect(created.json.mcpEndpoint).toBe(`${dzx.url}/mcp/srv_${sid}`);
    const { bearerToken, mcpEndpoint, clientConfigs, ...detail } = created.json;
    expect(await op(admin, "dwizi.mcp.get", { id: sid })).toEqual(detail);
    await mirrors(await api("GET", `/mcp/servers/${sid}`), "dwizi.mcp.get", { id: sid });
    await mirrors(await api("GET", "/mcp/servers/sales-tools"), "dwizi.mcp.get", { slug: "sales-tools" });
    await mirrors(await api("GET", "/mcp/servers"), "dwizi.mcp.list");
    await mirrors(await api("GET", `/mcp/servers/${sid}/resources`), "dwizi.mcp.resources.list", { server: sid });
    await mirrors(await api("GET", `/mcp/servers/${sid}/prompts`), "dwizi.mcp.prompts.list", { server: sid });
    expect((await api("GET", `/mcp/servers/${sid}/prompts`)).json.prompts).toHaveLength(1);
  });

  test("PATCH mirrors update; inline resources are refused with 400", async () => {
    const res = await api("PATCH", `/mcp/servers/${sid}`, { name: "Updated Name", mode: "CODE" });
    expect(res.status).toBe(200);
    expect(res.json.server).toMatchObject({ id: sid, name: "Updated Name", mode: "CODE", description: "CRM" });
    expect(await op(admin, "dwizi.mcp.get", { id: sid })).toEqual(res.json);
    const inline = await api("POST", "/mcp/servers", { name: "Inline", resources: [{ uri: "resource://x", name: "x", text: "x" }] });
    expect(inline.status).toBe(400);
    expect(inline.json.error.message).toContain("resourceIds");
    await failsLike(await api("PATCH", `/mcp/servers/${sid}`, { prompts: [] }), 400, "dwizi.mcp.update", { id: sid, patch: { prompts: [] } });
  });

  test("POST regenerate-token issues a new token for the same endpoint", async () => {
    const res = await api("POST", `/mcp/servers/${sid}/regenerate-token`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.json).sort()).toEqual(["bearerToken", "mcpEndpoint"]);
    expect(res.json.bearerToken).toMatch(/^mcp_[A-Za-z0-9]{32,}$/);
    expect(res.json.mcpEndpoint).toBe(`${dzx.url}/mcp/srv_${sid}`);
    expect(res.json.bearerToken).not.toBe(token);
    expect((await api("POST", "/mcp/servers/nope/regenerate-token")).status).toBe(404);
  });

  test("server tools: POST 201, GET mirrors tools.list, PATCH and DELETE by attachment id", async () => {
    const added = await api("POST", `/mcp/servers/${sid}/tools`, { toolSlug: "echo-two", alias: "slack_bot", displayName: "Bot", inputDefaults: { x: "hi" }, sortOrder: -5 });
    expect(added.status).toBe(201);
    attachmentId = added.json.attachment.id;
    expect(added.json.attachment).toMatchObject({ mcpServerId: sid, alias: "slack_bot", exposedName: "slack_bot__echo-two", displayName: "Bot", sortOrder: -5 });
    const list = await api("GET", `/mcp/servers/${sid}/tools`);
    await mirrors(list, "dwizi.mcp.tools.list", { server: sid });
    expect(list.json.tools.map((t: any) => t.exposedName)).toEqual(["slack_bot__echo-two", "echo"]);
    await failsLike(await api("POST", `/mcp/servers/${sid}/tools`, { toolSlug: "echo-two", alias: "slack_bot" }), 409, "dwizi.mcp.tools.add", { server: sid, toolSlug: "echo-two", alias: "slack_bot" });
    await failsLike(await api("POST", `/mcp/servers/${sid}/tools`, { toolSlug: "echo", alias: "Slack" }), 400, "dwizi.mcp.tools.add", { server: sid, toolSlug: "echo", alias: "Slack" });
    await failsLike(await api("POST", "/mcp/servers/nope/tools", { toolSlug: "echo" }), 404, "dwizi.mcp.tools.add", { server: "nope", toolSlug: "echo" });
    const patched = await api("PATCH", `/mcp/servers/${sid}/tools/${attachmentId}`, { displayName: "Send Bot Message", sortOrder: 1 });
    expect(patched.status).toBe(200);
    expect(patched.json.attachment).toMatchObject({ id: attachmentId, displayName: "Send Bot Message", sortOrder: 1, alias: "slack_bot" });
    expect((await op(admin, "dwizi.mcp.tools.list", { server: sid })).tools.find((t: any) => t.id === attachmentId)).toEqual(patched.json.attachment);
    const removed = await api("DELETE", `/mcp/servers/${sid}/tools/${attachmentId}`);
    expect(removed.status).toBe(200);
    expect(removed.json).toEqual({ deleted: true, id: attachmentId });
    await failsLike(await api("DELETE", `/mcp/servers/${sid}/tools/${attachmentId}`), 404, "dwizi.mcp.tools.remove", { server: sid, attachmentId });
  });

  test("DELETE soft-deletes the server", async () => {
    const res = await api("DELETE", `/mcp/servers/${sid}`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ deleted: true, id: sid, slug: "sales-tools" });
    expect((await api("GET", `/mcp/servers/${sid}`)).status).toBe(404);
    await mirrors(await api("GET", "/mcp/servers"), "dwizi.mcp.list");
  });
});

describe("/api/v1/secrets, /keys, /audit, /org", () => {
  test("secrets: PUT sets write-only values, GET mirrors list, DELETE by name and end user", async () => {
    const put = await api("PUT", "/secrets/API_TOKEN", { value: "sk-live-1234567890" });
    expect(put.status).toBe(200);
    expect(put.json.secret).toMatchObject({ name: "API_TOKEN", masked: "••••7890" });
    const user = await api("PUT", "/secrets/API_TOKEN", { value: "short", endUserId: "u1" });
    expect(user.json.secret).toMatchObject({ name: "API_TOKEN", endUserId: "u1", masked: "••••" });
    const list = await api("GET", "/secrets");
    await mirrors(list, "dwizi.secrets.list");
    expect(list.json.secrets).toHaveLength(2);
    expect(list.text).not.toContain("sk-live");
    const del = await api("DELETE", "/secrets/API_TOKEN?endUserId=u1");
    expect(del.status).toBe(200);
    expect(del.json).toEqual({ deleted: true, name: "API_TOKEN", endUserId: "u1" });
    await mirrors(await api("GET", "/secrets"), "dwizi.secrets.list");
    expect((await api("GET", "/secrets")).json.secrets.map((s: any) => s.endUserId ?? null)).toEqual([null]);
    await failsLike(await api("DELETE", "/secrets/MISSING"), 404, "dwizi.secrets.delete", { name: "MISSING" });
    await failsLike(await api("PUT", "/secrets/bad-name", { value: "x" }), 400, "dwizi.secrets.set", { name: "bad-name", value: "x" });
  });

  test("keys: POST 201 shows the key once, GET mirrors list, rotate and revoke take effect at once", async () => {
    const made = await api("POST", "/keys", { name: "ci", scopes: ["tools:read"] });
    expect(made.status).toBe(201);
    // (no asymmetric matchers on bodies read again later: Bun's toMatchObject writes them into the received object)
    expect(Object.keys(made.json).sort()).toEqual(["key", "keyId", "scopes"]);
    expect(made.json.scopes).toEqual(["tools:read"]);
    expect(made.json.key).toMatch(/^dwz_live_/);
    const strip = (ks: any[]) => ks.map(({ lastUsedAt, ...k }) => k);
    const listed = await api("GET", "/keys");
    expect(strip(listed.json.keys)).toEqual(strip((await op(admin, "dwizi.keys.list")).keys));
    expect(listed.text).not.toContain(made.json.key);
    expect((await api("GET", "/tools", undefined, made.json.key)).status).toBe(200);
    expect((await api("POST", "/tools", { name: "x", source: SOURCE }, made.json.key)).status).toBe(403);
    const rotated = await api("POST", `/keys/${made.json.keyId}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.json.keyId).toBe(made.json.keyId);
    expect(rotated.json.key).toMatch(/^dwz_live_/);
    expect((await api("GET", "/tools", undefined, made.json.key)).status).toBe(401);
    expect((await api("GET", "/tools", undefined, rotated.json.key)).status).toBe(200);
    const revoked = await api("DELETE", `/keys/${made.json.keyId}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json).toEqual({ revoked: true, keyId: made.json.keyId });
    expect((await api("GET", "/tools", undefined, rotated.json.key)).status).toBe(401);
    await failsLike(await api("DELETE", `/keys/${made.json.keyId}`), 404, "dwizi.keys.revoke", { keyId: made.json.keyId });
    await failsLike(await api("POST", "/keys", { scopes: ["tools:fly"] }), 400, "dwizi.keys.create", { scopes: ["tools:fly"] });
    await failsLike(await api("POST", "/keys", { scopes: ["tools:read"] }, keys.reader.key), 403, "dwizi.keys.create", { scopes: ["tools:read"] }, reader);
  });

  test("GET /audit mirrors audit.list and records REST writes", async () => {
    const res = await api("GET", "/audit?limit=5");
    await mirrors(res, "dwizi.audit.list", { limit: 5 });
    expect(res.json.entries[0]).toMatchObject({ operation: "keys.revoke", actorKeyId: keys.admin.keyId, targetType: "key" });
    expect(res.json.entries).toHaveLength(5);
  });

  test("GET /audit?before=<ISO time> pages backwards like audit.list", async () => {
    const before = (await op(admin, "dwizi.audit.list", { limit: 3 })).entries[2].at;
    const res = await api("GET", `/audit?limit=2&before=${encodeURIComponent(before)}`);
    await mirrors(res, "dwizi.audit.list", { limit: 2, before });
    for (const e of res.json.entries) expect(e.at < before).toBe(true);
  });

  test("GET /org mirrors org.get", async () => {
    const res = await api("GET", "/org");
    await mirrors(res, "dwizi.org.get");
    expect(res.json.org).toMatchObject({ id: keys.admin.orgId, name: "acme" });
    expect(res.json.org.usage.tools).toEqual({ count: 2, cap: 10 });
  });
});

describe("auth and malformed requests", () => {
  test("401 without or with a bad key; every auth header works; RateLimit headers are sent", async () => {
    const none = await api("GET", "/tools", undefined, null);
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe("UNAUTHORIZED");
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    expect((await api("GET", "/tools", undefined, "dwz_live_nope")).status).toBe(401);
    for (const header of ["x-dwizi-key", "x-management-token"]) {
      const res = await rest(dzx.url, null, "GET", "/tools", undefined, { [header]: keys.admin.key });
      await mirrors(res, "dwizi.tools.list");
      expect(res.headers.get("ratelimit-limit")).toMatch(/^\d+$/);
      expect(res.headers.get("ratelimit-remaining")).toMatch(/^\d+$/);
    }
  });

  test("malformed JSON, non-object bodies and unknown routes are JSON errors", async () => {
    const bad = await api("POST", "/tools", "{not json");
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION_ERROR");
    expect((await api("POST", "/tools", "[1,2]")).json.error.code).toBe("VALIDATION_ERROR");
    const missing = await api("POST", "/tools", "");
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toContain("tool");
    const nowhere = await api("GET", "/nowhere");
    expect(nowhere.status).toBe(404);
    expect(nowhere.json.error.code).toBe("NOT_FOUND");
  });
});

describe("GET /api/v1/openapi.json", () => {
  const seedRoutes: [string, string, string][] = [
    ["get", "/org", "dwizi.org.get"],
    ...["tools", "resources", "prompts"].flatMap((p): [string, string, string][] => [
      ["get", `/${p}`, `dwizi.${p}.list`],
      ["post", `/${p}`, `dwizi.${p}.create`],
      ["get", `/${p}/{id}`, `dwizi.${p}.get`],
      ["patch", `/${p}/{id}`, `dwizi.${p}.update`],
      ["delete", `/${p}/{id}`, `dwizi.${p}.delete`],
    ]),
    ["get", "/mcp/servers", "dwizi.mcp.list"],
    ["post", "/mcp/servers", "dwizi.mcp.create"],
    ["get", "/mcp/servers/{id}", "dwizi.mcp.get"],
    ["patch", "/mcp/servers/{id}", "dwizi.mcp.update"],
    ["delete", "/mcp/servers/{id}", "dwizi.mcp.delete"],
    ["post", "/mcp/servers/{id}/regenerate-token", "dwizi.mcp.rotate_token"],
    ["get", "/mcp/servers/{id}/tools", "dwizi.mcp.tools.list"],
    ["post", "/mcp/servers/{id}/tools", "dwizi.mcp.tools.add"],
    ["patch", "/mcp/servers/{id}/tools/{toolId}", "dwizi.mcp.tools.update"],
    ["delete", "/mcp/servers/{id}/tools/{toolId}", "dwizi.mcp.tools.remove"],
    ["get", "/secrets", "dwizi.secrets.list"],
    ["put", "/secrets/{name}", "dwizi.secrets.set"],
    ["delete", "/secrets/{name}", "dwizi.secrets.delete"],
    ["get", "/keys", "dwizi.keys.list"],
    ["post", "/keys", "dwizi.keys.create"],
    ["delete", "/keys/{keyId}", "dwizi.keys.revoke"],
    ["post", "/keys/{keyId}/rotate", "dwizi.keys.rotate"],
    ["get", "/audit", "dwizi.audit.list"],
  ];

  test("lists every MCP operation once, under its path and method, with operationId = name", async () => {
    const res = await rest(dzx.url, null, "GET", "/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.json;
    expect(doc.openapi).toMatch(/^3\.1/);
    const documented: string[] = [];
    for (const [path, methods] of Object.entries<any>(doc.paths)) {
      expect(path.startsWith("/api/v1/")).toBe(true);
      for (const [method, o] of Object.entries<any>(methods)) {
        documented.push(o.operationId);
        const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        for (const p of params) expect(o.parameters).toContainEqual(expect.objectContaining({ name: p, in: "path", required: true }));
        expect(Object.keys(o.responses)).toContain(method === "post" && /create|add$/.test(o.operationId) ? "201" : "200");
      }
    }
    const mcpNames = (await admin.listTools()).tools.map((t) => t.name);
    expect([...documented].sort()).toEqual([...mcpNames].sort());
    expect(new Set(documented).size).toBe(documented.length);
    for (const o of operations) {
      const path = `/api/v1${o.rest.path.replace(/:(\w+)/g, "{$1}")}`;
      expect(doc.paths[path]?.[o.rest.method.toLowerCase()]?.operationId).toBe(o.name);
    }
    for (const [method, path, name] of seedRoutes) expect(doc.paths[`/api/v1${path}`]?.[method]?.operationId).toBe(name);
  });

  test("create routes document their body and a 201", async () => {
    const doc = (await rest(dzx.url, null, "GET", "/openapi.json")).json;
    for (const [path, name] of [["/api/v1/tools", "tool"], ["/api/v1/mcp/servers", "server"]]) {
      const o = doc.paths[path].post;
      expect(o.responses["201"]).toBeDefined();
      expect(o.requestBody.content["application/json"].schema.properties).toHaveProperty("name");
      expect(o.description).toContain(`dwizi.${name === "tool" ? "tools" : "mcp"}.create`);
    }
    expect(doc.paths["/api/v1/mcp/servers/{id}/tools"].post.responses["201"]).toBeDefined();
    expect(doc.paths["/api/v1/keys"].post.responses["201"]).toBeDefined();
  });
});

test("every answer carries an X-Request-Id: the client's own when it sent one, else a new one per request", async () => {
  const get = (headers: Record<string, string> = {}) => fetch(`${dzx.url}/api/v1/tools`, { headers: { authorization: `Bearer ${keys.admin.key}`, ...headers } });
  const [a, b] = [await get(), await get()];
  const [ida, idb] = [a.headers.get("x-request-id"), b.headers.get("x-request-id")];
  expect(ida).toBeTruthy();
  expect(idb).toBeTruthy();
  expect(ida).not.toBe(idb);
  expect((await get({ "x-request-id": "trace-42" })).headers.get("x-request-id")).toBe("trace-42");
  // errors carry one too, so a failed request can be found in the log
  expect((await fetch(`${dzx.url}/api/v1/tools`)).headers.get("x-request-id")).toBeTruthy();
});
