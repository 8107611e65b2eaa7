/**
 * Authentication on both management surfaces (SPEC "Tenancy, keys and scopes"):
 * the three key headers, 401s with the right body, and revocation and rotation
 * taking effect on the very next request.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { managementClient, op, opError, rest, rpc } from "../support/client.ts";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

let dzx: Dzx;
let admin: TestKey;
let reader: TestKey;
let adminClient: Client;

/** Generous limits, so keys made through the API never hit the default 20-per-10-s burst. */
const RATE = { burst: 100000, perMinute: 100000, perHour: 1000000 };

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["orgA"], reader: ["orgA", "tools:read"] });
  dzx = s.dzx;
  admin = s.keys.admin;
  reader = s.keys.reader;
  adminClient = await managementClient(dzx.url, admin.key);
}, 60_000);
afterAll(async () => {
  await adminClient?.close();
  await dzx?.dispose();
});

const HEADERS = ["authorization", "x-dwizi-key", "x-management-token"] as const;

/** The header object that presents `key` the given way. */
function presented(header: (typeof HEADERS)[number], key: string): Record<string, string> {
  return header === "authorization" ? { authorization: `Bearer ${key}` } : { [header]: key };
}

const listTools = { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "dwizi.tools.list", arguments: {} } };

/** A fresh key in orgA, made by the admin through dwizi.keys.create. */
async function freshKey(scopes: string[] = ["tools:read", "org:read"]): Promise<{ key: string; keyId: string }> {
  return op(adminClient, "dwizi.keys.create", { name: "temp", scopes, rate: RATE });
}

/** Asserts an MCP 401: HTTP status, JSON-RPC 2.0 error envelope, no result. */
function expectRpc401(r: Awaited<ReturnType<typeof rpc>>) {
  expect(r.status).toBe(401);
  expect(r.headers.get("content-type")).toContain("application/json");
  expect(r.json).toMatchObject({ jsonrpc: "2.0", id: null });
  expect(typeof r.json.error.code).toBe("number");
  expect(r.json.error.message.length).toBeGreaterThan(0);
  expect(r.json.result).toBeUndefined();
}

/** Asserts a REST 401 with the UNAUTHORIZED error body. */
function expectRest401(r: Awaited<ReturnType<typeof rest>>) {
  expect(r.status).toBe(401);
  expect(r.json.error.code).toBe("UNAUTHORIZED");
  expect(typeof r.json.error.message).toBe("string");
}

describe("each auth header works", () => {
  for (const header of HEADERS) {
    test(`${header} through the official SDK client`, async () => {
      const client = await managementClient(dzx.url, admin.key, header);
      try {
        const out = await op(client, "dwizi.org.get");
        expect(out.org).toMatchObject({ id: admin.orgId, name: "orgA" });
      } finally {
        await client.close();
      }
    });

    test(`${header} on a raw JSON-RPC call`, async () => {
      const r = await rpc(dzx.url, null, listTools, { headers: presented(header, admin.key) });
      expect(r.status).toBe(200);
      expect(r.json.id).toBe(7);
      expect(r.json.result.isError).toBeFalsy();
      expect(r.json.result.structuredContent).toMatchObject({ tools: [], total: 0 });
    });

    test(`${header} on REST`, async () => {
      const r = await rest(dzx.url, null, "GET", "/org", undefined, presented(header, admin.key));
      expect(r.status).toBe(200);
      expect(r.json.org.id).toBe(admin.orgId);
    });
  }

  test("the key's own scopes apply whichever header carries it", async () => {
    for (const header of HEADERS) {
      const r = await rest(dzx.url, null, "GET", "/org", undefined, presented(header, reader.key));
      expect(r.status).toBe(403);
      expect(r.json.error.code).toBe("FORBIDDEN_SCOPE");
      const ok = await rest(dzx.url, null, "GET", "/tools", undefined, presented(header, reader.key));
      expect(ok.status).toBe(200);
    }
  });
});

