/**
 * Seed 001's execute-code and declarations routes (issue 17.4), on REST and as
 * dwizi.mcp.execute_code / dwizi.mcp.declarations, and the org's sandbox budget
 * they share with hosted tool calls (`dzx orgs limits --set {"sandbox":{"runsPerMinute":N}}`).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { managementClient, op, opError, rest } from "../support/client.ts";
import { freshDatabase } from "../support/database.ts";
import { cliKey, runCli, startDzx, type Dzx, type TestKey } from "../support/dzx.ts";
import { createServer, hostedClient, type HostedServer } from "../hosted/support.ts";

setDefaultTimeout(60_000);

const TIGHT_BUDGET = 3;

let dzx: Dzx;
let acme: TestKey;
let other: TestKey;
let tight: TestKey;
/** acme's key holding mcp:read only. */
let reader: TestKey;
const clients: Client[] = [];
let admin: Client;
let tightAdmin: Client;
/** A TOOLS-mode server with `add` under the alias "math" and `echo` without one. */
let plain: HostedServer;
/** A CODE-mode server with the same tools. */
let coder: HostedServer;
let othersServer: HostedServer;

async function tools(client: Client) {
  await op(client, "dwizi.tools.create", {
    tool: {
      name: "add",
      description: "Add two numbers",
      inputSchema: { type: "object", properties: { a: { type: "number", description: "first" }, b: { type: "number" } }, required: ["a", "b"], additionalProperties: false },
      source: "export default async ({ a, b }) => a + b",
    },
  });
  await op(client, "dwizi.tools.create", { tool: { name: "echo", description: "Echo the input", source: "export default async (i) => i" } });
}

async function serverWith(client: Client, name: string, mode: "TOOLS" | "CODE"): Promise<HostedServer> {
  const s = await createServer(client, { name, mode, toolIds: [] });
  await op(client, "dwizi.mcp.tools.add", { server: s.id, toolSlug: "add", alias: "math" });
  await op(client, "dwizi.mcp.tools.add", { server: s.id, toolSlug: "echo" });
  return s;
}

beforeAll(async () => {
  const db = await freshDatabase();
  acme = await cliKey(db, "acme");
  other = await cliKey(db, "other");
  tight = await cliKey(db, "tight");
  reader = await cliKey(db, "acme", "mcp:read");
  const set = await runCli(db, ["orgs", "limits", "--org", "tight", "--set", JSON.stringify({ sandbox: { runsPerMinute: TIGHT_BUDGET } })]);
  if (set.code !== 0) throw new Error(`orgs limits failed: ${set.stderr}`);
  // a script calling a tool holds one worker while the tool runs on another
  dzx = await startDzx({ db, env: { DZX_WORKERS: "2" } });
  for (const k of [acme, other, tight]) clients.push(await managementClient(dzx.url, k.key));
  [admin, , tightAdmin] = clients;
  await tools(admin);
  plain = await serverWith(admin, "Plain", "TOOLS");
  coder = await serverWith(admin, "Coder", "CODE");
  await tools(clients[1]);
  othersServer = await serverWith(clients[1], "Theirs", "TOOLS");
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await dzx?.dispose();
});

const execute = (key: TestKey, server: string, body: unknown) => rest(dzx.url, key.key, "POST", `/mcp/servers/${server}/execute-code`, body);

describe("POST /api/v1/mcp/servers/:id/execute-code", () => {
  test("answers seed 001's {content, isError} with the script's result", async () => {
    const r = await execute(acme, plain.id, { code: "return 'Execution result: ' + (6 * 7)" });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ content: [{ type: "text", text: "Execution result: 42" }], isError: false });
  });

  test("the script calls the server's tools as tools.*, on a TOOLS-mode and a CODE-mode server", async () => {
    const code = "const sum = await tools.math__add({ a: 2, b: 3 }); const e = await tools.echo({ sum }); return e.sum * 10";
    for (const s of [plain, coder]) {
      const r = await execute(acme, s.slug, { code });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ content: [{ type: "text", text: "50" }], isError: false });
    }
  });

  test("a script that throws is an isError result, not an HTTP error", async () => {
    const r = await execute(acme, plain.id, { code: "await tools.math__add({ a: 'x', b: 1 })" });
    expect(r.status).toBe(200);
    expect(r.json.isError).toBe(true);
    expect(r.json.content[0].text).toContain("math__add");
  });

  test("missing or empty code is 400 VALIDATION_ERROR naming code", async () => {
    for (const body of [{}, { code: "" }, { code: "   " }]) {
      const r = await execute(acme, plain.id, body);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe("VALIDATION_ERROR");
      expect(r.json.error.message).toContain("code");
    }
  });

  test("an unknown server and another org's server are 404 NOT_FOUND", async () => {
    for (const id of ["srv_nope", othersServer.id]) {
      const r = await execute(acme, id, { code: "return 1" });
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe("NOT_FOUND");
    }
  });

  test("a key without mcp:write is refused", async () => {
    const r = await execute(reader, plain.id, { code: "return 1" });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe("FORBIDDEN_SCOPE");
  });
});

