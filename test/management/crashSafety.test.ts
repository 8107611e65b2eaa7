/**
 * Issue 13, crash safety: dzx is killed with SIGKILL while management writes (REST and
 * MCP dwizi.* calls) are in flight. After a restart on the same database (PGlite: the
 * same data directory, whose lock the dead process still names) every acknowledged
 * write is there with the content it was acknowledged with, and no record is half
 * written (a server without the attachments its create asked for).
 * Run on PostgreSQL with DATABASE_URL=postgres://root@127.0.0.1:5432/test.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { rawCall, rest } from "../support/client.ts";
import { cliKey, runCli, startDzx, type Dzx } from "../support/dzx.ts";
import { freshDatabase, usingPostgres, type TestDatabase } from "../support/database.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const WRITERS = 8;
// enough acknowledged writes that every kind is among them, killed while the rest are in flight
const KILL_AFTER = 120;

/** A write the server acknowledged, and how to check it after the restart. */
interface Acked {
  what: string;
  verify(url: string, key: string): Promise<string | null>;
}

let db: TestDatabase | undefined;
let dzx: Dzx | undefined;
afterAll(async () => {
  await dzx?.kill("SIGKILL");
  await db?.drop();
});

/** A REST answer's JSON when 2xx, else null. */
async function restOk(url: string, key: string, method: string, path: string, body?: unknown) {
  const r = await rest(url, key, method, path, body).catch(() => null);
  return r && r.status >= 200 && r.status < 300 ? r.json : null;
}
/** An MCP dwizi.* call's structuredContent when it succeeded, else null. */
async function mcpOk(url: string, key: string, name: string, args: Record<string, unknown>) {
  const r = await rawCall(url, key, name, args).catch(() => null);
  return r?.status === 200 && r.json?.result && !r.json.result.isError ? r.json.result.structuredContent : null;
}
// jsonb keeps its own key order: compare values, not their text
const mismatch = (what: string, got: unknown, want: unknown) => (Bun.deepEquals(got, want) ? null : `${what}: got ${JSON.stringify(got)}, acknowledged ${JSON.stringify(want)}`);

/**
 * The i-th write of writer w: one of each kind in turn, alternating REST and MCP.
 * `tools` holds the slugs of this writer's acknowledged tools (servers attach them).
 */
async function write(url: string, key: string, w: number, i: number, tools: string[], updated: Set<string>): Promise<Acked | null> {
  const n = `w${w}n${i}`;
  const viaRest = i % 2 === 0;
  switch (Math.floor(i / 2) % 6) {
    case 0: {
      const tool = { name: `Tool ${n}`, slug: `t-${n}`, description: `d-${n}`, source: `export default async () => "${n}"` };
      const ok = viaRest ? await restOk(url, key, "POST", "/tools", tool) : await mcpOk(url, key, "dwizi.tools.create", { tool });
      if (!ok) return null;
      tools.push(tool.slug);
      return { what: `tool ${tool.slug}`, verify: async (u, k) => {
        const got = (await restOk(u, k, "GET", `/tools/${tool.slug}`))?.tool;
        // the description may since have been updated (checked by that update's own entry)
        return got ? mismatch(`tool ${tool.slug}`, [got.name, got.source], [tool.name, tool.source]) : `tool ${tool.slug} is missing`;
      } };
    }
    case 1: {
      const slug = tools.find((t) => !updated.has(t));
      if (!slug) return null;
      updated.add(slug);
      const patch = { description: `updated-${n}` };
      const ok = viaRest ? await restOk(url, key, "PATCH", `/tools/${slug}`, patch) : await mcpOk(url, key, "dwizi.tools.update", { slug, patch });
      if (!ok) return null;
      // each tool is updated once, by its own writer: nothing later may overwrite the acknowledged value
      return { what: `update of ${slug}`, verify: async (u, k) => mismatch(`tool ${slug} description`, (await restOk(u, k, "GET", `/tools/${slug}`))?.tool?.description, patch.description) };
    }
    case 2: {
      const prompt = { name: `Prompt ${n}`, slug: `p-${n}`, messages: [{ role: "user", content: `Hello {{who}} from ${n}` }], arguments: [{ name: "who", required: true }] };
      const ok = viaRest ? await restOk(url, key, "POST", "/prompts", prompt) : await mcpOk(url, key, "dwizi.prompts.create", { prompt });
      if (!ok) return null;
      return { what: `prompt ${prompt.slug}`, verify: async (u, k) => {
        const got = (await restOk(u, k, "GET", `/prompts/${prompt.slug}`))?.prompt;
        return got ? mismatch(`prompt ${prompt.slug}`, got.messages, prompt.messages) : `prompt ${prompt.slug} is missing`;
      } };
    }
    case 3: {
      const resource = { uri: `resource://${n}`, name: `r-${n}`, slug: `r-${n}`, mimeType: "text/plain", text: `text of ${n}` };
      const ok = viaRest ? await restOk(url, key, "POST", "/resources", resource) : await mcpOk(url, key, "dwizi.resources.create", { resource });
      if (!ok) return null;
      return { what: `resource ${resource.slug}`, verify: async (u, k) => {
        const got = (await restOk(u, k, "GET", `/resources/${resource.slug}`))?.resource;
        return got ? mismatch(`resource ${resource.slug}`, [got.uri, got.text], [resource.uri, resource.text]) : `resource ${resource.slug} is missing`;
      } };
    }
    case 4: {
      const partial = { name: `Partial ${n}`, slug: `pa-${n}`, values: { region: n, nested: { list: [1, 2, n] } }, enforced: ["region"] };
      const secret = { name: `S_${n.toUpperCase()}`, value: `secret-${n}` };
      const ok = viaRest
        ? await restOk(url, key, "POST", "/partials", partial)
        : (await mcpOk(url, key, "dwizi.partials.create", { partial })) && (await mcpOk(url, key, "dwizi.secrets.set", secret));
      if (!ok) return null;
      return { what: `partial ${partial.slug}${viaRest ? "" : ` and secret ${secret.name}`}`, verify: async (u, k) => {
        const got = (await restOk(u, k, "GET", `/partials/${partial.slug}`))?.partial;
        if (!got) return `partial ${partial.slug} is missing`;
        const bad = mismatch(`partial ${partial.slug}`, [got.values, got.enforced], [partial.values, partial.enforced]);
        if (bad || viaRest) return bad;
        const secrets: any[] = (await restOk(u, k, "GET", "/secrets"))?.secrets ?? [];
        return secrets.some((s) => s.name === secret.name) ? null : `secret ${secret.name} is missing`;
      } };
    }
    default: {
      const toolIds = tools.slice(-2);
      // the description names the tools, so a server found after the crash can be checked whole
      const server = { name: `Server ${n}`, slug: `s-${n}`, description: JSON.stringify(toolIds), toolIds };
      const ok = viaRest ? await restOk(url, key, "POST", "/mcp/servers", server) : await mcpOk(url, key, "dwizi.mcp.create", { server });
      if (!ok) return null;
      return { what: `server ${server.slug} with ${toolIds.length} tools`, verify: async (u, k) => {
        if (!(await restOk(u, k, "GET", `/mcp/servers/${server.slug}`))) return `server ${server.slug} is missing`;
        const attached: any[] = (await restOk(u, k, "GET", `/mcp/servers/${server.slug}/tools`))?.tools ?? [];
        return mismatch(`server ${server.slug} attachments`, attached.map((a) => a.slug ?? a.toolSlug ?? a.tool?.slug).sort(), [...toolIds].sort());
      } };
    }
  }
}

