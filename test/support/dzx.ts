/**
 * Starts a real dzx process on a free port against a fresh database, and runs
 * its CLI. Tests talk to it over HTTP like any client would.
 */
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { managementClient, rpc } from "./client.ts";
import { freshDatabase, usingPostgres, type TestDatabase } from "./database.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");

/** Rate limits generous enough that ordinary tests never hit them. */
export const UNLIMITED = "burst=100000,perMinute=100000,perHour=1000000";

/** A key made through the CLI. */
export interface TestKey {
  key: string;
  keyId: string;
  orgId: string;
  scopes: string[];
}

/** How to run dzx: from source by default; a compiled binary in a directory of its own (test/cli/binary.test.ts). */
export interface DzxCommand {
  argv: string[];
  cwd?: string;
}
const FROM_SOURCE: DzxCommand = { argv: ["bun", MAIN] };

/** Runs `dzx <args>` against a database; resolves with exit code and output. */
export async function runCli(db: TestDatabase, args: string[], env: Record<string, string> = {}, command = FROM_SOURCE) {
  const proc = Bun.spawn([...command.argv, ...args], { cwd: command.cwd, env: { ...process.env, ...db.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Creates a key with `dzx keys create --json` (through the admin socket of a server holding an embedded database). */
export async function cliKey(db: TestDatabase, org: string, scopes = "all", rate: string | null = UNLIMITED): Promise<TestKey> {
  const r = await runCli(db, ["keys", "create", "--org", org, "--scopes", scopes, "--json", ...(rate ? ["--rate", rate] : [])]);
  if (r.code !== 0) throw new Error(`keys create failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Runs `dzx <args> --json` and parses its stdout, failing loudly otherwise. */
export async function cliJson(db: TestDatabase, args: string[]): Promise<any> {
  const r = await runCli(db, [...args, "--json"]);
  if (r.code !== 0) throw new Error(`dzx ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Calls dwizi.org.get over raw JSON-RPC with a key; returns the HTTP status and org name. */
export async function whoAmI(url: string, key: string) {
  const r = await rpc(url, key, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "dwizi.org.get", arguments: {} } });
  return { status: r.status, org: r.json?.result?.structuredContent?.org?.name as string | undefined };
}

/** A process's stdout and stderr as they arrive: `text()` so far, `done` once both streams end. */
export function collectOutput(proc: { stdout: ReadableStream<Uint8Array>; stderr: ReadableStream<Uint8Array> }) {
  let out = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of stream) out += dec.decode(chunk);
  };
  const done = Promise.all([pump(proc.stdout), pump(proc.stderr)]).then(() => {});
  return { text: () => out, done };
}

/** A running dzx. */
export interface Dzx {
  url: string;
  db: TestDatabase;
  /** The dzx process's id (for /proc/<pid>/status). */
  pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends a signal without waiting for the process to end. */
  signal(sig?: "SIGTERM" | "SIGINT"): void;
  /** The exit code, once the process has exited. */
  exited: Promise<number>;
  stop(): Promise<void>;
  /** Sends `signal` (e.g. SIGKILL, for crash tests) and resolves once the process is gone. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Stops the process and drops its database. */
  dispose(): Promise<void>;
}

/** Starts `dzx start` on a free port; reuses `db` when given (for restart tests). */
export async function startDzx(opts: { db?: TestDatabase; env?: Record<string, string>; command?: DzxCommand } = {}): Promise<Dzx> {
  const db = opts.db ?? (await freshDatabase());
  const command = opts.command ?? FROM_SOURCE;
  const proc = Bun.spawn([...command.argv, "start"], {
    cwd: command.cwd,
    env: { ...process.env, ...db.env, PORT: "0", DZX_HOST: "127.0.0.1", DZX_LOG_LEVEL: "debug", ...opts.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = collectOutput(proc);
  const deadline = Date.now() + 30_000;
  let url = "";
  while (!url) {
    const m = /"msg":"dzx listening","url":"([^"]+)"/.exec(output.text());
    if (m) url = m[1];
    else if (proc.exitCode !== null) throw new Error(`dzx exited (${proc.exitCode}):\n${output.text()}`);
    else if (Date.now() > deadline) throw new Error(`dzx did not start:\n${output.text()}`);
    else await Bun.sleep(20);
  }
  const stop = async () => {
    if (proc.exitCode === null) {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  };
  return {
    url,
    db,
    pid: proc.pid,
    output: output.text,
    signal: (sig = "SIGTERM") => proc.kill(sig),
    exited: proc.exited,
    stop,
    kill: async (signal) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await proc.exited;
    },
    dispose: async () => {
      await stop();
      await db.drop();
    },
  };
}

/** A key to make before start: [org, scopes (default all), rate (default UNLIMITED, null: the server's default)]. */
export type KeySpec = [org: string, scopes?: string, rate?: string | null];

/** A started dzx with keys made before start: `keys` maps a label to its KeySpec. */
export async function startWithKeys<K extends string>(
  keys: Record<K, KeySpec>,
  env: Record<string, string> = {},
): Promise<{ dzx: Dzx; keys: Record<K, TestKey> }> {
  const db = await freshDatabase();
  const made = {} as Record<K, TestKey>;
  for (const [label, [org, scopes, rate]] of Object.entries(keys) as [K, [string, string?, (string | null)?]][]) {
    made[label] = await cliKey(db, org, scopes ?? "all", rate === undefined ? UNLIMITED : rate);
  }
  return { dzx: await startDzx({ db, env }), keys: made };
}

/** startWithKeys plus a management client per key. */
export interface Stack<K extends string> {
  dzx: Dzx;
  keys: Record<K, TestKey>;
  clients: Record<K, Client>;
  /** Closes the clients, then stops the server and drops its database. */
  dispose(): Promise<void>;
}

/** A started dzx with keys (see startWithKeys), each with its own management client connected. */
export async function startWithClients<K extends string>(keys: Record<K, KeySpec>, env: Record<string, string> = {}): Promise<Stack<K>> {
  const { dzx, keys: made } = await startWithKeys(keys, env);
  const labels = Object.keys(made) as K[];
  const connected: Client[] = [];
  const dispose = async () => {
    await Promise.all(connected.map((c) => c.close()));
    await dzx.dispose();
  };
  try {
    for (const label of labels) connected.push(await managementClient(dzx.url, made[label].key));
  } catch (e) {
    await dispose();
    throw e;
  }
  const clients = Object.fromEntries(labels.map((l, i) => [l, connected[i]])) as Record<K, Client>;
  return { dzx, keys: made, clients, dispose };
}

/** The key a first start of an empty database printed in its banner (`KEY=dwz_live_…`), once it has. */
export function bannerKey(output: string): string | undefined {
  return /^ {2}KEY=(dwz_live_[A-Za-z0-9]+)$/m.exec(output)?.[1];
}

/** Polls a running dzx's output until its first-start banner shows the key (it follows the "dzx listening" line). */
export async function waitForBannerKey(output: () => string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const key = bannerKey(output());
    if (key) return key;
    if (Date.now() > deadline) throw new Error(`no first-start key in the output:\n${output()}`);
    await Bun.sleep(20);
  }
}

/**
 * A fresh embedded (PGlite) database even on a PostgreSQL run (its env blanks DATABASE_URL), for
 * what only the embedded database does: the data directory's lock and the admin socket.
 */
export async function embeddedDatabase(): Promise<TestDatabase> {
  if (!usingPostgres) return freshDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), "dzx-test-"));
  return { env: { DZX_DATA_DIR: dataDir, DATABASE_URL: "" }, dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
}

/**
 * A PATH with Node, npm and a shell but no Bun, as on a machine with only Node.js installed
 * (here the global bun sits in /usr/bin beside node, so PATH is a folder of links to just those).
 */
export function nodeOnlyPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "dzx-node-only-"));
  for (const tool of ["node", "npm", "sh"]) {
    const target = Bun.which(tool);
    if (!target) throw new Error(`${tool} is not on PATH`);
    symlinkSync(target, join(dir, tool));
  }
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
