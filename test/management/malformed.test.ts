/**
 * Malformed input on /mcp/dwizi and /api/v1: every protocol fault is a precise
 * JSON-RPC error (-32700/-32600/-32601/-32602), wrong argument types are tool
 * results with VALIDATION_ERROR, oversize bodies are 413, and no error carries
 * a stack trace.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rawCall, rest, rpc } from "../support/client.ts";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

let dzx: Dzx;
let key: TestKey;

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"] });
  dzx = s.dzx;
  key = s.keys.admin;
}, 120_000);
afterAll(() => dzx?.dispose());

const STACK = /\n\s+at\s|\bat \S+ \(|\.ts:\d+|node_modules/;
const raw = (body: string, headers: Record<string, string> = {}) => rpc(dzx.url, key.key, undefined, { raw: body, headers });
const send = (body: unknown) => rpc(dzx.url, key.key, body);

/** A JSON-RPC error answer with this code (and id), and no internals. */
function expectRpcError(r: { json: any; text: string }, code: number, id: unknown = null) {
  expect(r.json).toBeDefined();
  expect(r.json.jsonrpc).toBe("2.0");
  expect(r.json.id).toEqual(id);
  expect(r.json.result).toBeUndefined();
  expect(r.json.error.code).toBe(code);
  expect(typeof r.json.error.message).toBe("string");
  expect(r.json.error.message.length).toBeGreaterThan(5);
  expect(r.text).not.toMatch(STACK);
}

describe("-32700 parse errors", () => {
  for (const [label, body] of [
    ["truncated JSON", '{"jsonrpc":"2.0","id":1,"method":'],
    ["not JSON at all", "hello there"],
    ["single quotes", "{'jsonrpc':'2.0','id':1,'method':'ping'}"],
    ["trailing comma", '{"jsonrpc":"2.0","id":1,"method":"ping",}'],
    ["an empty body", ""],
  ] as const) {
    test(label, async () => {
      const r = await raw(body);
      expect(r.status).toBe(400);
      expectRpcError(r, -32700);
    });
  }
});

describe("-32600 invalid requests", () => {
  for (const [label, body] of [
    ["a number", "42"],
    ["a string", '"ping"'],
    ["null", "null"],
    ["true", "true"],
  ] as const) {
    test(`a body that is ${label}`, async () => expectRpcError(await raw(body), -32600));
  }

  test("an empty batch", async () => {
    const r = await raw("[]");
    expectRpcError(r, -32600);
  });

  test('"jsonrpc" missing, or not "2.0" (the id is echoed)', async () => {
    expectRpcError(await send({ id: 5, method: "ping" }), -32600, 5);
    expectRpcError(await send({ jsonrpc: "1.0", id: 6, method: "ping" }), -32600, 6);
    expectRpcError(await send({ jsonrpc: 2, id: 7, method: "ping" }), -32600, 7);
  });

  test("method missing, empty, or not a string", async () => {
    expectRpcError(await send({ jsonrpc: "2.0", id: 1 }), -32600, 1);
    expectRpcError(await send({ jsonrpc: "2.0", id: 2, method: "" }), -32600, 2);
    expectRpcError(await send({ jsonrpc: "2.0", id: 3, method: 42 }), -32600, 3);
    expectRpcError(await send({ jsonrpc: "2.0", id: 4, method: ["tools/list"] }), -32600, 4);
    expectRpcError(await send({ jsonrpc: "2.0", id: 5, method: { name: "ping" } }), -32600, 5);
  });

  test("an id that is neither string nor number", async () => {
    expectRpcError(await send({ jsonrpc: "2.0", id: { a: 1 }, method: "ping" }), -32600);
    expectRpcError(await send({ jsonrpc: "2.0", id: true, method: "ping" }), -32600);
  });

  test("initialize inside a batch", async () => {
    const r = await send([{ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } } }]);
    expect(r.status).toBe(400);
    expect(r.text).toContain("-32600");
    expect(r.headers.get("mcp-session-id")).toBeNull();
  });

  test("an unknown MCP-Protocol-Version header is 400", async () => {
    const r = await rpc(dzx.url, key.key, { jsonrpc: "2.0", id: 1, method: "ping" }, { headers: { "mcp-protocol-version": "2023-01-01" } });
    expect(r.status).toBe(400);
    expectRpcError(r, -32600);
  });
});