test(`writes acknowledged before a SIGKILL survive it, whole (${usingPostgres ? "PostgreSQL" : "PGlite"})`, async () => {
  db = await freshDatabase();
  const { key } = await cliKey(db, "crash"); // UNLIMITED rate
  const big = { tools: 10_000, prompts: 10_000, resources: 10_000, servers: 10_000, partials: 10_000 };
  expect((await runCli(db, ["orgs", "limits", "--org", "crash", "--set", JSON.stringify({ caps: big })])).code).toBe(0);
  dzx = await startDzx({ db, env: { DZX_LOG_LEVEL: "info" } });
  const url = dzx.url;
  const pid = dzx.pid;

  const acked: Acked[] = [];
  let killed = false;
  let killing: Promise<void> | undefined;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const tools: string[] = [];
      const updated = new Set<string>();
      for (let i = 0; !killed; i++) {
        const a = await write(url, key, w, i, tools, updated);
        if (a && !killed) acked.push(a);
        // kill without waiting for the other writers' requests in flight
        if (acked.length >= KILL_AFTER && !killing) killing = dzx!.kill("SIGKILL").then(() => void (killed = true));
        if (killing) break;
      }
    }),
  );
  await killing;
  const kinds = new Set(acked.map((a) => a.what.split(" ")[0]));
  expect([...kinds].sort()).toEqual(["partial", "prompt", "resource", "server", "tool", "update"]);
  expect(acked.some((a) => /^server .* with [12] tools$/.test(a.what))).toBe(true);

  // PGlite: the dead process's lock is still on disk, naming a pid that is gone
  if (!usingPostgres) expect(readFileSync(join(db.dataDir, "dzx.lock"), "utf8").trim()).toBe(String(pid));
  dzx = await startDzx({ db, env: { DZX_LOG_LEVEL: "info" } });
  if (!usingPostgres) expect(readFileSync(join(db.dataDir, "dzx.lock"), "utf8").trim()).toBe(String(dzx.pid));

  const problems = (await Promise.all(acked.map((a) => a.verify(dzx!.url, key).catch((e) => `${a.what}: ${(e as Error).message}`)))).filter(Boolean);
  // nothing half written, acknowledged or not: every server has all the tools its create named
  const servers: any[] = (await restOk(dzx.url, key, "GET", "/mcp/servers?limit=500"))?.servers ?? [];
  for (const s of servers) {
    const attached: any[] = (await restOk(dzx.url, key, "GET", `/mcp/servers/${s.slug}/tools`))?.tools ?? [];
    const bad = mismatch(`server ${s.slug} (acknowledged or not) attachments`, attached.map((a) => a.slug ?? a.toolSlug ?? a.tool?.slug).sort(), JSON.parse(s.description).sort());
    if (bad) problems.push(bad);
  }
  expect({ acked: acked.length, problems }).toEqual({ acked: acked.length, problems: [] });
  expect(existsSync(db.dataDir)).toBe(true);
}, 180_000);
