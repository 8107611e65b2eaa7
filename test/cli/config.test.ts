/**
 * Configuration from the environment: every variable is validated at start, and
 * an invalid value stops `dzx start` with a message naming it (no stack trace);
 * valid values take effect.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { managementClient, op, rest, rpc } from "../support/client.ts";
import { freshDatabase, usingPostgres, type TestDatabase } from "../support/database.ts";
import { startDzx, startWithKeys, type Dzx } from "../support/dzx.ts";
import { freePort } from "../support/port.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");
const STACK = /^\s+at\s/m;
/** Per-test timeout: these tests start real processes. */
const T = 120_000;

/** Runs `dzx start` expecting it to exit; a process still running after 30 s is killed (and reported as exit 0). */
async function start(db: TestDatabase, env: Record<string, string>) {
  const proc = Bun.spawn(["bun", MAIN, "start"], {
    env: { ...process.env, ...db.env, PORT: "0", DZX_HOST: "127.0.0.1", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const guard = setTimeout(() => proc.kill("SIGTERM"), 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(guard);
  return { code, stdout, stderr };
}

/** Tables in the public schema of a PostgreSQL database. */
async function publicTables(url: string): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return (await sql`select table_name from information_schema.tables where table_schema = 'public'`).map((r: any) => r.table_name);
  } finally {
    await sql.end();
  }
}

describe("an invalid value stops start with a message naming the variable", () => {
  let db: TestDatabase;
  const scratch = mkdtempSync(join(tmpdir(), "dzx-config-"));
  const aFile = join(scratch, "not-a-dir");
  writeFileSync(aFile, "x");
  beforeAll(async () => {
    db = await freshDatabase();
  }, T);
  afterAll(async () => {
    await db?.drop();
    rmSync(scratch, { recursive: true, force: true });
  }, T);

  const cases: [Record<string, string>, string][] = [
    [{ PORT: "abc" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ PORT: "-1" }, "PORT"],
    [{ DZX_MANAGEMENT_MCP: "maybe" }, "DZX_MANAGEMENT_MCP"],
    [{ DZX_SECRET_KEY: "short" }, "DZX_SECRET_KEY"],
    [{ DZX_SECRET_KEY: "z".repeat(64) }, "DZX_SECRET_KEY"],
    [{ DZX_ADMIN_KEY: "dwz_live_short" }, "DZX_ADMIN_KEY"],
    [{ DZX_ADMIN_KEY: "sk_live_aaaaaaaaaaaaaaaaaaaaaaaa" }, "DZX_ADMIN_KEY"],
    [{ DZX_MAX_BODY_BYTES: "lots" }, "DZX_MAX_BODY_BYTES"],
    [{ DZX_MAX_BODY_BYTES: "10" }, "DZX_MAX_BODY_BYTES"],
    [{ DZX_PUBLIC_URL: "ftp://example.com" }, "DZX_PUBLIC_URL"],
    [{ DZX_LOG_LEVEL: "loud" }, "DZX_LOG_LEVEL"],
    [{ DZX_WORKER_NICE: "20" }, "DZX_WORKER_NICE"],
    [{ DZX_WORKER_NICE: "-5" }, "DZX_WORKER_NICE"],
    [{ DZX_WORKER_QUEUE: "65" }, "DZX_WORKER_QUEUE"],
    [{ DZX_WORKER_QUEUE: "deep" }, "DZX_WORKER_QUEUE"],
    [{ DATABASE_URL: "mysql://localhost/dzx" }, "DATABASE_URL"],
    [{ REDIS_URL: "http://127.0.0.1:6379" }, "REDIS_URL"],
    [{ REDIS_URL: "redis://" }, "REDIS_URL"],
  ];
  for (const [env, name] of cases) {
    test(`${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ")}`, async () => {
      const r = await start(db, env);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(name);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stdout + r.stderr).not.toContain("dzx listening");
      expect(existsSync(join(db.dataDir, "dzx.lock"))).toBe(false); // nothing left locked
      if (!usingPostgres) expect(existsSync(join(db.dataDir, "secret.key"))).toBe(false);
    }, T);
  }

  test("DZX_HOST that cannot be listened on names DZX_HOST", async () => {
    const r = await start(db, { DZX_HOST: "999.999.1.1" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("DZX_HOST");
    expect(r.stderr).not.toMatch(STACK);
  }, T);

  test("a DZX_DATA_DIR that cannot be created names DZX_DATA_DIR", async () => {
    const r = await start(db, { DZX_DATA_DIR: join(aFile, "data"), DZX_SECRET_KEY: "" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("DZX_DATA_DIR");
    expect(r.stderr).not.toMatch(STACK);
  }, T);

  test("the database still serves after all those refused starts", async () => {
    const dzx = await startDzx({ db });
    try {
      expect((await fetch(`${dzx.url}/ready`)).status).toBe(200);
    } finally {
      await dzx.stop();
    }
  }, T);
});

test("DZX_SECRET_KEY is validated with the rest of the configuration, before the database is touched", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dzx-config-empty-"));
  const db = usingPostgres ? await freshDatabase() : { env: { DZX_DATA_DIR: dir }, dataDir: dir, drop: async () => {} };
  try {
    const bad = await start(db, { DZX_SECRET_KEY: "short" });
    const reference = await start(db, { DZX_MANAGEMENT_MCP: "maybe" }); // a configuration error as loadConfig reports it
    expect(reference.code).not.toBe(0);
    expect(bad.stderr).toContain("DZX_SECRET_KEY");
    const touched = usingPostgres ? (await publicTables(db.env.DATABASE_URL)).length > 0 : readdirSync(dir).length > 0;
    expect({ code: bad.code, unexpected: /unexpected error/i.test(bad.stderr), touched }).toEqual({ code: reference.code, unexpected: false, touched: false });
  } finally {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}, T);

describe("valid values take effect", () => {
  test("PORT: dzx listens on the given port", async () => {
    const port = freePort();
    const dzx = await startDzx({ env: { PORT: String(port) } });
    try {
      expect(dzx.url).toBe(`http://127.0.0.1:${port}`);
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ status: "ok" });
    } finally {
      await dzx.dispose();
    }
  }, T);

  test("DZX_MANAGEMENT_MCP=off ships the management MCP dark (404) while REST stays", async () => {
    const { dzx, keys } = await startWithKeys({ admin: ["acme"] }, { DZX_MANAGEMENT_MCP: "off" });
    try {
      const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "t", version: "1" } } };
      expect((await rpc(dzx.url, keys.admin.key, init)).status).toBe(404);
      expect((await rpc(dzx.url, null, init)).status).toBe(404);
      expect((await fetch(`${dzx.url}/mcp/dwizi`, { headers: { authorization: `Bearer ${keys.admin.key}` } })).status).toBe(404);
      const org = await rest(dzx.url, keys.admin.key, "GET", "/org");
      expect(org.status).toBe(200);
      expect(org.json.org.name).toBe("acme");
      expect((await fetch(`${dzx.url}/health`)).status).toBe(200);
      // on again after a restart
      await dzx.stop();
      const on = await startDzx({ db: dzx.db, env: { DZX_MANAGEMENT_MCP: "on" } });
      try {
        const r = await rpc(on.url, keys.admin.key, init);
        expect(r.status).toBe(200);
        expect(r.json.result.serverInfo).toBeDefined();
      } finally {
        await on.stop();
      }
    } finally {
      await dzx.dispose();
    }
  }, T);

  test("DZX_PUBLIC_URL is used for endpoint links (trailing slash trimmed)", async () => {
    const { dzx, keys } = await startWithKeys({ admin: ["acme"] }, { DZX_PUBLIC_URL: "https://mcp.example.com/" });
    try {
      const c = await managementClient(dzx.url, keys.admin.key);
      const created = await op(c, "dwizi.mcp.create", { server: { name: "Public", slug: "public" } });
      await c.close();
      expect(created.mcpEndpoint).toBe(`https://mcp.example.com/mcp/srv_${created.server.id}`);
      const listed = await rest(dzx.url, keys.admin.key, "GET", "/mcp/servers");
      expect(listed.json.servers[0].mcpEndpoint).toBe(`https://mcp.example.com/mcp/srv_${created.server.id}`);
    } finally {
      await dzx.dispose();
    }
  }, T);

  test("DZX_MAX_BODY_BYTES caps request bodies with 413 on REST and MCP", async () => {
    const { dzx, keys } = await startWithKeys({ admin: ["acme"] }, { DZX_MAX_BODY_BYTES: "2048" });
    try {
      const tool = (description: string) => ({ name: "Big", slug: "big", description, source: "export default async () => 1" });
      const big = await rest(dzx.url, keys.admin.key, "POST", "/tools", tool("x".repeat(4096)));
      expect(big.status).toBe(413);
      expect(big.text).not.toMatch(STACK);
      const bigRpc = await rpc(dzx.url, keys.admin.key, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "dwizi.tools.create", arguments: { tool: tool("y".repeat(4096)) } } });
      expect(bigRpc.status).toBe(413);
      const small = await rest(dzx.url, keys.admin.key, "POST", "/tools", tool("small enough"));
      expect(small.status).toBe(201);
      expect((await rest(dzx.url, keys.admin.key, "GET", "/tools")).json.tools.map((t: any) => t.description)).toEqual(["small enough"]);
    } finally {
      await dzx.dispose();
    }
  }, T);

  test("DZX_LOG_LEVEL=warn drops info and debug lines", async () => {
    const db = await freshDatabase();
    const port = freePort();
    const proc = Bun.spawn(["bun", MAIN, "start"], {
      env: { ...process.env, ...db.env, PORT: String(port), DZX_HOST: "127.0.0.1", DZX_LOG_LEVEL: "warn", DZX_ADMIN_KEY: "" },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      let healthy = false;
      for (let i = 0; i < 300 && !healthy && proc.exitCode === null; i++) {
        healthy = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
        if (!healthy) await Bun.sleep(100);
      }
      expect(healthy).toBe(true);
      await fetch(`http://127.0.0.1:${port}/mcp/dwizi`, { method: "POST", body: "{}" }); // a 401, not worth a log line
    } finally {
      proc.kill("SIGTERM");
    }
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    await proc.exited;
    await db.drop();
    const lines = (stdout + stderr).split("\n").filter((l) => l.startsWith("{"));
    for (const l of lines) expect(["warn", "error"]).toContain(JSON.parse(l).level);
    expect(stdout + stderr).not.toContain("dzx listening");
  }, T);
});

test("GET /ready answers 200 while the database does, 503 once it is gone", async () => {
  const dzx: Dzx = await startDzx();
  try {
    const ready = await fetch(`${dzx.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ database: usingPostgres ? "postgres" : "pglite" });
    if (usingPostgres) {
      await dzx.db.drop(); // terminates the server's connections and removes the database
      const gone = await fetch(`${dzx.url}/ready`);
      expect(gone.status).toBe(503);
      const body = (await gone.json()) as any;
      expect(body.status).not.toBe("ready");
      expect(JSON.stringify(body)).not.toMatch(STACK);
      expect((await fetch(`${dzx.url}/health`)).status).toBe(200); // liveness does not depend on the database
    } else {
      expect((await fetch(`${dzx.url}/health`)).status).toBe(200);
    }
  } finally {
    await dzx.dispose();
  }
}, T);
