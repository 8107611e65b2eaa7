/**
 * A hosted endpoint opens with the server's own `mcp_…` token (issue 15.10): a
 * `dwz_…` API key sent there is told just that, on every endpoint form and to an
 * SDK client, while a wrong `mcp_…` token keeps the rotated-or-deleted answer.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { createServer, hostedClient, post, type HostedServer } from "./support.ts";

setDefaultTimeout(60_000);

let stack: Stack<"admin">;
let server: HostedServer;

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] });
  // what the server serves does not matter here: only who may open it
  server = await createServer(stack.clients.admin, { name: "Bearer" });
}, 120_000);
afterAll(() => stack?.dispose());

const INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } };
const API_KEY_SENT = /wants the server's own token \(Authorization: Bearer mcp_….*a dwz_… API key was sent/;
const ROTATED = "Unauthorized: the token is not valid for this server (rotated, or the server was deleted)";

const forms = () => [server.endpoint, `${stack.dzx.url}/api/v1/mcp/servers/${server.id}/protocol`];

describe("the bearer of a hosted endpoint", () => {
  test("a dwz_ API key gets 401 saying the endpoint wants the server's mcp_ token", async () => {
    for (const url of forms()) {
      const r = await post(url, stack.keys.admin.key, INIT);
      expect(r.status).toBe(401);
      expect(r.headers.get("www-authenticate")).toContain("invalid_token");
      expect(r.json.error.message).toMatch(API_KEY_SENT);
      expect(r.json.error.message).not.toContain("not valid for this server");
      // the key itself is never echoed
      expect(r.text).not.toContain(stack.keys.admin.key);
    }
  });

  test("an unknown dwz_-shaped key is told the same (no lookup decides it)", async () => {
    const r = await post(server.endpoint, "dwz_live_notarealkey", INIT);
    expect(r.status).toBe(401);
    expect(r.json.error.message).toMatch(API_KEY_SENT);
  });

  test("an SDK client connecting with an API key sees that message", async () => {
    const err = await hostedClient(server.endpoint, stack.keys.admin.key).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(API_KEY_SENT);
  });

  test("a wrong mcp_ token keeps the rotated-or-deleted message", async () => {
    for (const url of forms()) {
      const r = await post(url, `mcp_${"x".repeat(48)}`, INIT);
      expect(r.status).toBe(401);
      expect(r.json.error.message).toBe(ROTATED);
    }
  });

  test("the server's own token opens it", async () => {
    const r = await post(server.endpoint, server.token, INIT);
    expect(r.status).toBe(200);
    expect(r.json.result.serverInfo).toBeTruthy();
  });
});
