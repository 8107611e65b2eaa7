/**
 * Persistence: everything written through the management plane survives a
 * restart, and no API key, server token or secret value is ever kept or shown
 * in clear — not in list responses, not in log lines, not in database columns.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { PGlite } from "@electric-sql/pglite";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { managementClient, op, opError, rest, rpc } from "../support/client.ts";
import { usingPostgres, type TestDatabase } from "../support/database.ts";
import { startDzx, startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

/** Per-test timeout: these tests start real processes. */
const T = 120_000;
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** Every row of every public table, each row rendered as text (`t::text`), by table. */
async function dumpDatabase(db: TestDatabase): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const listTables = "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1";
  if (usingPostgres) {
    const sql = postgres(db.env.DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      for (const { table_name } of await sql.unsafe(listTables)) {
        const rows = await sql.unsafe(`select t::text as row from "${table_name}" t`);
        out[table_name] = rows.map((r: any) => r.row).join("\n");
      }
    } finally {
      await sql.end();
    }
  } else {
    const pg = new PGlite(join(db.dataDir, "pg"));
    try {
      const tables = await pg.query<{ table_name: string }>(listTables);
      for (const { table_name } of tables.rows) {
        const rows = await pg.query<{ row: string }>(`select t::text as row from "${table_name}" t`);
        out[table_name] = rows.rows.map((r) => r.row).join("\n");
      }
    } finally {
      await pg.close();
    }
  }
  return out;
}

/** Every file under a directory, concatenated as latin1 (byte-preserving) text. */
function allFileBytes(dir: string): string {
  let text = "";
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, entry);
    if (statSync(path).isFile()) text += readFileSync(path).toString("latin1");
  }
  return text;
}

let dzx: Dzx;
let first: Dzx;
let admin: TestKey;
let other: TestKey;
let client: Client;

const SECRET_VALUE = `sk_persist_${crypto.randomUUID().replace(/-/g, "")}`;
const END_USER_SECRET = `eu_persist_${crypto.randomUUID().replace(/-/g, "")}`;
const state: {
  toolId?: string;
  resourceId?: string;
  promptId?: string;
  serverId?: string;
  firstToken?: string;
  rotatedToken?: string;
  scopedKey?: { key: string; keyId: string };
  revokedKey?: { key: string; keyId: string };
  rotatedKeyOld?: string;
  rotatedKeyNew?: string;
  rotatedKeyId?: string;
} = {};

/** Every plaintext credential this file has seen. */
const plaintexts = () =>
  [admin.key, other.key, SECRET_VALUE, END_USER_SECRET, state.firstToken, state.rotatedToken, state.scopedKey?.key, state.revokedKey?.key, state.rotatedKeyOld, state.rotatedKeyNew].filter(
    (s): s is string => typeof s === "string" && s.length > 0,
  );

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"], other: ["globex"] });
  dzx = first = s.dzx;
  admin = s.keys.admin;
  other = s.keys.other;
  client = await managementClient(dzx.url, admin.key);
}, T);
afterAll(async () => {
  await client?.close().catch(() => {});
  await dzx?.dispose();
}, T);

test("GET /health is 200 {status:ok} and GET /ready is 200 while the database answers", async () => {
  const health = await fetch(`${dzx.url}/health`);
  expect(health.status).toBe(200);
  expect(await health.json()).toMatchObject({ status: "ok" });
  const ready = await fetch(`${dzx.url}/ready`);
  expect(ready.status).toBe(200);
  expect(((await ready.json()) as any).database).toBe(usingPostgres ? "postgres" : "pglite");
}, T);

