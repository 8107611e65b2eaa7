/**
 * Issue 15.2, the first run: `dzx start` on an empty database mints an all-scopes key of org
 * `default` and shows it once, in a plain-text banner with the next commands; the key works at
 * once on REST and on /mcp/dwizi; a restart mints nothing; the key is in no log line.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { managementClient, op } from "../support/client.ts";
import { freshDatabase, type TestDatabase } from "../support/database.ts";
import { bannerKey, cliJson, runCli, startDzx, waitForBannerKey, type Dzx } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const T = 120_000;
const ALL = [
  "tools:read", "tools:write", "resources:read", "resources:write", "prompts:read", "prompts:write", "mcp:read", "mcp:write",
  "org:read", "secrets:read", "secrets:write", "keys:write", "usage:read", "audit:read",
];
/** No DZX_ADMIN_KEY from the environment running the tests. */
const NO_ADMIN_KEY = { DZX_ADMIN_KEY: "" };

/** How often `text` occurs in `output`. */
const count = (output: string, text: string) => output.split(text).length - 1;

/** The JSON log lines of an output. */
const logLines = (output: string) => output.split("\n").filter((l) => l.startsWith("{"));

/** `dzx keys list --org default --json`. */
const defaultKeys = (db: TestDatabase): Promise<{ keyId: string; prefix: string; scopes: string[] }[]> => cliJson(db, ["keys", "list", "--org", "default"]);

describe("first start of an empty database", () => {
  let db: TestDatabase;
  let dzx: Dzx;
  let key: string;
  beforeAll(async () => {
    db = await freshDatabase();
    dzx = await startDzx({ db, env: NO_ADMIN_KEY });
    key = await waitForBannerKey(dzx.output);
  }, T);
  afterAll(async () => {
    await dzx?.stop();
    await db?.drop();
  }, T);

  test("the banner shows one dwz_ key, once, as plain text with the next commands to try", () => {
    const out = dzx.output();
    expect(key).toMatch(/^dwz_live_[A-Za-z0-9]{16,}$/);
    expect(count(out, key)).toBe(1);
    expect(count(out, "dwz_live_")).toBe(1);
    expect(out).toContain(`curl -s ${dzx.url}/api/v1/org -H "Authorization: Bearer $KEY"`);
    expect(out).toContain("npm run dzx -- keys list --org default");
    expect(out).toContain("npm run dzx -- keys create --org default");
    expect(out).toContain("bun run dzx keys list --org default");
  });

  test("the key is in no log line", () => {
    const lines = logLines(dzx.output());
    expect(lines.some((l) => l.includes('"msg":"dzx listening"'))).toBe(true);
    for (const l of lines) expect(l).not.toContain(key);
  });

  test("the key works on REST /api/v1/org, for org default", async () => {
    const r = await fetch(`${dzx.url}/api/v1/org`, { headers: { authorization: `Bearer ${key}` } });
    expect(r.status).toBe(200);
    expect(JSON.stringify(await r.json())).toContain('"name":"default"');
  }, T);

  test("the key works on /mcp/dwizi with every scope, and is the org's only key", async () => {
    const c = await managementClient(dzx.url, key);
    try {
      expect((await op(c, "dwizi.org.get")).org.name).toBe("default");
      const keys = (await op(c, "dwizi.keys.list")).keys;
      expect(keys).toHaveLength(1);
      expect([...keys[0].scopes].sort()).toEqual([...ALL].sort());
      expect(key.startsWith(keys[0].prefix.replace("…", ""))).toBe(true);
    } finally {
      await c.close();
    }
  }, T);

  test("a restart mints no other key and prints none; the first key still works", async () => {
    await dzx.stop();
    dzx = await startDzx({ db, env: NO_ADMIN_KEY });
    const r = await fetch(`${dzx.url}/api/v1/org`, { headers: { authorization: `Bearer ${key}` } });
    expect(r.status).toBe(200);
    await dzx.stop();
    expect(dzx.output()).toContain("shutting down");
    expect(dzx.output()).not.toContain("dwz_live_");
    expect(dzx.output()).not.toContain("First start");
    expect((await defaultKeys(db)).length).toBe(1);
  }, T);
});

test("a database that already has an org gets no key and no banner", async () => {
  const db = await freshDatabase();
  try {
    expect((await runCli(db, ["orgs", "create", "acme"])).code).toBe(0);
    const dzx = await startDzx({ db, env: NO_ADMIN_KEY });
    await dzx.stop();
    expect(dzx.output()).toContain("shutting down");
    expect(bannerKey(dzx.output())).toBeUndefined();
    expect(dzx.output()).not.toContain("dwz_live_");
    const orgs = await cliJson(db, ["orgs", "list"]);
    expect(orgs.map((o: { name: string }) => o.name)).toEqual(["acme"]);
  } finally {
    await db.drop();
  }
}, T);

test("with DZX_ADMIN_KEY the first start installs that key and mints none", async () => {
  const admin = `dwz_live_${crypto.randomUUID().replace(/-/g, "")}`;
  const db = await freshDatabase();
  try {
    const dzx = await startDzx({ db, env: { DZX_ADMIN_KEY: admin } });
    await dzx.stop();
    expect(dzx.output()).toContain("Installed DZX_ADMIN_KEY");
    expect(dzx.output()).not.toContain("dwz_live_");
    expect(await defaultKeys(db)).toHaveLength(1);
  } finally {
    await db.drop();
  }
}, T);

test("three processes starting together on one empty PostgreSQL database mint exactly one key, shown by one of them", async () => {
  // PostgreSQL even on a PGlite run: an embedded database belongs to one process
  const db = await freshDatabase({ postgres: true });
  const started: Dzx[] = [];
  try {
    const results = await Promise.allSettled([1, 2, 3].map(() => startDzx({ db, env: NO_ADMIN_KEY })));
    for (const r of results) if (r.status === "fulfilled") started.push(r.value);
    expect(started).toHaveLength(3);
    await Promise.all(started.map((d) => d.stop()));
    const shown = started.map((d) => bannerKey(d.output())).filter(Boolean);
    expect(shown).toHaveLength(1);
    const keys = await defaultKeys(db);
    expect(keys).toHaveLength(1);
    expect(shown[0]!.startsWith(keys[0].prefix.replace("…", ""))).toBe(true);
  } finally {
    await Promise.all(started.map((d) => d.stop()));
    await db.drop();
  }
}, T);
