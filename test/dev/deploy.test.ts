/**
 * `dzx deploy <dir> --server <slug>` (issue 16.3): a dev folder pushed to a running
 * platform through its REST API — bundled tools answering on the hosted server,
 * idempotence, updates and soft deletes that touch only what changed, refusals
 * before any write, the context.ts warning, and platform errors as one line.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { starterFiles } from "../../src/cli/init.ts";
import { rest } from "../support/client.ts";
import { runCli, startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";
import { hostedClient } from "../hosted/support.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const ROOT = join(import.meta.dir, "..", "..");
const STACK = /^\s+at\s/m;
const folders: string[] = [];

/** A helper in tools/lib/ and an npm package (ms, CommonJS) from the repo's node_modules: both must be bundled. */
const DURATION_TOOL = `import ms from "ms";
import { spelled } from "./lib/spell.ts";

export const description = "Reads a duration such as 2h";
export const inputSchema = { type: "object", properties: { text: { type: "string" } }, required: ["text"] };

export default async function duration(args: { text: string }) {
  const n = ms(args.text);
  return { ms: n, spelled: spelled(args.text, n) };
}
`;
const SPELL_HELPER = `export function spelled(text: string, n: number): string {
  return \`\${text} is \${n} ms\`;
}
`;

/** A starter folder (dzx init's files), plus `extra` files; `drop` removes starter files. */
function folder(name: string, extra: Record<string, string> = {}, drop: string[] = []): string {
  const dir = join(mkdtempSync(join(tmpdir(), "dzx-deploy-")), name);
  folders.push(dir);
  const files: Record<string, string> = { ...starterFiles(name), ...extra };
  for (const f of drop) delete files[f];
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  // the folder's npm packages: the repo's own node_modules
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

let dzx: Dzx;
let keys: Record<"run" | "again" | "edit" | "refuse" | "conflict" | "midway" | "context" | "readOnly" | "hello", TestKey>;
const clients: Client[] = [];

beforeAll(async () => {
  ({ dzx, keys } = await startWithKeys({
    run: ["run-org"],
    again: ["again-org"],
    edit: ["edit-org"],
    refuse: ["refuse-org"],
    conflict: ["conflict-org"],
    midway: ["midway-org"],
    context: ["context-org"],
    readOnly: ["read-org", "tools:read,resources:read,prompts:read,mcp:read"],
    hello: ["hello-org"],
  }));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await dzx?.dispose();
  for (const d of folders) rmSync(join(d, ".."), { recursive: true, force: true });
});

/** Runs `dzx deploy <dir> --server <slug> --url <platform>` with the key in DZX_API_KEY. */
function deploy(dir: string, slug: string, key: string, more: string[] = []) {
  return runCli(dzx.db, ["deploy", dir, "--server", slug, "--url", dzx.url, ...more], { DZX_API_KEY: key });
}

/** The same deploy run from another working directory (the bundle must not depend on it). */
async function deployFrom(cwd: string, dir: string, slug: string, key: string) {
  const proc = Bun.spawn(["bun", join(ROOT, "src", "main.ts"), "deploy", dir, "--server", slug, "--url", dzx.url], {
    cwd,
    env: { ...process.env, DZX_API_KEY: key },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** A GET under /api/v1 that must succeed. */
async function get(key: string, path: string): Promise<any> {
  const r = await rest(dzx.url, key, "GET", path);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text}`);
  return r.json;
}

/** What a deploy must leave alone: each asset's version and updatedAt, and the server's. */
async function snapshot(key: string, slug: string) {
  const pick = (xs: any[]) => Object.fromEntries(xs.map((x) => [x.slug, { id: x.id, version: x.version, updatedAt: x.updatedAt }]));
  return {
    tools: pick((await get(key, "/tools")).tools),
    resources: pick((await get(key, "/resources")).resources),
    prompts: pick((await get(key, "/prompts")).prompts),
    server: (await get(key, `/mcp/servers/${slug}`)).server.updatedAt,
  };
}

describe("dzx deploy", () => {
  test("deploys a folder: its tool, bundled with a tools/lib helper and an npm package, answers on the hosted server; resources/read and prompts/get work there", async () => {
    const dir = folder("hello", { "tools/duration.ts": DURATION_TOOL, "tools/lib/spell.ts": SPELL_HELPER });
    const r = await runCli(dzx.db, ["deploy", dir, "--server", "hello", "--url", dzx.url, "--key", keys.run.key]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const line of ['created server "hello"', 'created tool "duration" (tools/duration.ts)', 'created tool "greet" (tools/greet.ts)', 'created resource "getting-started"', 'created prompt "summarize"']) {
      expect(r.stdout).toContain(line);
    }
    const endpoint = /^Endpoint: (\S+)$/m.exec(r.stdout)![1];
    const token = /^Token \(shown once, store it now\): (mcp_\S+)$/m.exec(r.stdout)![1];
    expect(endpoint).toMatch(new RegExp(`^${dzx.url}/mcp/srv_\\w+$`));
    expect(r.stdout).toContain(`"mcp-remote",\n        "${endpoint}",\n        "--header",\n        "Authorization: Bearer \${TOKEN}"`);
    // one module, no imports left: the sandbox cannot load any
    const tool = (await get(keys.run.key, "/tools/duration")).tool;
    expect(tool.language).toBe("js");
    expect(tool.source).not.toMatch(/^\s*import\s/m);

    const client = await hostedClient(endpoint, token);
    clients.push(client);
    const listed = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(listed).toEqual(["duration", "greet"]);
    const called = await client.callTool({ name: "duration", arguments: { text: "2h" } });
    expect(called.isError).toBeFalsy();
    expect(called.structuredContent).toEqual({ ms: 7_200_000, spelled: "2h is 7200000 ms" });
    const greeted = await client.callTool({ name: "greet", arguments: { name: "Ada" } });
    expect((greeted.structuredContent as { greeting: string }).greeting).toBe("Hello, Ada!");

    const read = await client.readResource({ uri: "resource://getting-started" });
    expect((read.contents[0] as { text: string }).text).toBe(readFileSync(join(dir, "resources/getting-started.md"), "utf8"));
    const prompt = await client.getPrompt({ name: "summarize", arguments: { text: "The sky is blue." } });
    expect(prompt.messages[0].role).toBe("user");
    expect((prompt.messages[0].content as { text: string }).text).toBe("Summarize the following text in three sentences:\n\nThe sky is blue.");
  });

  test("a second deploy with no change says No changes and leaves every version and updatedAt as it was", async () => {
    const dir = folder("again", { "tools/duration.ts": DURATION_TOOL, "tools/lib/spell.ts": SPELL_HELPER, "resources/logo.png": "\x89PNG\r\n\x1a\n\x00\x01" });
    const first = await deploy(dir, "again", keys.again.key);
    expect(first.code).toBe(0);
    const before = await snapshot(keys.again.key, "again");
    expect(Object.keys(before.tools).sort()).toEqual(["duration", "greet"]);
    expect(Object.keys(before.resources).sort()).toEqual(["getting-started", "logo"]);

    const second = await deployFrom(join(dir, "tools"), dir, "again", keys.again.key);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^No changes: server "again" .*\(2 tools, 2 resources, 1 prompt\)\.$/m);
    expect(second.stdout).not.toMatch(/^(created|updated|deleted) /m);
    // the token was shown once; now the output says how to issue a new one
    expect(second.stdout).not.toMatch(/mcp_[A-Za-z0-9]{20}/);
    expect(second.stdout).toContain("/regenerate-token");
    expect(await snapshot(keys.again.key, "again")).toEqual(before);
  });

  test("an edited tool updates only that tool; a removed resource file is detached from the server and soft-deleted", async () => {
    const dir = folder("edit", { "tools/duration.ts": DURATION_TOOL, "tools/lib/spell.ts": SPELL_HELPER, "resources/notes.txt": "notes" });
    expect((await deploy(dir, "edit", keys.edit.key)).code).toBe(0);
    const before = await snapshot(keys.edit.key, "edit");

    writeFileSync(join(dir, "tools/greet.ts"), starterFiles("edit")["tools/greet.ts"].replace("Greets someone by name", "Greets someone warmly"));
    rmSync(join(dir, "resources/notes.txt"));
    const r = await deploy(dir, "edit", keys.edit.key);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('updated tool "greet" (tools/greet.ts): description, source');
    expect(r.stdout).toContain('deleted resource "resource://notes"');
    expect(r.stdout.match(/^(created|updated|deleted) (tool|resource|prompt) /gm)).toHaveLength(2);

    const after = await snapshot(keys.edit.key, "edit");
    expect(after.tools.greet.version).toBe(before.tools.greet.version + 1);
    expect((await get(keys.edit.key, "/tools/greet")).tool.description).toBe("Greets someone warmly");
    expect(after.tools.duration).toEqual(before.tools.duration);
    expect(after.prompts).toEqual(before.prompts);
    expect(after.resources["getting-started"]).toEqual(before.resources["getting-started"]);
    expect(after.resources.notes).toBeUndefined();
    expect((await rest(dzx.url, keys.edit.key, "GET", `/resources/${before.resources.notes.id}`)).status).toBe(404);
    const detail = await get(keys.edit.key, "/mcp/servers/edit");
    expect(detail.resources.map((x: { uri: string }) => x.uri)).toEqual(["resource://getting-started"]);
  });

  test("a tool importing node:fs and one using process.env are refused before anything is written, naming each tool and what it needs (exit 2)", async () => {
    const dir = folder("refuse", {
      "tools/reads.ts": `import { readFileSync } from "node:fs";\nexport default async () => readFileSync("/etc/hostname", "utf8");\n`,
      "tools/env.ts": `export default async () => {\n  return { home: process.env.HOME };\n};\n`,
      "prompts/broken.md": "---\ndescription: [never closed\n---\nBody\n",
    });
    const empty = { tools: [], total: 0 };
    expect(await get(keys.refuse.key, "/tools")).toEqual(empty);

    const r = await deploy(dir, "refuse", keys.refuse.key);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("nothing was written");
    expect(r.stderr).toMatch(/tools\/reads\.ts: tool "reads" .*imports "node:fs"/);
    expect(r.stderr).toMatch(/tools\/env\.ts: tool "env" .*uses the global process \(line 2\)/);
    expect(r.stderr).toMatch(/prompts\/broken\.md:2: the frontmatter is not valid YAML/);
    expect(r.stderr).not.toMatch(STACK);
    expect(await get(keys.refuse.key, "/tools")).toEqual(empty);
    expect(await get(keys.refuse.key, "/resources")).toEqual({ resources: [], total: 0 });
    expect(await get(keys.refuse.key, "/prompts")).toEqual({ prompts: [], total: 0 });
    expect((await get(keys.refuse.key, "/mcp/servers")).total).toBe(0);
  });

  test("a slug the org already uses for an asset not on this server is refused before anything is written", async () => {
    const made = await rest(dzx.url, keys.conflict.key, "POST", "/tools", { name: "greet", source: "export default async () => 'mine'" });
    expect(made.status).toBe(201);
    const r = await deploy(folder("conflict"), "conflict", keys.conflict.key);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tools/greet.ts: the org already has a tool with slug "greet" that is not on server "conflict"');
    expect((await get(keys.conflict.key, "/mcp/servers")).total).toBe(0);
    expect((await get(keys.conflict.key, "/resources")).total).toBe(0);
    expect((await get(keys.conflict.key, "/tools")).tools.map((t: { id: string }) => t.id)).toEqual([made.json.tool.id]);
  });

  test("a validation error from the platform mid-way is one line naming the asset; what was created stays on the server, so the next deploy finishes", async () => {
    // dzx dev takes any argument name; the platform's grammar refuses this one
    const bad = "---\narguments:\n  - name: 1st\n---\nAbout {{1st}}\n";
    const dir = folder("midway", { "prompts/about.md": bad }, ["context.ts"]);
    const r = await deploy(dir, "midway", keys.midway.key);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^dzx: creating prompt "about" \(prompts\/about\.md\) failed: 400 VALIDATION_ERROR: /)]);
    expect(r.stdout).toContain('created tool "greet" (tools/greet.ts)');
    const detail = await get(keys.midway.key, "/mcp/servers/midway");
    expect(detail.tools.map((t: { toolSlug: string }) => t.toolSlug)).toEqual(["greet"]);

    writeFileSync(join(dir, "prompts/about.md"), bad.replaceAll("1st", "first"));
    const fixed = await deploy(dir, "midway", keys.midway.key);
    expect(fixed.stderr).toBe("");
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('created prompt "about" (prompts/about.md)');
    expect(fixed.stdout).not.toContain('created tool "greet"');
    expect((await get(keys.midway.key, "/mcp/servers/midway")).prompts.map((p: { slug: string }) => p.slug).sort()).toEqual(["about", "summarize"]);
  });

  test("a folder with context.ts: a warning line says it is not deployed, and the rest is", async () => {
    const dir = folder("context");
    const r = await deploy(dir, "context", keys.context.key);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^warning: context\.ts is not deployed: the platform has no context injection/m);
    expect((await get(keys.context.key, "/tools")).tools.map((t: { slug: string }) => t.slug)).toEqual(["greet"]);
    expect((await get(keys.context.key, "/mcp/servers/context")).prompts.map((p: { slug: string }) => p.slug)).toEqual(["summarize"]);
  });

  test("README's example: examples/hello deployed as server hello answers its greet tool on the platform", async () => {
    const r = await deploy(join(ROOT, "examples", "hello"), "hello", keys.hello.key);
    expect(r.code).toBe(0);
    const token = /\bmcp_[A-Za-z0-9_-]+/.exec(r.stdout)![0];
    const endpoint = /https?:\/\/\S+\/mcp\/srv_[a-z0-9]+/.exec(r.stdout)![0];
    const client = await hostedClient(endpoint, token);
    clients.push(client);
    expect((await client.callTool({ name: "greet", arguments: { name: "platform" } })).structuredContent).toMatchObject({ greeting: "Hello, platform!" });
    expect((await client.readResource({ uri: "resource://getting-started" })).contents[0]).toMatchObject({ mimeType: "text/markdown" });
  });

  test("a bad key: one clear line naming what failed, exit 2, no stack", async () => {
    const dir = folder("badkey", {}, ["context.ts"]);
    const r = await deploy(dir, "badkey", "dwz_live_not-a-real-key");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^dzx: reading server "badkey" failed: 401 UNAUTHORIZED: .*API key/)]);
  });

  test("a key without the write scope: the platform's 403 is one line naming the asset and the scope, exit 2", async () => {
    const dir = folder("scoped", {}, ["context.ts"]);
    const r = await deploy(dir, "scoped", keys.readOnly.key);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^dzx: creating server "scoped" failed: 403 FORBIDDEN_SCOPE: .*mcp:write/)]);
    expect(r.stderr).not.toMatch(STACK);
  });
});
