/**
 * Issue 15.2, the operator CLI while a server runs: on the embedded database (PGlite, one process
 * only) `dzx keys|orgs …` go through the server's admin socket (DZX_DATA_DIR/dzx.sock, mode 0600,
 * never on TCP) and print what they print on the database directly; once the server stops, the
 * CLI opens the database itself again. On PostgreSQL the CLI opens the database directly.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, lstatSync } from "node:fs";
import { join } from "node:path";
import { freshDatabase, type TestDatabase } from "../support/database.ts";
import { cliJson, embeddedDatabase, runCli, startDzx, waitForBannerKey, whoAmI, type Dzx } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const T = 120_000;
const STACK = /^\s+at\s/m;

/** How many commands the server says it ran for the CLI. */
const socketCommands = (dzx: Dzx) => dzx.output().split('"msg":"operator command"').length - 1;

/** Commands that fail without changing anything, with what the CLI prints for them. */
const FAILING: string[][] = [
  ["keys", "list", "--org", "ghost"],
  ["keys", "list", "--org", "ghost", "--json"],
  ["orgs", "limits", "--org", "ghost"],
  ["orgs", "limits", "--org", "acme", "--set", "not json"],
  ["orgs", "limits", "--org", "acme", "--set", '{"caps":{"tools":-5}}'],
  ["keys", "create", "--org", "acme", "--scopes", "tools:read,bogus:scope"],
  ["keys", "create", "--org", "--scopes", "all"],
  ["keys", "revoke", "--org", "acme"],
  ["keys", "revoke", "no-such-key", "--org", "acme"],
  ["keys", "frob"],
  ["orgs"],
];

/** Commands that only read, for comparing their output both ways. */
const READING: string[][] = [
  ["orgs", "list"],
  ["orgs", "list", "--json"],
  ["keys", "list", "--org", "beta"],
  ["keys", "list", "--org", "beta", "--json"],
  ["orgs", "limits", "--org", "acme"],
];

async function outcomes(db: TestDatabase, commands: string[][]) {
  const out = [];
  for (const args of commands) {
    const r = await runCli(db, args);
    out.push({ args: args.join(" "), code: r.code, stdout: r.stdout, stderr: r.stderr });
  }
  return out;
}