describe("params and method faults", () => {
  test("params that is not an object → invalid params (or invalid request)", async () => {
    for (const params of [["a"], "x", 3, null, true]) {
      const r = await send({ jsonrpc: "2.0", id: 9, method: "tools/list", params });
      expect(r.status).toBe(200);
      expect([-32602, -32600]).toContain(r.json.error?.code);
      expect(r.json.id).toBe(9);
      expect(r.text).not.toMatch(STACK);
    }
  });

  test("-32601 for an unknown method, naming it", async () => {
    const r = await send({ jsonrpc: "2.0", id: "m", method: "tools/frobnicate" });
    expect(r.status).toBe(200);
    expectRpcError(r, -32601, "m");
    expect(r.json.error.message).toContain("tools/frobnicate");
    expectRpcError(await send({ jsonrpc: "2.0", id: 2, method: "toString" }), -32601, 2);
    expectRpcError(await send({ jsonrpc: "2.0", id: 3, method: "__proto__" }), -32601, 3);
  });

  test("-32602 for an unknown tool name, naming it", async () => {
    const r = await rawCall(dzx.url, key.key, "dwizi.nope", {});
    expectRpcError(r, -32602, 1);
    expect(r.json.error.message).toContain("dwizi.nope");
  });

  test("-32602 when tools/call has no name, or a non-string one", async () => {
    expectRpcError(await send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { arguments: {} } }), -32602, 1);
    expectRpcError(await send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: 7, arguments: {} } }), -32602, 2);
  });

  test("-32602 when arguments is not an object", async () => {
    for (const args of [["x"], "x", 5, true]) {
      const r = await send({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "dwizi.tools.list", arguments: args } });
      expectRpcError(r, -32602, 4);
    }
  });

  // Cursors we issue are base64url of a plain offset ("MTA" = "10"). "%%%" decodes to ""
  // and "MWUy" to "1e2"; Number() reads them as 0 and 100, so they must be refused too.
  const badCursors = ["abc", "LTE", "MS41", "%%%", "MWUy"];

  test("-32602 for a list cursor that was never issued", async () => {
    for (const cursor of badCursors) {
      const r = await send({ jsonrpc: "2.0", id: 5, method: "tools/list", params: { cursor } });
      expect({ cursor, code: r.json.error?.code }).toEqual({ cursor, code: -32602 });
    }
  });

  test("dwizi.*.list: VALIDATION_ERROR for a cursor that was never issued", async () => {
    for (const cursor of badCursors) {
      const r = await rawCall(dzx.url, key.key, "dwizi.tools.list", { cursor });
      expect({ cursor, code: r.json.result.structuredContent.error?.code }).toEqual({ cursor, code: "VALIDATION_ERROR" });
    }
  });
});