describe("missing or invalid key → 401", () => {
  test("no key at all: MCP answers 401 with a JSON-RPC error body", async () => {
    const r = await rpc(dzx.url, null, listTools);
    expectRpc401(r);
    expect(r.headers.get("www-authenticate")).toContain("Bearer");
    // initialize is refused too: no session is handed out without a key
    const init = await rpc(dzx.url, null, {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    });
    expectRpc401(init);
    expect(init.headers.get("mcp-session-id")).toBeNull();
  });

  test("no key at all: REST answers 401 UNAUTHORIZED on every route", async () => {
    for (const [method, path] of [["GET", "/org"], ["GET", "/tools"], ["POST", "/keys"], ["DELETE", "/secrets/X"], ["GET", "/audit"]] as const) {
      const r = await rest(dzx.url, null, method, path, method === "POST" ? { scopes: ["tools:read"] } : undefined);
      expectRest401(r);
    }
  });

  test("garbage keys in every header: MCP 401", async () => {
    const bad = ["dwz_live_0000000000000000000000000000000000000000", "not-a-key", `${admin.key}x`, admin.key.slice(0, -1)];
    for (const header of HEADERS) {
      for (const key of bad) expectRpc401(await rpc(dzx.url, null, listTools, { headers: presented(header, key) }));
    }
  });

  test("garbage keys in every header: REST 401 UNAUTHORIZED", async () => {
    const bad = ["dwz_live_0000000000000000000000000000000000000000", "not-a-key", `${admin.key}x`];
    for (const header of HEADERS) {
      for (const key of bad) expectRest401(await rest(dzx.url, null, "GET", "/tools", undefined, presented(header, key)));
    }
  });

  test("a non-Bearer Authorization scheme is not a key", async () => {
    expectRpc401(await rpc(dzx.url, null, listTools, { headers: { authorization: `Basic ${btoa(`x:${admin.key}`)}` } }));
    expectRest401(await rest(dzx.url, null, "GET", "/tools", undefined, { authorization: `Token ${admin.key}` }));
  });

  test("the official SDK client cannot connect with a garbage key", async () => {
    await expect(managementClient(dzx.url, "dwz_live_nope")).rejects.toMatchObject({ code: 401 });
  });

  test("nothing was written by the refused requests", async () => {
    const audit = await op(adminClient, "dwizi.audit.list");
    expect(audit.entries.filter((e: any) => e.operation !== "keys.create")).toEqual([]);
  });
});

describe("revocation takes effect on the very next request", () => {
  test("MCP: raw calls and an open SDK session are refused right after revoke", async () => {
    const k = await freshKey();
    const client = await managementClient(dzx.url, k.key, "x-dwizi-key");
    try {
      expect((await op(client, "dwizi.tools.list")).tools).toEqual([]);
      expect((await rpc(dzx.url, k.key, listTools)).status).toBe(200);

      expect(await op(adminClient, "dwizi.keys.revoke", { keyId: k.keyId })).toEqual({ revoked: true, keyId: k.keyId });

      expectRpc401(await rpc(dzx.url, k.key, listTools));
      await expect(client.callTool({ name: "dwizi.tools.list", arguments: {} })).rejects.toMatchObject({ code: 401 });
      await expect(managementClient(dzx.url, k.key)).rejects.toMatchObject({ code: 401 });
    } finally {
      await client.close().catch(() => {});
    }
  });

  test("REST: revoked through DELETE /keys/:keyId, refused on the next request", async () => {
    const k = await freshKey();
    expect((await rest(dzx.url, k.key, "GET", "/org")).status).toBe(200);
    const del = await rest(dzx.url, admin.key, "DELETE", `/keys/${k.keyId}`);
    expect(del.status).toBe(200);
    expect(del.json).toEqual({ revoked: true, keyId: k.keyId });
    expectRest401(await rest(dzx.url, k.key, "GET", "/org"));
    for (const header of HEADERS) expectRest401(await rest(dzx.url, null, "GET", "/tools", undefined, presented(header, k.key)));
    expectRpc401(await rpc(dzx.url, k.key, listTools));
  });

  test("a key can revoke itself, and that very request is its last", async () => {
    const k = await freshKey(["keys:write"]);
    const r = await rest(dzx.url, k.key, "DELETE", `/keys/${k.keyId}`);
    expect(r.status).toBe(200);
    expectRest401(await rest(dzx.url, k.key, "GET", "/keys"));
  });

  test("the revoked key is listed as revoked, cannot be revoked or rotated again, and others keep working", async () => {
    const k = await freshKey();
    await op(adminClient, "dwizi.keys.revoke", { keyId: k.keyId });
    const listed = (await op(adminClient, "dwizi.keys.list")).keys.find((x: any) => x.keyId === k.keyId);
    expect(listed.revokedAt).toEqual(expect.any(String));
    expect((await opError(adminClient, "dwizi.keys.revoke", { keyId: k.keyId })).code).toBe("NOT_FOUND");
    expect((await opError(adminClient, "dwizi.keys.rotate", { keyId: k.keyId })).code).toBe("NOT_FOUND");
    expectRpc401(await rpc(dzx.url, k.key, listTools));
    expect((await rpc(dzx.url, reader.key, listTools)).status).toBe(200);
    expect((await rest(dzx.url, admin.key, "GET", "/org")).status).toBe(200);
  });

  test("creation and revocation are audited against the acting key", async () => {
    const k = await freshKey();
    expect((await rest(dzx.url, k.key, "GET", "/tools")).status).toBe(200);
    const entries = (await op(adminClient, "dwizi.audit.list", { limit: 5 })).entries;
    expect(entries[0]).toMatchObject({ operation: "keys.create", targetId: k.keyId, actorKeyId: admin.keyId });
    await op(adminClient, "dwizi.keys.revoke", { keyId: k.keyId });
    expectRest401(await rest(dzx.url, k.key, "GET", "/tools"));
    const after = (await op(adminClient, "dwizi.audit.list", { limit: 1 })).entries[0];
    expect(after).toMatchObject({ operation: "keys.revoke", targetId: k.keyId, actorKeyId: admin.keyId });
  });
});

