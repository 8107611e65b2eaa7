/**
 * Starts a real `dzx dev <dir>` process and writes dev folders for the tests.
 */
import { afterAll, beforeAll } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { collectOutput } from "../support/dzx.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");

/** A temp folder holding `files` (path → text); `write` adds or changes one. */
export function devFolder(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), "dzx-dev-"));
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  for (const [rel, text] of Object.entries(files)) write(rel, text);
  return { dir, write, remove: (rel: string) => rmSync(join(dir, rel), { force: true }), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A running `dzx dev`. */
export interface DevProcess {
  /** `http://127.0.0.1:<port>` (empty when it serves on a Unix socket). */
  url: string;
  /** The MCP endpoint URL. */
  endpoint: string;
  output(): string;
  stop(): Promise<number>;
}

/** Starts `dzx dev <dir>`; resolves once it says where it listens. */
export async function startDev(dir: string, env: Record<string, string> = {}): Promise<DevProcess> {
  const proc = Bun.spawn(["bun", MAIN, "dev", dir], {
    env: { ...process.env, PORT: "0", DZX_HOST: "127.0.0.1", DZX_WORKERS: "1", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = collectOutput(proc);
  const deadline = Date.now() + 30_000;
  let line: RegExpExecArray | null = null;
  while (!(line = /dzx dev listening on (\S+)(?: (\S+))?/.exec(output.text()))) {
    if (proc.exitCode !== null) throw new Error(`dzx dev exited (${proc.exitCode}):\n${output.text()}`);
    if (Date.now() > deadline) throw new Error(`dzx dev did not start:\n${output.text()}`);
    await Bun.sleep(20);
  }
  const unix = line[1].startsWith("unix:");
  const endpoint = unix ? line[2] : line[1];
  return {
    url: unix ? "" : new URL(endpoint).origin,
    endpoint,
    output: output.text,
    stop: async () => {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      return proc.exited;
    },
  };
}

/** An SDK v1 client connected to a dev endpoint. */
export async function devClient(endpoint: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: "dzx-dev-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(endpoint), { requestInit: { headers } }));
  return client;
}

/** Polls until `check` returns a value other than undefined (or throws after 20 s). */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** The seed-004 shaped folder most tests start from. */
export const BASIC = {
  "mcp.json": JSON.stringify({ name: "basic", version: "1.2.3", description: "A dev folder for tests" }),
  "tools/add.ts": `export const description = "Adds two numbers";
export const inputSchema = { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] };
export default async function add(args: { a: number; b: number }) {
  console.log("adding", args.a, args.b);
  return { sum: args.a + args.b };
}
`,
  "tools/user-profile.ts": `export const description = "Who is calling";
export default async (args: { userId?: string }, context: any) => ({ userId: context.userId ?? args.userId ?? null, requestId: context.requestId ?? null });
`,
  "resources/getting-started.md": "# Getting started\nHello.\n",
  "resources/logo.png": "\x89PNG\r\n\x1a\n0000",
  "prompts/summarize.md": "---\ndescription: Summarize a text\narguments:\n  - name: text\n    required: true\n  - name: style\n---\nSummarize {{text}} in a {{style}} way.\n",
};

/** A dev folder of `files` served by `dzx dev` for the tests of one file: started before them, stopped and removed after. */
export function servedFolder(files: Record<string, string>) {
  const folder = devFolder(files);
  const served = { folder, dev: undefined as unknown as DevProcess };
  beforeAll(async () => {
    served.dev = await startDev(folder.dir);
  });
  afterAll(async () => {
    await served.dev?.stop();
    folder.dispose();
  });
  return served;
}
