/**
 * Every HTTP method and size answers in JSON (issue 13, finding 7): CONNECT and
 * TRACE were a 500 or an echo, a body past 16 MiB an empty 413, and HEAD on a
 * hosted server's SSE endpoint never answered.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { managementClient, op } from "../support/client.ts";
import { rawRequest as send } from "../support/rawHttp.ts";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";
import { createServer, type HostedServer } from "../hosted/support.ts";

setDefaultTimeout(60_000);

let dzx: Dzx;
let key: TestKey;
let admin: Client;
let server: HostedServer;
let host: string;

/** One raw request to dzx; the body as text. */
async function rawRequest(method: string, target: string, headers: Record<string, string>, body?: string) {
  const { hostname, port } = new URL(dzx.url);
  const r = await send(hostname, Number(port), { method, target, headers, body: body === undefined ? undefined : new TextEncoder().encode(body), timeoutMs: 5000 });
  return { ...r, body: new TextDecoder().decode(r.body) };
}

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"] });
  dzx = s.dzx;
  key = s.keys.admin;
  host = new URL(dzx.url).host;
  admin = await managementClient(dzx.url, key.key);
  server = await createServer(admin, { name: "Edge" });
}, 60_000);
afterAll(async () => {
  await admin?.close();
  await dzx?.dispose();
});

/** A JSON error body with a code and a message that names no internals. */
function expectJsonError(body: string, code: string) {
  const parsed = JSON.parse(body);
  expect(parsed.error.code).toBe(code);
  expect(typeof parsed.error.message).toBe("string");
  expect(body).not.toMatch(/\n\s+at\s|\.ts:\d+|node_modules/);
}

describe("methods", () => {
  const paths = () => ["/health", "/mcp/dwizi", new URL(server.endpoint).pathname, "/api/v1/tools", "/nowhere"];

  test("CONNECT, TRACE and methods dzx does not serve (PROPFIND) are 405 with a JSON body and Allow, on every route", async () => {
    for (const [method, target] of [["CONNECT", host], ["CONNECT", "example.com:443"], ...paths().map((p) => ["TRACE", p]), ...paths().map((p) => ["PROPFIND", p])] as [string, string][]) {
      const r = await rawRequest(method, target, { authorization: `Bearer ${key.key}` });
      expect({ method, target, status: r.status, timedOut: r.timedOut }).toEqual({ method, target, status: 405, timedOut: false });
      expect(r.headers.allow).toContain("POST");
      expect(r.headers["content-type"]).toContain("application/json");
      expectJsonError(r.body, "METHOD_NOT_ALLOWED");
    }
  });

  test("HEAD answers at once everywhere: 405 on MCP endpoints (GET would open a stream), the GET status elsewhere", async () => {
    const mcp = [new URL(server.endpoint).pathname, `${new URL(server.endpoint).pathname}/sse`, "/mcp/dwizi", `/api/v1/mcp/servers/${server.id}/protocol`];
    for (const path of mcp) {
      const r = await rawRequest("HEAD", path, { authorization: `Bearer ${server.token}`, accept: "text/event-stream" });
      expect({ path, status: r.status, timedOut: r.timedOut }).toEqual({ path, status: 405, timedOut: false });
      expect(r.headers["content-type"]).toContain("application/json");
    }
    for (const [path, status] of [["/health", 200], ["/ready", 200], ["/api/v1/openapi.json", 200], ["/nowhere", 404]] as const) {
      const r = await rawRequest("HEAD", path, {});
      expect({ path, status: r.status, timedOut: r.timedOut }).toEqual({ path, status, timedOut: false });
    }
  });
});

describe("paths", () => {
  test("a path whose percent-encoding does not decode is a JSON 400 on every route, never a 500", async () => {
    const bad = ["/mcp/%E0%A4%A", "/mcp/srv_%E0%A4%A", "/setup/%E0%A4%A", "/hooks/%E0%A4%A", "/api/v1/tools/%E0%A4%A", "/api/v1/mcp/servers/%ZZ/protocol", "/%"];
    for (const target of bad) {
      for (const method of ["GET", "POST"]) {
        const r = await rawRequest(method, target, { authorization: `Bearer ${key.key}`, "content-type": "application/json" }, method === "POST" ? "{}" : undefined);
        expect({ method, target, status: r.status }).toEqual({ method, target, status: 400 });
        expectJsonError(r.body, "VALIDATION_ERROR");
        expect(r.body).toContain("percent-encoding");
      }
    }
    // an escape that decodes still reaches its route
    const ok = await rawRequest("GET", "/api/v1/tools/%65cho", { authorization: `Bearer ${key.key}` });
    expect(ok.status).toBe(404);
    expectJsonError(ok.body, "NOT_FOUND");
  });
});

describe("sizes", () => {
  const big = 20 * 1024 * 1024;

  test("a body declared past 16 MiB is a JSON 413 naming the limit, on MCP and REST, without sending it", async () => {
    for (const [path, code] of [[new URL(server.endpoint).pathname, null], ["/mcp/dwizi", null], ["/api/v1/tools", "PAYLOAD_TOO_LARGE"]] as const) {
      const token = path.startsWith("/api") || path === "/mcp/dwizi" ? key.key : server.token;
      const r = await rawRequest("POST", path, { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream", "content-length": String(big) }, "{");
      expect({ path, status: r.status, timedOut: r.timedOut }).toEqual({ path, status: 413, timedOut: false });
      const body = JSON.parse(r.body);
      if (code) expect(body.error.code).toBe(code);
      else expect(body.error.code).toBe(-32600);
      expect(body.error.message).toContain("limit");
    }
  });

  test("a chunked body that runs past the limit is a JSON 413 as it passes it", async () => {
    const chunk = "x".repeat(64 * 1024);
    const frames = Array.from({ length: 32 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join("");
    const r = await rawRequest("POST", "/api/v1/tools", { authorization: `Bearer ${key.key}`, "content-type": "application/json", "transfer-encoding": "chunked" }, frames);
    expect({ status: r.status, timedOut: r.timedOut }).toEqual({ status: 413, timedOut: false });
    expectJsonError(r.body, "PAYLOAD_TOO_LARGE");
  });

  test("the server still serves after every refusal", async () => {
    expect((await op(admin, "dwizi.org.get")).org).toBeDefined();
  });
});