describe("wrong argument types are tool results with isError and VALIDATION_ERROR", () => {
  const expectValidation = (r: Awaited<ReturnType<typeof rawCall>>, path: string) => {
    expect(r.status).toBe(200);
    expect(r.json.error).toBeUndefined();
    expect(r.json.result.isError).toBe(true);
    const e = r.json.result.structuredContent.error;
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toContain(path);
    expect(JSON.parse(r.json.result.content[0].text)).toEqual({ error: e });
    expect(r.text).not.toMatch(STACK);
  };

  test("a number where a string belongs", async () => {
    expectValidation(await rawCall(dzx.url, key.key, "dwizi.tools.get", { slug: 5 }), "slug");
    expectValidation(await rawCall(dzx.url, key.key, "dwizi.tools.create", { tool: { name: 5, source: "export default async () => 1" } }), "tool.name");
  });

  test("a missing required argument, a bad enum, a string where an object belongs", async () => {
    expectValidation(await rawCall(dzx.url, key.key, "dwizi.tools.create", {}), "tool");
    expectValidation(
      await rawCall(dzx.url, key.key, "dwizi.tools.create", { tool: { name: "x", source: "export default async () => 1", outputPolicy: "keep" } }),
      "outputPolicy",
    );
    expectValidation(await rawCall(dzx.url, key.key, "dwizi.tools.create", { tool: "not an object" }), "tool");
    expectValidation(await rawCall(dzx.url, key.key, "dwizi.tools.list", { limit: "ten" }), "limit");
  });

  // PostgreSQL cannot store U+0000 in text/jsonb; a client sending it made a bad argument,
  // so the answer must be VALIDATION_ERROR (or NOT_FOUND for a lookup), never INTERNAL/500.
  test("a string containing U+0000 is the caller's fault, not an internal error", async () => {
    const create = await rawCall(dzx.url, key.key, "dwizi.tools.create", { tool: { name: "a\u0000b", source: "export default async () => 1" } });
    expect(create.json.result.structuredContent.error.code).toBe("VALIDATION_ERROR");
    const res = await rawCall(dzx.url, key.key, "dwizi.resources.create", { resource: { uri: "resource://nul", name: "nul", text: "a\u0000b" } });
    expect(res.json.result.structuredContent.error.code).toBe("VALIDATION_ERROR");
    const get = await rawCall(dzx.url, key.key, "dwizi.tools.get", { slug: "a\u0000" });
    expect(["NOT_FOUND", "VALIDATION_ERROR"]).toContain(get.json.result.structuredContent.error.code);
    const restGet = await rest(dzx.url, key.key, "GET", "/tools/a%00b");
    expect([400, 404]).toContain(restGet.status);
  });

  // Found by test/hostile/fuzz.test.ts: a lone surrogate in a patch key reached the audit log's
  // jsonb, which refuses its escape, and the write was a 500 INTERNAL.
  test("a lone surrogate (in a value or a key) is the caller's fault, not an internal error", async () => {
    const create = await rawCall(dzx.url, key.key, "dwizi.tools.create", { tool: { name: "a\ud800b", source: "export default async () => 1" } });
    expect(create.json.result.structuredContent.error.code).toBe("VALIDATION_ERROR");
    expect(create.json.result.structuredContent.error.message).toContain("surrogate");
    const partial = await rawCall(dzx.url, key.key, "dwizi.partials.create", { partial: { name: "p", values: { "\udc00k": 1 } } });
    expect(partial.json.result.structuredContent.error.code).toBe("VALIDATION_ERROR");
    expect((await rest(dzx.url, key.key, "POST", "/tools", { name: "surr", source: "export default async () => 1" })).status).toBe(201);
    const patch = await rest(dzx.url, key.key, "PATCH", "/tools/surr", '{"\\udc00\\ud800description":"r"}');
    expect(patch.status).toBe(400);
    expect(patch.json.error.code).toBe("VALIDATION_ERROR");
    expect((await rest(dzx.url, key.key, "DELETE", "/tools/surr")).status).toBe(200);
  });

  test("nothing was written by the refused calls", async () => {
    const r = await rawCall(dzx.url, key.key, "dwizi.tools.list", {});
    expect(r.json.result.structuredContent.tools).toEqual([]);
  });
});

describe("batches", () => {
  test("a batch of requests is answered with an array, matched by id", async () => {
    const r = await send([
      { jsonrpc: "2.0", id: 1, method: "ping" },
      { jsonrpc: "2.0", id: "two", method: "tools/list" },
      { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "dwizi.org.get", arguments: {} } },
    ]);
    expect(r.status).toBe(200);
    expect(Array.isArray(r.json)).toBe(true);
    const byId = new Map(r.json.map((m: any) => [m.id, m]));
    expect(byId.size).toBe(3);
    expect((byId.get(1) as any).result).toEqual({});
    expect((byId.get("two") as any).result.tools.length).toBeGreaterThan(10);
    expect((byId.get(3) as any).result.structuredContent.org.name).toBe("acme");
  });

  test("a mixed batch: notifications get no entry, bad members get their own errors", async () => {
    const r = await send([
      { jsonrpc: "2.0", id: 1, method: "ping" },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { id: 2, method: "ping" },
      { jsonrpc: "2.0", id: 3, method: "no/such/method" },
      { jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "dwizi.nope", arguments: {} } },
      17,
    ]);
    expect(r.status).toBe(200);
    expect(r.json.length).toBe(5);
    const byId = new Map(r.json.filter((m: any) => m.id !== null).map((m: any) => [m.id, m]));
    expect((byId.get(1) as any).result).toEqual({});
    expect((byId.get(2) as any).error.code).toBe(-32600);
    expect((byId.get(3) as any).error.code).toBe(-32601);
    expect((byId.get(4) as any).error.code).toBe(-32602);
    expect(r.json.filter((m: any) => m.id === null).map((m: any) => m.error.code)).toEqual([-32600]);
    expect(r.text).not.toMatch(STACK);
  });
});

