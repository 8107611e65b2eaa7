/**
 * Write-only secrets: set, list (names and masked placeholders only), delete;
 * AES-256-GCM at rest under DZX_SECRET_KEY or a generated `<dataDir>/secret.key` (0600).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { PGlite } from "@electric-sql/pglite";
import { createDecipheriv } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { managementClient, op, opError, rest, rpc } from "../support/client.ts";
import { freshDatabase, usingPostgres, type TestDatabase } from "../support/database.ts";
import { startDzx, startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

/** Per-test timeout: these tests start real processes. */
const T = 120_000;
const rand = () => crypto.randomUUID().replace(/-/g, "");
const LONG = `sk_live_${rand()}`; // ≥ 12 characters: masked shows the last four
const SHORT = "hunter2"; // < 12 characters: fully masked
const REPLACED = `sk_new_${rand()}`;
const END_USER = `eu_${rand()}`;
const REST_VALUE = `rest_${rand()}`;
const values = [LONG, SHORT, REPLACED, END_USER, REST_VALUE];

/** The rows of the secrets table (read with the server stopped on PGlite). */
async function secretRows(db: TestDatabase): Promise<{ name: string; end_user_id: string; ciphertext: string }[]> {
  const q = "select name, end_user_id, ciphertext from secrets order by name, end_user_id";
  if (usingPostgres) {
    const sql = postgres(db.env.DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      return [...(await sql.unsafe(q))] as any;
    } finally {
      await sql.end();
    }
  }
  const pg = new PGlite(join(db.dataDir, "pg"));
  try {
    return (await pg.query<any>(q)).rows;
  } finally {
    await pg.close();
  }
}

/** AES-256-GCM open of `iv(12) | tag(16) | ciphertext`, base64. */
function open(sealed: string, keyHex: string): string {
  const buf = Buffer.from(sealed, "base64");
  const d = createDecipheriv("aes-256-gcm", Buffer.from(keyHex, "hex"), buf.subarray(0, 12));
  d.setAuthTag(buf.subarray(12, 28));
  return Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString("utf8");
}

let dzx: Dzx;
let keys: Record<"admin" | "reader" | "noSecrets" | "other", TestKey>;
let admin: Client;

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["acme"], reader: ["acme", "secrets:read"], noSecrets: ["acme", "tools:write"], other: ["globex"] });
  dzx = s.dzx;
  keys = s.keys;
  admin = await managementClient(dzx.url, keys.admin.key);
}, T);
afterAll(async () => {
  await admin?.close().catch(() => {});
  await dzx?.dispose();
}, T);