describe("rotation", () => {
  test("MCP: new secret, same keyId and scopes; old secret fails at once", async () => {
    const k = await freshKey(["tools:read"]);
    const oldClient = await managementClient(dzx.url, k.key);
    try {
      await op(oldClient, "dwizi.tools.list");
      const rotated = await op(adminClient, "dwizi.keys.rotate", { keyId: k.keyId });
      expect(rotated.keyId).toBe(k.keyId);
      expect(rotated.key).toMatch(/^dwz_live_[A-Za-z0-9]{40}$/);
      expect(rotated.key).not.toBe(k.key);

      expectRpc401(await rpc(dzx.url, k.key, listTools));
      expectRest401(await rest(dzx.url, k.key, "GET", "/tools"));
      await expect(oldClient.callTool({ name: "dwizi.tools.list", arguments: {} })).rejects.toMatchObject({ code: 401 });

      const fresh = await managementClient(dzx.url, rotated.key);
      try {
        expect((await op(fresh, "dwizi.tools.list")).total).toBe(0);
        // same scopes: still read-only
        const denied = await opError(fresh, "dwizi.tools.create", { tool: { name: "Nope", source: "export default async () => 1" } });
        expect(denied.code).toBe("FORBIDDEN_SCOPE");
      } finally {
        await fresh.close();
      }

      const listed = (await op(adminClient, "dwizi.keys.list")).keys.filter((x: any) => x.keyId === k.keyId);
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ scopes: ["tools:read"], revokedAt: null, rotatedAt: expect.any(String) });
      expect(listed[0].prefix.replace("…", "")).toBe(rotated.key.slice(0, 13));
      expect(JSON.stringify(listed[0])).not.toContain(rotated.key);
    } finally {
      await oldClient.close().catch(() => {});
    }
  });

  test("REST: POST /keys/:keyId/rotate; old fails, new works, rotating again invalidates the second secret", async () => {
    const k = await freshKey(["org:read"]);
    const r1 = await rest(dzx.url, admin.key, "POST", `/keys/${k.keyId}/rotate`);
    expect(r1.status).toBe(200);
    expect(r1.json.keyId).toBe(k.keyId);
    expectRest401(await rest(dzx.url, k.key, "GET", "/org"));
    const ok = await rest(dzx.url, r1.json.key, "GET", "/org");
    expect(ok.status).toBe(200);
    expect(ok.json.org.id).toBe(admin.orgId);

    const r2 = await rest(dzx.url, admin.key, "POST", `/keys/${k.keyId}/rotate`);
    expect(r2.json.key).not.toBe(r1.json.key);
    expectRest401(await rest(dzx.url, r1.json.key, "GET", "/org"));
    expect((await rest(dzx.url, r2.json.key, "GET", "/org", undefined)).status).toBe(200);
    expect((await rest(dzx.url, null, "GET", "/org", undefined, { "x-management-token": r2.json.key })).status).toBe(200);
  });

  test("a key can rotate itself; the response carries the only copy of the new secret", async () => {
    const k = await freshKey(["keys:write"]);
    const r = await rest(dzx.url, k.key, "POST", `/keys/${k.keyId}/rotate`);
    expect(r.status).toBe(200);
    expectRest401(await rest(dzx.url, k.key, "GET", "/keys"));
    const keys = await rest(dzx.url, r.json.key, "GET", "/keys");
    expect(keys.status).toBe(200);
    expect(keys.text).not.toContain(r.json.key);
  });

  test("unknown keyId → NOT_FOUND on both surfaces", async () => {
    const missing = crypto.randomUUID();
    expect((await opError(adminClient, "dwizi.keys.rotate", { keyId: missing })).code).toBe("NOT_FOUND");
    const r = await rest(dzx.url, admin.key, "POST", `/keys/${missing}/rotate`);
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("NOT_FOUND");
  });
});
