/**
 * How much an agent must load into its context before its first useful call (issue 17.8):
 * one server with fifty realistic tools (bench/contextTools.ts), created through the
 * management API on a real dzx, served once in TOOLS mode and once in CODE mode.
 *
 *   TOOLS: tools/list.
 *   CODE:  tools/list + one `search` + one `read_api` of the two tools the task needs.
 *
 * Sizes are the JSON-RPC `result` objects as the client receives them (compact JSON,
 * UTF-8 bytes); tokens are estimated as characters / 4. Run: `bun bench/context.ts`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BENCH_TOOLS } from "./contextTools.ts";

const ROOT = join(import.meta.dir, "..");
const MAIN = join(ROOT, "src", "main.ts");
const TASK = "Add a new lead to the CRM, then email them a welcome note";
const QUERY = "create contact send email";
const NEEDED = ["crm_create_contact", "email_send"];
const ACCEPT = "application/json, text/event-stream";

const tmp = mkdtempSync(join(tmpdir(), "dzx-context-"));
// the run is the same everywhere: PGlite in a temp dir, no inherited dzx settings
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("DZX_") && k !== "DATABASE_URL" && k !== "REDIS_URL") env[k] = v;
Object.assign(env, { DZX_DATA_DIR: join(tmp, "data"), DZX_LOG_LEVEL: "warn", DZX_WORKERS: "2" });

let child: ReturnType<typeof Bun.spawn> | undefined;
const cleanUp = () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
};
process.on("exit", cleanUp);
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));

function fail(message: string): never {
  console.error(`bench/context: ${message}`);
  process.exit(1);
}

/** `dzx <args>` against the temp database, failing loudly. */
async function cli(args: string[]): Promise<string> {
  const p = Bun.spawn(["bun", MAIN, ...args], { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) fail(`dzx ${args.join(" ")} exited ${code}: ${err}`);
  return out;
}

function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

/** Starts dzx; resolves with its base URL once /ready answers. */
async function start(): Promise<string> {
  const port = freePort();
  child = Bun.spawn(["bun", MAIN, "start"], { cwd: ROOT, env: { ...env, PORT: String(port), DZX_HOST: "127.0.0.1" }, stdout: "ignore", stderr: "pipe" });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) fail(`dzx exited (${child.exitCode}) during start-up:\n${await new Response(child.stderr as ReadableStream).text()}`);
    if (await fetch(`${base}/ready`).then((r) => r.ok, () => false)) return base;
    await Bun.sleep(100);
  }
  fail("dzx did not become ready within 60 s");
}