describe("while a server holds the embedded database", () => {
  let db: TestDatabase;
  let dzx: Dzx;
  let acme: { key: string; keyId: string; orgId: string; scopes: string[] };
  let whileRunning: { failing: Awaited<ReturnType<typeof outcomes>>; reading: Awaited<ReturnType<typeof outcomes>> };
  beforeAll(async () => {
    db = await embeddedDatabase();
    dzx = await startDzx({ db, env: { DZX_ADMIN_KEY: "" } });
    await waitForBannerKey(dzx.output);
  }, T);
  afterAll(async () => {
    await dzx?.stop();
    await db?.drop();
  }, T);

  test("`dzx keys create --org acme --scopes all --json` works through the admin socket; the key works on the running server at once", async () => {
    const before = socketCommands(dzx);
    const r = await runCli(db, ["keys", "create", "--org", "acme", "--scopes", "all", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    acme = JSON.parse(r.stdout);
    expect(Object.keys(acme).sort()).toEqual(["key", "keyId", "orgId", "scopes"]);
    expect(acme.key).toMatch(/^dwz_live_[A-Za-z0-9]{16,}$/);
    expect(socketCommands(dzx)).toBe(before + 1);
    expect(await whoAmI(dzx.url, acme.key)).toEqual({ status: 200, org: "acme" });
    expect(dzx.output()).not.toContain(acme.key);
  }, T);

  test("orgs create, orgs list, orgs limits and keys list work through it", async () => {
    expect((await runCli(db, ["orgs", "create", "beta"])).stdout).toMatch(/^Created: beta/);
    expect((await runCli(db, ["orgs", "create", "beta"])).stdout).toMatch(/^Exists: beta/);
    expect((await cliJson(db, ["orgs", "list"])).map((o: any) => o.name)).toEqual(["default", "acme", "beta"]);
    const set = await runCli(db, ["orgs", "limits", "--org", "acme", "--set", '{"caps":{"tools":1}}']);
    expect(set.code).toBe(0);
    expect(JSON.parse((await runCli(db, ["orgs", "limits", "--org", "acme"])).stdout)).toEqual({ caps: { tools: 1 } });
    await cliJson(db, ["keys", "create", "--org", "beta", "--scopes", "org:read", "--name", "reader"]);
    const list = await cliJson(db, ["keys", "list", "--org", "acme"]);
    expect(list.map((k: any) => k.keyId)).toEqual([acme.keyId]);
    expect(JSON.stringify(list)).not.toContain(acme.key);
    const human = await runCli(db, ["keys", "list", "--org", "acme"]);
    expect(human.stdout).toContain(`${acme.keyId}  dwz_live_`);
    expect(human.stdout).toContain("active");
  }, T);

  test("keys revoke works through it, and the revoked key gets 401 on the next request", async () => {
    const victim = await cliJson(db, ["keys", "create", "--org", "acme", "--scopes", "org:read"]);
    expect(await whoAmI(dzx.url, victim.key)).toEqual({ status: 200, org: "acme" });
    const r = await runCli(db, ["keys", "revoke", victim.keyId, "--org", "acme"]);
    expect({ code: r.code, stdout: r.stdout.trim() }).toEqual({ code: 0, stdout: `Revoked ${victim.keyId}` });
    expect((await whoAmI(dzx.url, victim.key)).status).toBe(401);
    expect(await whoAmI(dzx.url, acme.key)).toEqual({ status: 200, org: "acme" });
  }, T);

  test("bad input through it fails with a CliError's text, exit code 2, no stack and no side effect", async () => {
    const before = socketCommands(dzx);
    whileRunning = { failing: await outcomes(db, FAILING), reading: await outcomes(db, READING) };
    expect(socketCommands(dzx)).toBe(before + FAILING.length + READING.length);
    for (const o of whileRunning.failing) {
      expect({ args: o.args, code: o.code, stdout: o.stdout }).toEqual({ args: o.args, code: 2, stdout: "" });
      expect(o.stderr).toMatch(/^dzx: /);
      expect(o.stderr).not.toMatch(STACK);
      expect(o.stderr).not.toMatch(/unexpected error|in use by another/);
    }
    expect(whileRunning.failing.find((o) => o.args === "keys list --org ghost")!.stderr).toBe('dzx: No org named "ghost"\n');
    expect(JSON.parse((await runCli(db, ["orgs", "limits", "--org", "acme"])).stdout)).toEqual({ caps: { tools: 1 } });
  }, T);

  test("the socket is a Unix socket of mode 0600 in the data directory, and the command path is not on TCP", async () => {
    const path = join(db.dataDir, "dzx.sock");
    const st = lstatSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    const body = JSON.stringify({ command: "orgs", sub: "create", args: ["over-tcp"] });
    for (const target of ["/v1/command", "/api/v1/command"]) {
      const r = await fetch(`${dzx.url}${target}`, { method: "POST", headers: { "content-type": "application/json" }, body });
      expect(r.status).not.toBe(200);
    }
    // over the socket the same request is answered
    const viaSocket = await fetch("http://localhost/v1/command", { unix: path, method: "POST", body: JSON.stringify({ command: "orgs", sub: "list", args: ["--json"] }) });
    expect(viaSocket.status).toBe(200);
    const names = JSON.parse(((await viaSocket.json()) as { output: string }).output).map((o: any) => o.name);
    expect(names).not.toContain("over-tcp");
  }, T);

  test("`dzx migrate` still refuses while the server holds the database", async () => {
    const r = await runCli(db, ["migrate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/in use by another dzx process/);
  }, T);

  test("after the server stops, the socket is gone and the CLI opens the database itself, with the same output and errors", async () => {
    await dzx.stop();
    expect(existsSync(join(db.dataDir, "dzx.sock"))).toBe(false);
    expect(existsSync(join(db.dataDir, "dzx.lock"))).toBe(false);
    const direct = { failing: await outcomes(db, FAILING), reading: await outcomes(db, READING) };
    expect(direct).toEqual(whileRunning);
    expect((await cliJson(db, ["orgs", "list"])).map((o: any) => o.name)).toEqual(["default", "acme", "beta"]);
    // the direct path leaves no lock behind
    expect(existsSync(join(db.dataDir, "dzx.lock"))).toBe(false);
  }, T);

  test("a socket left by a killed server does not stop the CLI, and the next start replaces it", async () => {
    dzx = await startDzx({ db, env: { DZX_ADMIN_KEY: "" } });
    await dzx.kill("SIGKILL");
    expect(existsSync(join(db.dataDir, "dzx.sock"))).toBe(true);
    expect((await cliJson(db, ["orgs", "list"])).map((o: any) => o.name)).toEqual(["default", "acme", "beta"]);
    dzx = await startDzx({ db, env: { DZX_ADMIN_KEY: "" } });
    const before = socketCommands(dzx);
    const made = await cliJson(db, ["keys", "create", "--org", "acme", "--scopes", "org:read"]);
    expect(socketCommands(dzx)).toBe(before + 1);
    expect(await whoAmI(dzx.url, made.key)).toEqual({ status: 200, org: "acme" });
  }, T);
});

test("on PostgreSQL the server opens no socket and the CLI works on the database alongside it", async () => {
  const db = await freshDatabase({ postgres: true });
  const dzx = await startDzx({ db, env: { DZX_ADMIN_KEY: "" } });
  try {
    await waitForBannerKey(dzx.output);
    expect(existsSync(join(db.dataDir, "dzx.sock"))).toBe(false);
    const made = await cliJson(db, ["keys", "create", "--org", "acme", "--scopes", "org:read"]);
    expect(await whoAmI(dzx.url, made.key)).toEqual({ status: 200, org: "acme" });
    expect(dzx.output()).not.toContain('"msg":"operator command"');
    const r = await runCli(db, ["keys", "list", "--org", "ghost"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: 'dzx: No org named "ghost"\n' });
  } finally {
    await dzx.dispose();
  }
}, T);