test("populate: tools, resources, prompts, a server, secrets and keys", async () => {
  const tool = await op(client, "dwizi.tools.create", {
    tool: {
      name: "Echo",
      slug: "echo",
      language: "js",
      description: "Echo the input back",
      inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
      source: "export default async (input) => ({ echoed: input.text })",
      secrets: ["API_TOKEN"],
    },
  });
  state.toolId = tool.tool.id;
  const resource = await op(client, "dwizi.resources.create", { resource: { uri: "resource://docs/readme", name: "Readme", mimeType: "text/markdown", text: "# Hello" } });
  state.resourceId = resource.resource.id;
  const prompt = await op(client, "dwizi.prompts.create", {
    prompt: { name: "greet", description: "Greet someone", arguments: [{ name: "who", required: true }], messages: [{ role: "user", content: "Say hi to {{who}}" }] },
  });
  state.promptId = prompt.prompt.id;
  await op(client, "dwizi.prompts.create", { prompt: { name: "doomed", description: "to be deleted", messages: [{ role: "user", content: "bye" }] } });
  await op(client, "dwizi.prompts.delete", { slug: "doomed" });

  const server = await op(client, "dwizi.mcp.create", {
    server: { name: "Kit", slug: "kit", toolIds: [state.toolId], resourceIds: [state.resourceId], promptIds: [state.promptId] },
  });
  state.serverId = server.server.id;
  state.firstToken = server.bearerToken;
  expect(state.firstToken).toMatch(/^mcp_/);
  const rotated = await op(client, "dwizi.mcp.rotate_token", { slug: "kit" });
  state.rotatedToken = rotated.bearerToken;
  expect(state.rotatedToken).toMatch(/^mcp_/);
  expect(state.rotatedToken).not.toBe(state.firstToken);

  await op(client, "dwizi.secrets.set", { name: "API_TOKEN", value: SECRET_VALUE });
  await op(client, "dwizi.secrets.set", { name: "API_TOKEN", value: END_USER_SECRET, endUserId: "user-42" });

  state.scopedKey = await op(client, "dwizi.keys.create", { name: "reader", scopes: ["tools:read"] });
  state.revokedKey = await op(client, "dwizi.keys.create", { name: "gone", scopes: ["tools:read"] });
  await op(client, "dwizi.keys.revoke", { keyId: state.revokedKey!.keyId });
  const toRotate = await op(client, "dwizi.keys.create", { name: "rotating", scopes: ["org:read"] });
  state.rotatedKeyOld = toRotate.key;
  state.rotatedKeyId = toRotate.keyId;
  state.rotatedKeyNew = (await op(client, "dwizi.keys.rotate", { keyId: toRotate.keyId })).key;
  expect(state.rotatedKeyNew).toMatch(/^dwz_live_/);
}, T);

test("everything survives a restart", async () => {
  await client.close();
  await dzx.stop();
  dzx = await startDzx({ db: dzx.db });
  client = await managementClient(dzx.url, admin.key);

  const tool = (await op(client, "dwizi.tools.get", { slug: "echo" })).tool;
  expect(tool).toMatchObject({ id: state.toolId, name: "Echo", language: "js", description: "Echo the input back" });
  expect(tool.source).toBe("export default async (input) => ({ echoed: input.text })");
  expect(tool.inputSchema).toEqual({ type: "object", properties: { text: { type: "string" } }, required: ["text"] });

  expect((await op(client, "dwizi.resources.get", { id: state.resourceId })).resource).toMatchObject({ uri: "resource://docs/readme", text: "# Hello", mimeType: "text/markdown" });
  const prompt = (await op(client, "dwizi.prompts.get", { slug: "greet" })).prompt;
  expect(prompt.messages).toEqual([{ role: "user", content: "Say hi to {{who}}" }]);
  const prompts = (await op(client, "dwizi.prompts.list")).prompts.map((p: any) => p.slug);
  expect(prompts).toEqual(["greet"]); // the soft-deleted one stays deleted

  const server = await op(client, "dwizi.mcp.get", { slug: "kit" });
  expect(server.server.id).toBe(state.serverId);
  expect(server.tools.map((t: any) => t.toolId)).toEqual([state.toolId]);
  expect(server.resources.map((r: any) => r.id)).toEqual([state.resourceId]);
  expect(server.prompts.map((p: any) => p.id)).toEqual([state.promptId]);

  // secrets still decrypt (the masked placeholder shows the last four characters)
  const secrets = (await op(client, "dwizi.secrets.list")).secrets;
  expect(secrets).toEqual([
    expect.objectContaining({ name: "API_TOKEN", masked: `••••${SECRET_VALUE.slice(-4)}` }),
    expect.objectContaining({ name: "API_TOKEN", endUserId: "user-42", masked: `••••${END_USER_SECRET.slice(-4)}` }),
  ]);
}, T);

test("keys keep their scopes and revocations across the restart", async () => {
  const scoped = await managementClient(dzx.url, state.scopedKey!.key);
  try {
    expect((await op(scoped, "dwizi.tools.list")).tools.map((t: any) => t.slug)).toEqual(["echo"]);
    const denied = await opError(scoped, "dwizi.tools.delete", { slug: "echo" });
    expect(denied.code).toBe("FORBIDDEN_SCOPE");
    expect(denied.message).toContain("tools:write");
  } finally {
    await scoped.close();
  }
  const ping = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "dwizi.org.get", arguments: {} } };
  expect((await rpc(dzx.url, state.revokedKey!.key, ping)).status).toBe(401);
  expect((await rpc(dzx.url, state.rotatedKeyOld!, ping)).status).toBe(401);
  const rotated = await rpc(dzx.url, state.rotatedKeyNew!, ping);
  expect(rotated.status).toBe(200);
  expect(rotated.json.result.structuredContent.org.name).toBe("acme");

  const keys = (await op(client, "dwizi.keys.list")).keys;
  expect(keys.find((k: any) => k.keyId === state.revokedKey!.keyId).revokedAt).toBeString();
  expect(keys.find((k: any) => k.keyId === state.rotatedKeyId).rotatedAt).toBeString();
}, T);

