/**
 * `dzx init <dir>` (issue 16.1) writes a starter folder that `dzx dev` serves
 * as written, and never overwrites a file.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { starterFiles } from "../../src/cli/init.ts";
import { devClient, startDev } from "./support.ts";

setDefaultTimeout(60_000);

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");
const run = async (args: string[]) => {
  const p = Bun.spawn(["bun", MAIN, ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
};

test("dzx init writes mcp.json, a tool, a resource, a prompt, context.ts and a README; dzx dev then serves every one of them", async () => {
  const root = mkdtempSync(join(tmpdir(), "dzx-init-"));
  const dir = join(root, "Hello World");
  try {
    const r = await run(["init", dir]);
    expect(r.code).toBe(0);
    for (const f of ["mcp.json", "tools/greet.ts", "resources/getting-started.md", "prompts/summarize.md", "context.ts", "README.md"]) expect(existsSync(join(dir, f))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "mcp.json"), "utf8")).name).toBe("hello-world");
    expect(readFileSync(join(dir, "README.md"), "utf8")).toContain("dzx dev");
    const dev = await startDev(dir);
    try {
      expect(dev.endpoint).toEndWith("/mcp/hello-world");
      const client = await devClient(dev.endpoint, { "x-request-id": "from-header" });
      const called = await client.callTool({ name: "greet", arguments: { name: "Ada" } });
      expect(called.structuredContent).toEqual({ greeting: "Hello, Ada!", requestId: "from-header" });
      expect((await client.listResources()).resources.map((x) => x.uri)).toEqual(["resource://getting-started"]);
      const prompt = await client.getPrompt({ name: "summarize", arguments: { text: "T" } });
      expect((prompt.messages[0].content as { text: string }).text).toContain("T");
      await client.close();
      const status = await (await fetch(`${dev.url}/status`)).json() as any;
      expect(status).toMatchObject({ tools: 1, resources: 1, prompts: 1, broken: 0 });
      expect(dev.output()).toContain("context from context.ts");
    } finally {
      await dev.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("dzx init refuses a folder that already has one of its files, and writes nothing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dzx-init-"));
  try {
    writeFileSync(join(dir, "mcp.json"), '{"name":"mine"}');
    const r = await run(["init", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("already has mcp.json");
    expect(r.stderr).toContain("nothing was written");
    expect(readFileSync(join(dir, "mcp.json"), "utf8")).toBe('{"name":"mine"}');
    expect(existsSync(join(dir, "tools"))).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("dzx dev of a folder without mcp.json says what to do, exit 2, no stack", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dzx-init-"));
  try {
    const r = await run(["dev", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("has no mcp.json");
    expect(r.stderr).toContain("dzx init");
    expect(r.stderr).not.toMatch(/^\s+at\s/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("examples/hello, which README serves with dzx dev, is what dzx init writes, and serves its tool", async () => {
  const example = join(import.meta.dir, "..", "..", "examples", "hello");
  for (const [rel, text] of Object.entries(starterFiles("hello"))) expect(readFileSync(join(example, rel), "utf8")).toBe(text);
  const dev = await startDev(example);
  try {
    expect(dev.endpoint).toEndWith("/mcp/hello");
    const client = await devClient(dev.endpoint);
    expect((await client.callTool({ name: "greet", arguments: { name: "you" } })).structuredContent).toMatchObject({ greeting: "Hello, you!" });
    await client.close();
  } finally {
    await dev.stop();
  }
});