describe("dwizi.mcp.execute_code", () => {
  test("runs the script and answers {content, isError}", async () => {
    const r = await op(admin, "dwizi.mcp.execute_code", { server: plain.id, code: "return await tools.math__add({ a: 40, b: 2 })" });
    expect(r).toEqual({ content: [{ type: "text", text: "42" }], isError: false });
    const audit = (await op(admin, "dwizi.audit.list", { limit: 100 })).entries;
    expect(audit.find((e: any) => e.operation === "mcp.execute_code" && e.targetId === plain.id)).toMatchObject({ targetType: "server", detail: { isError: false } });
  });

  test("missing code, an unknown server and another org's server fail with their codes", async () => {
    expect((await opError(admin, "dwizi.mcp.execute_code", { server: plain.id })).code).toBe("VALIDATION_ERROR");
    expect((await opError(admin, "dwizi.mcp.execute_code", { server: "srv_nope", code: "return 1" })).code).toBe("NOT_FOUND");
    expect((await opError(admin, "dwizi.mcp.execute_code", { server: othersServer.id, code: "return 1" })).code).toBe("NOT_FOUND");
  });
});

describe("GET /api/v1/mcp/servers/:id/declarations/:integrationOrAlias", () => {
  test("gives read_api's declarations of the tools under an alias", async () => {
    const r = await rest(dzx.url, acme.key, "GET", `/mcp/servers/${plain.id}/declarations/math`);
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual(["declarations"]);
    const d = r.json.declarations as string;
    expect(d).toContain("declare const tools: {");
    expect(d).toMatch(/math__add\(input: \{\s+\/\*\* first \*\/\s+a: number;\s+b: number;\s+\}\): Promise<unknown>;/);
    expect(d).not.toContain("echo");
  });

  test("a tool's slug names it when no alias does; the same text as read_api on a CODE-mode server", async () => {
    const r = await rest(dzx.url, acme.key, "GET", `/mcp/servers/${coder.slug}/declarations/echo`);
    expect(r.status).toBe(200);
    const hosted = await hostedClient(coder.endpoint, coder.token);
    try {
      const api = await hosted.callTool({ name: "read_api", arguments: { tools: ["echo"] } });
      expect(r.json.declarations).toBe((api.content as { text: string }[])[0].text);
    } finally {
      await hosted.close();
    }
  });

  test("an unknown alias, an unknown server and another org's server are 404 NOT_FOUND", async () => {
    for (const path of [`/mcp/servers/${plain.id}/declarations/slack`, `/mcp/servers/srv_nope/declarations/math`, `/mcp/servers/${othersServer.id}/declarations/math`]) {
      const r = await rest(dzx.url, acme.key, "GET", path);
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe("NOT_FOUND");
    }
  });

  test("dwizi.mcp.declarations answers the same", async () => {
    const r = await op(admin, "dwizi.mcp.declarations", { server: plain.id, integrationOrAlias: "math" });
    expect(r.declarations).toContain("math__add(input:");
    expect((await opError(admin, "dwizi.mcp.declarations", { server: plain.id, integrationOrAlias: "nope" })).code).toBe("NOT_FOUND");
  });
});

describe("the sandbox budget (orgs limits sandbox.runsPerMinute)", () => {
  test("execute-code and hosted calls spend one budget; once spent, execute-code is 403 QUOTA_EXCEEDED and a hosted call an error", async () => {
    await tools(tightAdmin);
    const s = await serverWith(tightAdmin, "Tight", "TOOLS");
    const hosted = await hostedClient(s.endpoint, s.token);
    try {
      // the budget is TIGHT_BUDGET runs: two scripts and one hosted call spend it
      for (let i = 0; i < TIGHT_BUDGET - 1; i++) expect((await execute(tight, s.id, { code: "return 1" })).status).toBe(200);
      const ok = await hosted.callTool({ name: "echo", arguments: { n: 1 } });
      expect(ok.isError).toBeFalsy();

      const refused = await execute(tight, s.id, { code: "return 1" });
      expect(refused.status).toBe(403);
      expect(refused.json.error.code).toBe("QUOTA_EXCEEDED");
      expect(refused.json.error.message).toContain(`${TIGHT_BUDGET} sandbox runs per minute`);
      expect(refused.json.error.message).toContain("sandbox.runsPerMinute");
      expect(refused.json.error.message).toMatch(/admitted in \d+ s/);

      const over = await hosted.callTool({ name: "echo", arguments: { n: 2 } });
      expect(over.isError).toBe(true);
      expect((over.content as { text: string }[])[0].text).toContain("Sandbox quota exceeded");

      // another org's budget is its own
      expect((await execute(acme, plain.id, { code: "return 1" })).status).toBe(200);
    } finally {
      await hosted.close();
    }
  });
});