describe("oversize bodies (DZX_MAX_BODY_BYTES, default 1 MiB)", () => {
  const MIB = 1024 * 1024;
  /** A valid ping whose padding makes it exactly `bytes` long. */
  const paddedPing = (bytes: number) => {
    const head = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"';
    const tail = '"}}';
    return head + "x".repeat(bytes - head.length - tail.length) + tail;
  };

  test("a body just under the limit is served", async () => {
    const r = await raw(paddedPing(MIB - 16));
    expect(r.status).toBe(200);
    expect(r.json.result).toEqual({});
  });

  test("MCP: a body over the limit is 413 with a clear JSON-RPC error", async () => {
    const r = await raw(paddedPing(MIB + 1));
    expect(r.status).toBe(413);
    expect(r.json.jsonrpc).toBe("2.0");
    expect(typeof r.json.error.code).toBe("number");
    expect(r.json.error.message).toMatch(/too large/i);
    expect(r.json.error.message).toContain(String(MIB));
    expect(r.text).not.toMatch(STACK);
  });

  test("MCP: a chunked body (no Content-Length) over the limit is 413 too", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent === 0) c.enqueue(new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"'));
        if (sent >= 2 * MIB) {
          c.enqueue(new TextEncoder().encode('"}}'));
          c.close();
          return;
        }
        c.enqueue(chunk);
        sent += chunk.byteLength;
      },
    });
    const res = await fetch(`${dzx.url}/mcp/dwizi`, {
      method: "POST",
      headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(413);
    const json: any = await res.json();
    expect(json.error.message).toMatch(/too large/i);
  });

  test("REST: 413 {error:{code:PAYLOAD_TOO_LARGE}}", async () => {
    const big = { name: "Big", source: `export default async () => "${"x".repeat(MIB)}"` };
    const r = await rest(dzx.url, key.key, "POST", "/tools", big);
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(r.json.error.message).toMatch(/too large/i);
    expect(r.text).not.toMatch(STACK);
  });

  describe("with DZX_MAX_BODY_BYTES=2048", () => {
    let small: Dzx;
    let smallKey: TestKey;
    beforeAll(async () => {
      const s = await startWithKeys({ admin: ["acme"] }, { DZX_MAX_BODY_BYTES: "2048" });
      small = s.dzx;
      smallKey = s.keys.admin;
    }, 120_000);
    afterAll(() => small?.dispose());

    test("2048 bytes pass, 2049 are refused on both surfaces", async () => {
      expect((await rpc(small.url, smallKey.key, undefined, { raw: paddedPing(2048) })).status).toBe(200);
      const over = await rpc(small.url, smallKey.key, undefined, { raw: paddedPing(2049) });
      expect(over.status).toBe(413);
      expect(over.json.error.message).toContain("2048");
      const r = await rest(small.url, smallKey.key, "POST", "/tools", { name: "x", source: "x".repeat(3000) });
      expect(r.status).toBe(413);
      expect(r.json.error.code).toBe("PAYLOAD_TOO_LARGE");
    });
  });
});

describe("REST malformed bodies", () => {
  for (const [label, body] of [
    ["malformed JSON", '{"name": "x",'],
    ["a JSON array", '[{"name":"x","source":"export default async () => 1"}]'],
    ["a JSON string", '"tool"'],
    ["null", "null"],
  ] as const) {
    test(`${label} → 400 VALIDATION_ERROR`, async () => {
      const r = await rest(dzx.url, key.key, "POST", "/tools", body);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe("VALIDATION_ERROR");
      expect(r.json.error.message.length).toBeGreaterThan(5);
      expect(r.text).not.toMatch(STACK);
    });
  }

  test("PATCH with malformed JSON → 400 VALIDATION_ERROR", async () => {
    const r = await rest(dzx.url, key.key, "PATCH", "/tools/whatever", "{nope");
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe("VALIDATION_ERROR");
  });

  test("wrong field types → 400 VALIDATION_ERROR naming the field", async () => {
    const r = await rest(dzx.url, key.key, "POST", "/tools", { name: 5, source: "export default async () => 1" });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe("VALIDATION_ERROR");
    expect(r.json.error.message).toContain("name");
    expect((await rest(dzx.url, key.key, "GET", "/tools")).json.tools).toEqual([]);
  });
});

describe("authentication faults carry no internals", () => {
  test("MCP without a key: 401 with a JSON-RPC error", async () => {
    const r = await rpc(dzx.url, null, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(r.status).toBe(401);
    expect(r.json.jsonrpc).toBe("2.0");
    expect(typeof r.json.error.code).toBe("number");
    expect(r.text).not.toMatch(STACK);
  });

  test("malformed JSON with a bad key is still 401 (auth first)", async () => {
    const r = await rpc(dzx.url, "dwz_live_notarealkey0000000000", undefined, { raw: "{bad" });
    expect(r.status).toBe(401);
    const rr = await rest(dzx.url, "dwz_live_notarealkey0000000000", "POST", "/tools", "{bad");
    expect(rr.status).toBe(401);
    expect(rr.json.error.code).toBe("UNAUTHORIZED");
  });
});
