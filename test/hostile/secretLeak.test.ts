/**
 * Secret values never stored (issue 13, finding 6): whatever a call does with the
 * secrets it can read — returns them, throws them, prints them, is sent them as
 * input, hands them to a CODE-mode script — the call log keeps none of them, under
 * every outputPolicy.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { managementClient, op, rest } from "../support/client.ts";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";
import { createServer, post, rawSession } from "../hosted/support.ts";

setDefaultTimeout(60_000);

const SECRET = "tok-s3cr3t-9876";
/** A secret with characters JSON escapes: it must be found in the log's JSON text too. */
const QUOTED = 'pa"ss\\word\n42';

let dzx: Dzx;
let key: TestKey;
let admin: Client;

const leaky = `export default async (input, context) => {
  const s = context.secrets.TOKEN, q = context.secrets.QUOTED;
  console.log("token is " + s + " and " + q);
  if (input.fail) throw new Error("upstream refused " + s);
  return { token: s, quoted: q, [s]: "as a key", nested: { list: ["prefix-" + s + "-suffix"] }, echoed: input.text };
}`;

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"] }, { DZX_WORKERS: "2" });
  dzx = s.dzx;
  key = s.keys.admin;
  admin = await managementClient(dzx.url, key.key);
  await op(admin, "dwizi.secrets.set", { name: "TOKEN", value: SECRET });
  await op(admin, "dwizi.secrets.set", { name: "QUOTED", value: QUOTED });
  const inputSchema = { type: "object", properties: { text: { type: "string" }, fail: { type: "boolean" } } };
  for (const outputPolicy of ["retain", "obfuscate", "omit"]) {
    await op(admin, "dwizi.tools.create", { tool: { name: `leak${outputPolicy}`, slug: `leak${outputPolicy}`, outputPolicy, secrets: ["TOKEN", "QUOTED"], inputSchema, source: leaky } });
  }
}, 60_000);
afterAll(async () => {
  await admin?.close();
  await dzx?.dispose();
});

test("a tool's secrets are in no logged input, output, error or console line, under every outputPolicy", async () => {
  const srv = await createServer(admin, { name: "Leaky", toolIds: ["leakretain", "leakobfuscate", "leakomit"] });
  const sid = await rawSession(srv.endpoint, srv.token);
  let id = 0;
  for (const policy of ["retain", "obfuscate", "omit"]) {
    for (const args of [{ text: `client sent ${SECRET}` }, { text: "x", fail: true }]) {
      const r = await post(srv.endpoint, srv.token, { jsonrpc: "2.0", id: ++id, method: "tools/call", params: { name: `leak${policy}`, arguments: args } }, { "mcp-session-id": sid });
      expect(r.status).toBe(200);
      // the client itself gets what the tool returned: only what is kept is redacted
      if (!args.fail) expect(r.json.result.structuredContent.token).toBe(SECRET);
    }
  }
  const calls = (await op(admin, "dwizi.calls.list", { server: srv.id, limit: 500 })).calls;
  expect(calls).toHaveLength(6);
  const restCalls = (await rest(dzx.url, key.key, "GET", `/calls?server=${srv.id}`)).text;
  for (const text of [JSON.stringify(calls), restCalls]) {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(JSON.stringify(QUOTED).slice(1, -1));
  }
  const retained = calls.find((c: any) => c.toolName === "leakretain" && c.status === "ok");
  expect(retained.output).toEqual({ token: "[secret]", quoted: "[secret]", "[secret]": "as a key", nested: { list: ["prefix-[secret]-suffix"] }, echoed: "client sent [secret]" });
  expect(retained.input).toEqual({ text: "client sent [secret]" });
  expect(retained.logs[0].message).toBe("token is [secret] and [secret]");
  const failed = calls.find((c: any) => c.toolName === "leakretain" && c.status === "error");
  expect(failed.error).toContain("upstream refused [secret]");
  const obfuscated = calls.find((c: any) => c.toolName === "leakobfuscate" && c.status === "ok");
  expect(Object.keys(obfuscated.output).sort()).toEqual(["[secret]", "echoed", "nested", "quoted", "token"]);
});

test("a CODE-mode script that returns and prints what a tool handed it keeps no secret in the execute record", async () => {
  const srv = await createServer(admin, { name: "LeakyCode", mode: "CODE", toolIds: ["leakretain"] });
  const sid = await rawSession(srv.endpoint, srv.token);
  const code = "const out = await tools.leakretain({ text: 'x' }); console.log('got ' + out.token); return { again: out.token };";
  const r = await post(srv.endpoint, srv.token, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "execute", arguments: { code } } }, { "mcp-session-id": sid });
  expect(r.json.result.isError).toBeUndefined();
  const calls = (await op(admin, "dwizi.calls.list", { server: srv.id, limit: 500 })).calls;
  const execute = calls.find((c: any) => c.toolName === "execute");
  expect(execute.output).toEqual({ again: "[secret]" });
  expect(JSON.stringify(calls)).not.toContain(SECRET);
});