test("the audit log written before the restart is still there", async () => {
  const entries = (await op(client, "dwizi.audit.list", { limit: 100 })).entries;
  const ops = entries.map((e: any) => e.operation);
  for (const o of ["tools.create", "resources.create", "prompts.create", "prompts.delete", "mcp.create", "mcp.rotate_token", "secrets.set", "keys.create", "keys.revoke", "keys.rotate"]) {
    expect(ops).toContain(o);
  }
  expect(entries.find((e: any) => e.operation === "mcp.create").targetId).toBe(state.serverId);
}, T);

test("another org sees none of it after the restart", async () => {
  const c = await managementClient(dzx.url, other.key);
  try {
    expect((await op(c, "dwizi.tools.list")).tools).toEqual([]);
    expect((await op(c, "dwizi.secrets.list")).secrets).toEqual([]);
    expect((await opError(c, "dwizi.mcp.get", { slug: "kit" })).code).toBe("NOT_FOUND");
  } finally {
    await c.close();
  }
}, T);

test("no key, token or secret value appears in any list or get response (MCP and REST)", async () => {
  const seen: string[] = [];
  for (const [name, args] of [
    ["dwizi.keys.list", {}],
    ["dwizi.secrets.list", {}],
    ["dwizi.mcp.list", {}],
    ["dwizi.mcp.get", { slug: "kit" }],
    ["dwizi.mcp.tools.list", { server: "kit" }],
    ["dwizi.audit.list", { limit: 500 }],
    ["dwizi.org.get", {}],
    ["dwizi.tools.list", {}],
  ] as const) {
    seen.push(JSON.stringify(await client.callTool({ name, arguments: args })));
  }
  for (const path of ["/keys", "/secrets", "/mcp/servers", `/mcp/servers/${state.serverId}`, "/audit?limit=500", "/org", "/tools"]) {
    const r = await rest(dzx.url, admin.key, "GET", path);
    expect(r.status).toBe(200);
    seen.push(r.text);
  }
  const all = seen.join("\n");
  for (const s of plaintexts()) expect(all).not.toContain(s);
  // nor their stored hashes
  for (const s of plaintexts()) expect(all).not.toContain(sha256(s));
  // lists still identify keys: by id and a short prefix
  const keys = JSON.parse(seen[0]).structuredContent.keys;
  expect(keys.map((k: any) => k.keyId)).toContain(admin.keyId);
  for (const k of keys) {
    expect(Object.keys(k)).not.toContain("key");
    expect(Object.keys(k)).not.toContain("hash");
  }
}, T);

test("no key, token or secret value appears in any log line", async () => {
  // a failed attempt with a plausible key and a rejected secret must not log them either
  const bogus = `dwz_live_${crypto.randomUUID().replace(/-/g, "")}`;
  expect((await rpc(dzx.url, bogus, { jsonrpc: "2.0", id: 1, method: "tools/list" })).status).toBe(401);
  const bad = await client.callTool({ name: "dwizi.secrets.set", arguments: { name: "1-not-valid", value: SECRET_VALUE } });
  expect(bad.isError).toBe(true);
  expect(JSON.stringify(bad)).not.toContain(SECRET_VALUE);
  const logs = first.output() + "\n" + dzx.output();
  expect(logs).toContain("dzx listening");
  for (const s of [...plaintexts(), bogus]) expect(logs).not.toContain(s);
}, T);

test("database columns hold hashes and ciphertext, never the plaintext", async () => {
  await client.close();
  await dzx.stop();
  const dump = await dumpDatabase(dzx.db);
  expect(Object.keys(dump)).toEqual(expect.arrayContaining(["api_keys", "servers", "secrets", "audit_log", "orgs", "tools"]));
  const everything = Object.values(dump).join("\n");
  for (const s of plaintexts()) expect(everything).not.toContain(s);

  // keys and the current server token are stored as SHA-256 hex
  for (const k of [admin.key, other.key, state.scopedKey!.key, state.revokedKey!.key, state.rotatedKeyNew!]) expect(dump.api_keys).toContain(sha256(k));
  expect(dump.api_keys).not.toContain(sha256(state.rotatedKeyOld!)); // rotation replaced the hash
  expect(dump.servers).toContain(sha256(state.rotatedToken!));
  expect(dump.servers).not.toContain(sha256(state.firstToken!));
  expect(dump.secrets.split("\n")).toHaveLength(2);

  if (!usingPostgres) {
    // the embedded database's files on disk (heap, WAL) hold no plaintext either
    const bytes = allFileBytes(join(dzx.db.dataDir, "pg"));
    for (const s of plaintexts()) expect(bytes).not.toContain(s);
  }
}, T);