describe("management operations", () => {
  test("set returns the name and a masked placeholder, never the value", async () => {
    const r = await admin.callTool({ name: "dwizi.secrets.set", arguments: { name: "STRIPE_KEY", value: LONG } });
    expect(r.isError).toBeFalsy();
    expect((r.structuredContent as any).secret).toMatchObject({ name: "STRIPE_KEY", masked: `••••${LONG.slice(-4)}` });
    expect(JSON.stringify(r)).not.toContain(LONG);
    const short = await op(admin, "dwizi.secrets.set", { name: "PIN", value: SHORT });
    expect(short.secret.masked).toBe("••••");
    expect(JSON.stringify(short)).not.toContain(SHORT);
  }, T);

  test("list shows names, end users and masked placeholders only", async () => {
    await op(admin, "dwizi.secrets.set", { name: "STRIPE_KEY", value: END_USER, endUserId: "alice" });
    const r = await admin.callTool({ name: "dwizi.secrets.list", arguments: {} });
    const list = (r.structuredContent as any).secrets;
    expect(list.map((s: any) => [s.name, s.endUserId ?? null, s.masked])).toEqual([
      ["PIN", null, "••••"],
      ["STRIPE_KEY", null, `••••${LONG.slice(-4)}`],
      ["STRIPE_KEY", "alice", `••••${END_USER.slice(-4)}`],
    ]);
    for (const s of list) {
      for (const k of Object.keys(s)) expect(["name", "endUserId", "masked", "updatedAt"]).toContain(k);
      expect(Number.isNaN(Date.parse(s.updatedAt))).toBe(false);
    }
    const text = JSON.stringify(r);
    for (const v of values) expect(text).not.toContain(v);
  }, T);

  test("setting an existing name replaces its value in place", async () => {
    await op(admin, "dwizi.secrets.set", { name: "STRIPE_KEY", value: REPLACED });
    const list = (await op(admin, "dwizi.secrets.list")).secrets.filter((s: any) => s.name === "STRIPE_KEY" && !s.endUserId);
    expect(list).toHaveLength(1);
    expect(list[0].masked).toBe(`••••${REPLACED.slice(-4)}`);
  }, T);

  test("REST mirror: PUT, GET and DELETE /api/v1/secrets never echo the value", async () => {
    const put = await rest(dzx.url, keys.admin.key, "PUT", "/secrets/WEBHOOK_SECRET", { value: REST_VALUE });
    expect(put.status).toBe(200);
    expect(put.json.secret).toMatchObject({ name: "WEBHOOK_SECRET", masked: `••••${REST_VALUE.slice(-4)}` });
    expect(put.text).not.toContain(REST_VALUE);
    const list = await rest(dzx.url, keys.admin.key, "GET", "/secrets");
    expect(list.status).toBe(200);
    expect(list.json.secrets.map((s: any) => s.name)).toContain("WEBHOOK_SECRET");
    for (const v of values) expect(list.text).not.toContain(v);
    const one = await rest(dzx.url, keys.admin.key, "GET", "/secrets/WEBHOOK_SECRET");
    expect(one.status).toBe(404); // no read-back route exists
    expect(one.text).not.toContain(REST_VALUE);
    const del = await rest(dzx.url, keys.admin.key, "DELETE", "/secrets/WEBHOOK_SECRET");
    expect(del.status).toBe(200);
    expect(del.json).toMatchObject({ deleted: true, name: "WEBHOOK_SECRET" });
    expect((await rest(dzx.url, keys.admin.key, "DELETE", "/secrets/WEBHOOK_SECRET")).status).toBe(404);
  }, T);

  test("no operation reads a secret value back", async () => {
    const r = await rpc(dzx.url, keys.admin.key, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    const names: string[] = r.json.result.tools.map((t: any) => t.name);
    expect(names.filter((n) => n.startsWith("dwizi.secrets."))).toEqual(expect.arrayContaining(["dwizi.secrets.list", "dwizi.secrets.set", "dwizi.secrets.delete"]));
    expect(names.filter((n) => /^dwizi\.secrets\.(get|read|reveal|export|value)/.test(n))).toEqual([]);
  }, T);

  test("delete removes one value (org-wide or one end user's)", async () => {
    expect(await op(admin, "dwizi.secrets.delete", { name: "STRIPE_KEY", endUserId: "alice" })).toMatchObject({ deleted: true, name: "STRIPE_KEY", endUserId: "alice" });
    const list = (await op(admin, "dwizi.secrets.list")).secrets;
    expect(list.map((s: any) => [s.name, s.endUserId ?? null])).toEqual([
      ["PIN", null],
      ["STRIPE_KEY", null],
    ]);
    expect((await opError(admin, "dwizi.secrets.delete", { name: "STRIPE_KEY", endUserId: "alice" })).code).toBe("NOT_FOUND");
  }, T);

  test("invalid input is refused without echoing the value", async () => {
    for (const args of [{ name: "1BAD", value: LONG }, { name: "has-dash", value: LONG }, { name: "OK_NAME", value: "" }]) {
      const r = await admin.callTool({ name: "dwizi.secrets.set", arguments: args });
      expect(r.isError).toBe(true);
      expect((r.structuredContent as any).error.code).toBe("VALIDATION_ERROR");
      expect(JSON.stringify(r)).not.toContain(LONG);
    }
    expect((await op(admin, "dwizi.secrets.list")).secrets.map((s: any) => s.name)).toEqual(["PIN", "STRIPE_KEY"]);
  }, T);

  test("scopes: secrets:read lists but cannot write; keys without a secrets scope see nothing", async () => {
    const reader = await managementClient(dzx.url, keys.reader.key);
    const none = await managementClient(dzx.url, keys.noSecrets.key);
    try {
      expect((await op(reader, "dwizi.secrets.list")).secrets.map((s: any) => s.name)).toEqual(["PIN", "STRIPE_KEY"]);
      const denied = await opError(reader, "dwizi.secrets.set", { name: "PIN", value: `x_${rand()}` });
      expect(denied.code).toBe("FORBIDDEN_SCOPE");
      expect(denied.message).toContain("secrets:write");
      expect((await opError(reader, "dwizi.secrets.delete", { name: "PIN" })).message).toContain("secrets:write");
      const listDenied = await opError(none, "dwizi.secrets.list");
      expect(listDenied.code).toBe("FORBIDDEN_SCOPE");
      expect(listDenied.message).toContain("secrets:read");
      expect((await rest(dzx.url, keys.noSecrets.key, "GET", "/secrets")).status).toBe(403);
    } finally {
      await reader.close();
      await none.close();
    }
    // nothing changed
    expect((await op(admin, "dwizi.secrets.list")).secrets.find((s: any) => s.name === "PIN").masked).toBe("••••");
  }, T);

  test("another org neither sees nor deletes these secrets", async () => {
    const c = await managementClient(dzx.url, keys.other.key);
    try {
      expect((await op(c, "dwizi.secrets.list")).secrets).toEqual([]);
      expect((await opError(c, "dwizi.secrets.delete", { name: "PIN" })).code).toBe("NOT_FOUND");
      await op(c, "dwizi.secrets.set", { name: "PIN", value: `g_${rand()}` });
    } finally {
      await c.close();
    }
    expect((await op(admin, "dwizi.secrets.list")).secrets.find((s: any) => s.name === "PIN").masked).toBe("••••");
  }, T);

  test("the audit log records secret writes by name only", async () => {
    const entries = (await op(admin, "dwizi.audit.list", { limit: 200 })).entries.filter((e: any) => e.operation.startsWith("secrets."));
    expect(entries.map((e: any) => e.operation)).toEqual(expect.arrayContaining(["secrets.set", "secrets.delete"]));
    expect(entries.find((e: any) => e.operation === "secrets.set").detail.name).toBeString();
    const text = JSON.stringify(entries);
    for (const v of values) expect(text).not.toContain(v);
  }, T);

  test("secret values never reach the logs", () => {
    const logs = dzx.output();
    expect(logs).toContain("dzx listening");
    for (const v of values) expect(logs).not.toContain(v);
  }, T);
});

describe("at rest", () => {
  test("values are AES-256-GCM ciphertext under the instance key, with a fresh IV each time", async () => {
    await op(admin, "dwizi.secrets.set", { name: "TWIN_A", value: LONG });
    await op(admin, "dwizi.secrets.set", { name: "TWIN_B", value: LONG });
    await admin.close();
    await dzx.stop();
    const rows = await secretRows(dzx.db);
    const keyHex = usingPostgres ? dzx.db.env.DZX_SECRET_KEY : readFileSync(join(dzx.db.dataDir, "secret.key"), "utf8").trim();
    expect(keyHex).toMatch(/^[0-9a-fA-F]{64}$/);
    for (const r of rows) {
      for (const v of values) expect(r.ciphertext).not.toContain(v);
      expect(Buffer.from(r.ciphertext, "base64").length).toBeGreaterThanOrEqual(28);
    }
    const twinA = rows.find((r) => r.name === "TWIN_A")!;
    const twinB = rows.find((r) => r.name === "TWIN_B")!;
    expect(twinA.ciphertext).not.toBe(twinB.ciphertext);
    expect(open(twinA.ciphertext, keyHex)).toBe(LONG);
    expect(open(twinB.ciphertext, keyHex)).toBe(LONG);
    expect(open(rows.find((r) => r.name === "PIN")!.ciphertext, keyHex)).toBe(SHORT);
    // a tampered ciphertext fails authentication
    const tampered = Buffer.from(twinA.ciphertext, "base64");
    tampered[tampered.length - 1] ^= 1;
    expect(() => open(tampered.toString("base64"), keyHex)).toThrow();
  }, T);

  test("the same key is used after a restart, so values still decrypt", async () => {
    const keyFile = join(dzx.db.dataDir, "secret.key");
    const before = existsSync(keyFile) ? readFileSync(keyFile, "utf8") : null;
    dzx = await startDzx({ db: dzx.db });
    admin = await managementClient(dzx.url, keys.admin.key);
    const list = (await op(admin, "dwizi.secrets.list")).secrets;
    expect(list.find((s: any) => s.name === "TWIN_A").masked).toBe(`••••${LONG.slice(-4)}`);
    expect(list.find((s: any) => s.name === "STRIPE_KEY").masked).toBe(`••••${REPLACED.slice(-4)}`);
    expect(existsSync(keyFile) ? readFileSync(keyFile, "utf8") : null).toBe(before);
    if (usingPostgres) expect(before).toBeNull(); // DZX_SECRET_KEY is set: nothing generated
    else expect(before).toMatch(/^[0-9a-f]{64}\s*$/);
  }, T);

  test("under a different DZX_SECRET_KEY, lists still answer, fully masked", async () => {
    await admin.close();
    await dzx.stop();
    dzx = await startDzx({ db: dzx.db, env: { DZX_SECRET_KEY: "b".repeat(64) } });
    admin = await managementClient(dzx.url, keys.admin.key);
    const list = (await op(admin, "dwizi.secrets.list")).secrets;
    expect(list.length).toBeGreaterThan(0);
    for (const s of list) expect(s.masked).toBe("••••");
    const text = JSON.stringify(list);
    for (const v of values) expect(text).not.toContain(v);
  }, T);
});

test("without DZX_SECRET_KEY a key is generated at <dataDir>/secret.key with mode 0600", async () => {
  const db = await freshDatabase();
  const keyFile = join(db.dataDir, "secret.key");
  expect(existsSync(keyFile)).toBe(false);
  const s = await startDzx({ db, env: { DZX_SECRET_KEY: "" } });
  try {
    expect(existsSync(keyFile)).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const content = readFileSync(keyFile, "utf8").trim();
    expect(content).toMatch(/^[0-9a-f]{64}$/);
    expect(s.output()).not.toContain(content);
    if (usingPostgres) expect(s.output()).toMatch(/DZX_SECRET_KEY is not set/);
    await s.stop();
    const again = await startDzx({ db, env: { DZX_SECRET_KEY: "" } });
    await again.stop();
    expect(readFileSync(keyFile, "utf8").trim()).toBe(content); // reused, not regenerated
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  } finally {
    await s.dispose();
  }
}, T);
