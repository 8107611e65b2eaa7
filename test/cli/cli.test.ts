/**
 * The operator CLI: `dzx keys create|list|revoke`, `dzx orgs list|create|limits`,
 * `dzx migrate`, `dzx help`; the embedded-database lock; first-start bootstrap.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { managementClient, op, opError } from "../support/client.ts";
import { freshDatabase, usingPostgres, type TestDatabase } from "../support/database.ts";
import { cliJson, runCli, startDzx, whoAmI, type Dzx, type TestKey } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const ROOT = join(import.meta.dir, "..", "..");
const MAIN = join(ROOT, "src", "main.ts");
const ALL = [
  "tools:read", "tools:write", "resources:read", "resources:write", "prompts:read", "prompts:write", "mcp:read", "mcp:write",
  "org:read", "secrets:read", "secrets:write", "keys:write", "usage:read", "audit:read",
];
const STACK = /^\s+at\s/m;
/** Per-test timeout: these tests start real processes. */
const T = 120_000;

/** `bun run dzx <args>` from the project root, exactly as the README shows it. */
async function bunRunDzx(db: TestDatabase, args: string[]) {
  const proc = Bun.spawn(["bun", "run", "dzx", ...args], { cwd: ROOT, env: { ...process.env, ...db.env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Waits until the process output contains `text` (the server logs "shutting down" when stopped). */
async function outputContains(dzx: Dzx, text: string): Promise<boolean> {
  for (let i = 0; i < 200 && !dzx.output().includes(text); i++) await Bun.sleep(25);
  return dzx.output().includes(text);
}

/** Starts a second `dzx start` expected to fail; kills it if it keeps running. */
async function startExpectingFailure(db: TestDatabase) {
  const proc = Bun.spawn(["bun", MAIN, "start"], { env: { ...process.env, ...db.env, PORT: "0", DZX_HOST: "127.0.0.1" }, stdout: "pipe", stderr: "pipe" });
  const guard = setTimeout(() => proc.kill(), 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(guard);
  return { code, output: stdout + stderr };
}

describe("against one database", () => {
  let db: TestDatabase;
  let dzx: Dzx | undefined;
  let admin: TestKey;
  let scoped: TestKey;
  let beta: TestKey;
  beforeAll(async () => {
    db = await freshDatabase();
  }, T);
  afterAll(async () => {
    await dzx?.stop();
    await db?.drop();
  }, T);

  test("`bun run dzx keys create --org --scopes all --json` prints exactly one JSON object, before any server ran", async () => {
    const r = await bunRunDzx(db, ["keys", "create", "--org", "acme", "--scopes", "all", "--json"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    admin = JSON.parse(r.stdout);
    expect(Object.keys(admin).sort()).toEqual(["key", "keyId", "orgId", "scopes"]);
    expect(admin.key).toMatch(/^dwz_live_[A-Za-z0-9]{16,}$/);
    expect(admin.keyId).toBeString();
    expect(admin.orgId).toBeString();
    expect(admin.scopes).toEqual(ALL);
    // the org was created, and the CLI left no lock behind
    const orgs = await cliJson(db, ["orgs", "list"]);
    expect(orgs.map((o: any) => [o.id, o.name])).toEqual([[admin.orgId, "acme"]]);
    expect(existsSync(join(db.dataDir, "dzx.lock"))).toBe(false);
  }, T);

  test("a comma list of scopes; a second key joins the existing org", async () => {
    scoped = await cliJson(db, ["keys", "create", "--org", "acme", "--scopes", "mcp:write,tools:read"]);
    expect(scoped.orgId).toBe(admin.orgId);
    expect(scoped.keyId).not.toBe(admin.keyId);
    expect(scoped.key).not.toBe(admin.key);
    expect(scoped.scopes).toEqual(["tools:read", "mcp:write"]);
  }, T);

  test("bad input is refused with a clear message, a non-zero exit and no side effect", async () => {
    const cases: [string[], RegExp][] = [
      [["keys", "create", "--org", "ghost", "--scopes", "tools:read,bogus:scope", "--json"], /bogus:scope/],
      [["keys", "create", "--org", "ghost", "--scopes", ",", "--json"], /scope/],
      [["keys", "create", "--org", "ghost", "--scopes", "all", "--rate", "burst=zero", "--json"], /rate/],
      [["keys", "create", "--org", "--scopes", "all"], /--org/],
      [["keys", "list", "--org", "ghost"], /ghost/],
      [["keys", "revoke", "--org", "acme"], /Usage/],
      [["keys", "frob"], /Usage/],
      [["orgs", "limits", "--org", "ghost"], /ghost/],
      [["frobnicate"], /Unknown command/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(db, args);
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stdout).not.toContain("dwz_live_");
    }
    expect((await cliJson(db, ["orgs", "list"])).map((o: any) => o.name)).toEqual(["acme"]);
    expect(await cliJson(db, ["keys", "list", "--org", "acme"])).toHaveLength(2);
  }, T);

  test("keys list shows ids, prefixes and scopes, never a key or its hash", async () => {
    const list = await cliJson(db, ["keys", "list", "--org", "acme"]);
    expect(list.map((k: any) => k.keyId).sort()).toEqual([admin.keyId, scoped.keyId].sort());
    for (const k of list) {
      expect(Object.keys(k)).not.toContain("key");
      expect(Object.keys(k)).not.toContain("hash");
      expect(k.prefix.startsWith("dwz_live_")).toBe(true);
      expect(k.revokedAt).toBeNull();
    }
    expect(list.find((k: any) => k.keyId === scoped.keyId).scopes).toEqual(["tools:read", "mcp:write"]);
    const human = await runCli(db, ["keys", "list", "--org", "acme"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(admin.keyId);
    for (const out of [JSON.stringify(list), human.stdout]) {
      expect(out).not.toContain(admin.key);
      expect(out).not.toContain(scoped.key);
      expect(out).not.toContain(new Bun.CryptoHasher("sha256").update(admin.key).digest("hex"));
    }
  }, T);

  test("orgs create, list and limits", async () => {
    const created = await runCli(db, ["orgs", "create", "beta"]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/Created/);
    expect((await runCli(db, ["orgs", "create", "beta"])).stdout).toMatch(/Exists/);
    expect((await cliJson(db, ["orgs", "list"])).map((o: any) => o.name)).toEqual(["acme", "beta"]);
    expect(JSON.parse((await runCli(db, ["orgs", "limits", "--org", "beta"])).stdout)).toEqual({});
    const set = await runCli(db, ["orgs", "limits", "--org", "beta", "--set", '{"caps":{"tools":1}}']);
    expect(set.code).toBe(0);
    expect(JSON.parse((await runCli(db, ["orgs", "limits", "--org", "beta"])).stdout)).toEqual({ caps: { tools: 1 } });
    beta = await cliJson(db, ["keys", "create", "--org", "beta", "--scopes", "tools:write"]);
  }, T);

  test("orgs limits refuses values that are not valid limits, and keeps the old ones", async () => {
    expect((await runCli(db, ["orgs", "create", "delta"])).code).toBe(0);
    expect((await runCli(db, ["orgs", "limits", "--org", "delta", "--set", '{"caps":{"servers":2}}'])).code).toBe(0);
    const outcomes: { set: string; exit: number; stack: boolean; limitsAfter: unknown }[] = [];
    for (const bad of ["not json", "[1,2]", '"text"', '{"caps":{"tools":"lots"}}', '{"caps":{"tools":-5}}', '{"rate":{"perMinute":"fast"}}', '{"retentionDays":"forever"}']) {
      const r = await runCli(db, ["orgs", "limits", "--org", "delta", "--set", bad]);
      const after = JSON.parse((await runCli(db, ["orgs", "limits", "--org", "delta"])).stdout);
      outcomes.push({ set: bad, exit: r.code === 0 ? 0 : 2, stack: STACK.test(r.stderr), limitsAfter: after });
      if (r.code === 0) await runCli(db, ["orgs", "limits", "--org", "delta", "--set", '{"caps":{"servers":2}}']); // restore between cases
    }
    expect(outcomes).toEqual(outcomes.map((o) => ({ set: o.set, exit: 2, stack: false, limitsAfter: { caps: { servers: 2 } } })));
  }, T);

  test("migrate applies migrations and is idempotent; help lists the commands", async () => {
    for (let i = 0; i < 2; i++) {
      const r = await runCli(db, ["migrate"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Migrations applied.");
    }
    for (const args of [["help"], ["--help"]]) {
      const r = await runCli(db, args);
      expect(r.code).toBe(0);
      for (const c of ["keys create", "keys list", "keys revoke", "orgs list", "orgs create", "orgs limits", "migrate", "start"]) expect(r.stdout).toContain(c);
    }
  }, T);

  test("keys made by the CLI work on the server with their scopes; org limits apply", async () => {
    dzx = await startDzx({ db });
    expect(await whoAmI(dzx.url, admin.key)).toEqual({ status: 200, org: "acme" });
    const c = await managementClient(dzx.url, scoped.key);
    const b = await managementClient(dzx.url, beta.key);
    try {
      expect((await op(c, "dwizi.mcp.list")).servers).toEqual([]); // mcp:write implies mcp:read
      expect((await op(c, "dwizi.tools.list")).tools).toEqual([]);
      expect((await opError(c, "dwizi.tools.create", { tool: { name: "X", source: "export default async () => 1" } })).message).toContain("tools:write");
      expect((await opError(c, "dwizi.org.get")).code).toBe("FORBIDDEN_SCOPE");
      await op(b, "dwizi.tools.create", { tool: { name: "One", source: "export default async () => 1" } });
      expect((await opError(b, "dwizi.tools.create", { tool: { name: "Two", source: "export default async () => 2" } })).code).toBe("QUOTA_EXCEEDED");
    } finally {
      await c.close();
      await b.close();
    }
  }, T);

  test("while the server runs the CLI works alongside it (PGlite: through its admin socket); migrate and a second server refuse the embedded database", async () => {
    const live = await cliJson(db, ["keys", "create", "--org", "gamma", "--scopes", "org:read"]);
    expect(await whoAmI(dzx!.url, live.key)).toEqual({ status: 200, org: "gamma" });
    expect((await runCli(db, ["keys", "revoke", live.keyId, "--org", "gamma"])).code).toBe(0);
    expect((await whoAmI(dzx!.url, live.key)).status).toBe(401); // never cached past a revoke
    if (!usingPostgres) {
      const r = await runCli(db, ["migrate"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/in use by another dzx process/);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stdout).toBe("");
      const second = await startExpectingFailure(db);
      expect(second.code).not.toBe(0);
      expect(second.output).toMatch(/in use by another dzx process/);
      // the running server is unharmed
      expect(await whoAmI(dzx!.url, scoped.key)).toMatchObject({ status: 200 });
    } else {
      const second = await startDzx({ db }); // many processes may share one PostgreSQL
      try {
        expect(await whoAmI(second.url, admin.key)).toEqual({ status: 200, org: "acme" });
      } finally {
        await second.stop();
      }
    }
  }, T);

  test("keys revoke: the key stops working; revoking it again fails", async () => {
    if (!usingPostgres) await dzx!.stop();
    const r = await runCli(db, ["keys", "revoke", scoped.keyId, "--org", "acme"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(scoped.keyId);
    const again = await runCli(db, ["keys", "revoke", scoped.keyId, "--org", "acme"]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/No active key/);
    const wrongOrg = await runCli(db, ["keys", "revoke", admin.keyId, "--org", "beta"]);
    expect(wrongOrg.code).not.toBe(0);
    const list = await cliJson(db, ["keys", "list", "--org", "acme"]);
    expect(list.find((k: any) => k.keyId === scoped.keyId).revokedAt).toBeString();
    expect(list.find((k: any) => k.keyId === admin.keyId).revokedAt).toBeNull();
    if (!usingPostgres) dzx = await startDzx({ db });
    expect((await whoAmI(dzx!.url, scoped.key)).status).toBe(401);
    expect(await whoAmI(dzx!.url, admin.key)).toEqual({ status: 200, org: "acme" });
  }, T);

  test("the server's logs never show a key", async () => {
    await dzx!.stop();
    for (const k of [admin.key, scoped.key, beta.key]) expect(dzx!.output()).not.toContain(k);
  }, T);

  test("a lock left by a process that is gone does not block the CLI", async () => {
    const gone = Bun.spawn(["bun", "-e", ""]);
    await gone.exited;
    writeFileSync(join(db.dataDir, "dzx.lock"), String(gone.pid));
    const r = await runCli(db, ["orgs", "list", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((o: any) => o.name)).toContain("acme");
    if (!usingPostgres) expect(existsSync(join(db.dataDir, "dzx.lock"))).toBe(false);
  }, T);
});

describe("first start of an empty database", () => {
  const ADMIN = `dwz_live_${crypto.randomUUID().replace(/-/g, "")}`;

  test("DZX_ADMIN_KEY is installed as an all-scopes key of org default, once", async () => {
    const dzx = await startDzx({ env: { DZX_ADMIN_KEY: ADMIN } });
    try {
      expect(await whoAmI(dzx.url, ADMIN)).toEqual({ status: 200, org: "default" });
      const c = await managementClient(dzx.url, ADMIN);
      const keys = (await op(c, "dwizi.keys.list")).keys;
      await c.close();
      expect(keys).toHaveLength(1);
      expect([...keys[0].scopes].sort()).toEqual([...ALL].sort());
      await dzx.stop();
      expect(await outputContains(dzx, "shutting down")).toBe(true);
      expect(dzx.output()).toMatch(/DZX_ADMIN_KEY/);
      expect(dzx.output()).not.toContain(ADMIN);
      // a restart without the variable keeps the key; a different key on a non-empty database is not installed
      const other = `dwz_live_${crypto.randomUUID().replace(/-/g, "")}`;
      const again = await startDzx({ db: dzx.db, env: { DZX_ADMIN_KEY: other } });
      try {
        expect(await whoAmI(again.url, ADMIN)).toEqual({ status: 200, org: "default" });
        expect((await whoAmI(again.url, other)).status).toBe(401);
      } finally {
        await again.stop();
      }
      expect(await cliJson(dzx.db, ["keys", "list", "--org", "default"])).toHaveLength(1);
    } finally {
      await dzx.dispose();
    }
  }, T);

  test("without DZX_ADMIN_KEY the start-up banner on stderr shows a first key and how to create more", async () => {
    const db = await freshDatabase();
    try {
      const proc = Bun.spawn(["bun", MAIN, "start"], { env: { ...process.env, ...db.env, PORT: "0", DZX_HOST: "127.0.0.1", DZX_ADMIN_KEY: "" }, stdout: "pipe", stderr: "pipe" });
      const guard = setTimeout(() => proc.kill(), 30_000);
      let stderr = "";
      const dec = new TextDecoder();
      for await (const chunk of proc.stderr) {
        stderr += dec.decode(chunk);
        if (/keys create[^\n]*\n/.test(stderr)) break;
      }
      proc.kill("SIGTERM");
      const stdout = await new Response(proc.stdout).text();
      await proc.exited;
      clearTimeout(guard);
      expect(stderr).toMatch(/^ {2}KEY=dwz_live_/m);
      expect(stderr).toMatch(/npm run dzx -- keys create --org \S+ --scopes/);
      expect(stdout).not.toContain("keys create");
      // once a key exists, the next start works with it and the banner is gone
      const key = await cliJson(db, ["keys", "create", "--org", "default", "--scopes", "all"]);
      const again = await startDzx({ db, env: { DZX_ADMIN_KEY: "" } });
      expect(await whoAmI(again.url, key.key)).toEqual({ status: 200, org: "default" });
      await again.stop();
      expect(await outputContains(again, "shutting down")).toBe(true);
      expect(again.output()).not.toContain("keys create");
    } finally {
      await db.drop();
    }
  }, T);
});