/** A REST call under /api/v1 that must succeed. */
async function api(base: string, key: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}/api/v1${path}`, { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) fail(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

/** A JSON-RPC session on a hosted server, keeping the raw text of every answer. */
async function session(endpoint: string, token: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, "content-type": "application/json", accept: ACCEPT };
  let id = 0;
  const send = async (method: string, params?: unknown): Promise<{ result: any; text: string }> => {
    const message = { jsonrpc: "2.0", ...(method.startsWith("notifications/") ? {} : { id: ++id }), method, ...(params ? { params } : {}) };
    const res = await fetch(endpoint, { method: "POST", headers, body: JSON.stringify(message) });
    const raw = await res.text();
    if (method.startsWith("notifications/")) return { result: null, text: "" };
    // an SSE answer carries the response as its last data line
    const text = res.headers.get("content-type")?.includes("text/event-stream") ? raw.split("\n").filter((l) => l.startsWith("data: ")).pop()!.slice(6) : raw;
    const body = JSON.parse(text);
    if (!body.result) fail(`${method} failed: ${text.slice(0, 1000)}`);
    if (method === "initialize") headers["mcp-session-id"] = res.headers.get("mcp-session-id") ?? fail("initialize answered without a session id");
    return { result: body.result, text };
  };
  await send("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "dzx-context-bench", version: "0" } });
  headers["mcp-protocol-version"] = "2025-06-18";
  await send("notifications/initialized");
  return send;
}

/** One loaded answer: what it is; its whole result's bytes, and the bytes of what a client shows the model. */
interface Loaded {
  what: string;
  bytes: number;
  /** tools/list: the whole result; a tool call: its content blocks' text (structuredContent repeats it). */
  shown: number;
}
const loaded = (what: string, result: any, call = false): Loaded => {
  const shown = call ? (result.content as { text?: string }[]).map((c) => c.text ?? "").join("\n") : JSON.stringify(result);
  return { what, bytes: Buffer.byteLength(JSON.stringify(result)), shown: Buffer.byteLength(shown) };
};
const tokens = (bytes: number) => Math.round(bytes / 4);

// keys and limits first: the CLI and dzx must not hold the embedded database at once
const adminKey = JSON.parse(await cli(["keys", "create", "--org", "bench", "--scopes", "all", "--json", "--rate", "burst=100000,perMinute=100000,perHour=1000000"])).key as string;
await cli(["orgs", "limits", "--org", "bench", "--set", JSON.stringify({ caps: { tools: 100, servers: 10 } })]);
const base = await start();

const toolIds: string[] = [];
for (const t of BENCH_TOOLS) toolIds.push((await api(base, adminKey, "POST", "/tools", { ...t, source: "export default async (input) => ({ ok: true, received: Object.keys(input) })" })).tool.id);

const rows: { mode: string; items: Loaded[] }[] = [];
for (const mode of ["TOOLS", "CODE"] as const) {
  const created = await api(base, adminKey, "POST", "/mcp/servers", { name: `Fifty tools ${mode}`, mode, toolIds });
  const send = await session(created.mcpEndpoint, created.bearerToken);
  const list = await send("tools/list");
  if (mode === "TOOLS") {
    if (list.result.tools.length !== BENCH_TOOLS.length) fail(`TOOLS mode listed ${list.result.tools.length} tools`);
    rows.push({ mode, items: [loaded("tools/list", list.result)] });
    continue;
  }
  const readApi = loaded(`read_api ${NEEDED.join(", ")}`, (await send("tools/call", { name: "read_api", arguments: { tools: NEEDED } })).result, true);
  // the search as an agent sends it by default, and with a small limit (the tool offers one)
  for (const limit of [undefined, 10]) {
    const found = await send("tools/call", { name: "search", arguments: { query: QUERY, ...(limit ? { limit } : {}) } });
    const names = (found.result.content[0].text as string).split("\n").filter((l) => !l.startsWith("(")).map((l) => l.split(":")[0]);
    for (const n of NEEDED) if (!names.includes(n)) fail(`search "${QUERY}" (limit ${limit ?? "default"}) did not find ${n}: ${names.join(", ")}`);
    const search = loaded(`search "${QUERY}"${limit ? `, limit ${limit}` : ""} → ${names.length} hits`, found.result, true);
    rows.push({ mode: limit ? `CODE, search limit ${limit}` : "CODE", items: [loaded("tools/list", list.result), search, readApi] });
  }
  // the first useful call works with what was loaded (not counted)
  const code = `await tools.crm_create_contact({ email: "jane@example.com", first_name: "Jane", lifecycle_stage: "lead" }); return await tools.email_send({ to: [{ email: "jane@example.com" }], subject: "Welcome" })`;
  const run = await send("tools/call", { name: "execute", arguments: { code } });
  if (run.result.isError) fail(`execute failed: ${JSON.stringify(run.result)}`);
}

const sum = (items: Loaded[]) => items.reduce((a, b) => ({ what: "total", bytes: a.bytes + b.bytes, shown: a.shown + b.shown }), { what: "total", bytes: 0, shown: 0 });
const n = (x: number) => x.toLocaleString("en-US");
const pct = (part: number, whole: number) => `${((1 - part / whole) * 100).toFixed(1)} %`;
const git = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT }).stdout.toString().trim() || "no git";
console.log(`Context an agent loads before its first useful call: ${BENCH_TOOLS.length} tools; task "${TASK}" (dzx ${git})`);
console.log("result: the JSON-RPC result as received (compact JSON, UTF-8 bytes); shown: what a client passes the model (tools/list whole, a call's content text); tokens ≈ bytes / 4\n");
console.log("| mode | loaded | result bytes | ≈ tokens | shown bytes | ≈ tokens |\n|---|---|--:|--:|--:|--:|");
for (const { mode, items } of rows) {
  for (const it of items) console.log(`| ${mode} | ${it.what} | ${n(it.bytes)} | ${n(tokens(it.bytes))} | ${n(it.shown)} | ${n(tokens(it.shown))} |`);
  const t = sum(items);
  if (items.length > 1) console.log(`| ${mode} | **total** | **${n(t.bytes)}** | **${n(tokens(t.bytes))}** | **${n(t.shown)}** | **${n(tokens(t.shown))}** |`);
}
const tools = sum(rows[0].items);
console.log("\nReduction against TOOLS mode (target ≥ 90 %):");
for (const { mode, items } of rows.slice(1)) {
  const t = sum(items);
  console.log(`- ${mode}: ${pct(t.bytes, tools.bytes)} of result bytes, ${pct(t.shown, tools.shown)} of shown bytes`);
}

// the open MCP session and the child process would keep the loop alive; cleanUp runs on exit
process.exit(0);
