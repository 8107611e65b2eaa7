/**
 * Hot reload and broken files in `dzx dev` (issue 16.2): a changed, added or
 * removed file is picked up without a restart and connected clients get the
 * matching list_changed; a broken file is reported with file and line on the
 * console, /status and the dashboard while the rest of the folder keeps serving.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { PromptListChangedNotificationSchema, ResourceListChangedNotificationSchema, ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { BASIC, devClient, devFolder, eventually, startDev, type DevProcess } from "./support.ts";

setDefaultTimeout(60_000);

const folder = devFolder(BASIC);
let dev: DevProcess;
let client: Client;
const seen: string[] = [];
beforeAll(async () => {
  dev = await startDev(folder.dir);
  client = await devClient(dev.endpoint);
  for (const [schema, name] of [
    [ToolListChangedNotificationSchema, "tools"],
    [ResourceListChangedNotificationSchema, "resources"],
    [PromptListChangedNotificationSchema, "prompts"],
    [ResourceUpdatedNotificationSchema, "updated"],
  ] as const) {
    client.setNotificationHandler(schema as typeof ToolListChangedNotificationSchema, (n) => void seen.push(name === "updated" ? `updated ${(n.params as { uri: string }).uri}` : name));
  }
  // the SDK opens the session's GET stream after initialize: wait until the server holds it
  await eventually(async () => ((await (await fetch(`${dev.url}/status`)).json() as any).sessions >= 1 ? true : undefined), "the session");
});
afterAll(async () => {
  await client?.close();
  await dev?.stop();
  folder.dispose();
});

const toolNames = async () => (await client.listTools()).tools.map((t) => t.name).sort();
const status = async () => (await fetch(`${dev.url}/status`)).json() as any;

test("an added tool appears without a restart, and the client is told tools/list_changed", async () => {
  seen.length = 0;
  folder.write("tools/shout.ts", `export const description = "Upper-cases"; export default async ({ text }: { text: string }) => text.toUpperCase();`);
  await eventually(() => (seen.includes("tools") ? true : undefined), "tools/list_changed");
  expect(await toolNames()).toEqual(["add", "shout", "user-profile"]);
  const r = await client.callTool({ name: "shout", arguments: { text: "hi" } });
  expect(r.content).toEqual([{ type: "text", text: "HI" }]);
});

test("an edited tool runs its new code, including a helper file it imports", async () => {
  folder.write("tools/lib/suffix.ts", `export const suffix = "!";`);
  folder.write("tools/shout.ts", `import { suffix } from "./lib/suffix.ts"; export default async ({ text }: { text: string }) => text.toUpperCase() + suffix;`);
  await eventually(async () => {
    const r = await client.callTool({ name: "shout", arguments: { text: "hi" } });
    return (r.content as { text: string }[])[0].text === "HI!" ? true : undefined;
  }, "the edited tool");
  folder.write("tools/lib/suffix.ts", `export const suffix = "?";`);
  await eventually(async () => {
    const r = await client.callTool({ name: "shout", arguments: { text: "hi" } });
    return (r.content as { text: string }[])[0].text === "HI?" ? true : undefined;
  }, "the edited helper");
});

test("a removed tool disappears and the client is told", async () => {
  seen.length = 0;
  folder.remove("tools/shout.ts");
  await eventually(() => (seen.includes("tools") ? true : undefined), "tools/list_changed");
  expect(await toolNames()).toEqual(["add", "user-profile"]);
});

test("resources and prompts: added ones are announced with their own list_changed, an edited subscribed resource with resources/updated", async () => {
  await client.subscribeResource({ uri: "resource://getting-started" });
  seen.length = 0;
  folder.write("resources/faq.txt", "Q? A.");
  await eventually(() => (seen.includes("resources") ? true : undefined), "resources/list_changed");
  expect((await client.listResources()).resources.map((r) => r.uri)).toContain("resource://faq");
  folder.write("prompts/greet.md", "Hello {{name}}");
  await eventually(() => (seen.includes("prompts") ? true : undefined), "prompts/list_changed");
  expect((await client.listPrompts()).prompts.map((p) => p.name)).toContain("greet");
  folder.write("resources/getting-started.md", "# Changed\n");
  await eventually(() => (seen.includes("updated resource://getting-started") ? true : undefined), "resources/updated");
  expect((await client.readResource({ uri: "resource://getting-started" })).contents[0]).toMatchObject({ text: "# Changed\n" });
});

test("broken files (a syntax error, no default export, a schema that is not JSON Schema, bad frontmatter) are reported with file and line; the rest keeps serving", async () => {
  folder.write("tools/syntax.ts", "export default async () => {\n  const x = ;\n};\n");
  folder.write("tools/nodefault.ts", "export const description = 'forgot the handler';\n");
  folder.write("tools/badschema.ts", "export const inputSchema = { type: 'object', properties: { a: { type: 'nonsense' } } };\nexport default async () => 1;\n");
  folder.write("prompts/badmeta.md", "---\ndescription: [unclosed\n---\nbody\n");
  const s = await eventually(async () => {
    const st = await status();
    return st.broken === 4 ? st : undefined;
  }, "four broken files");
  const byFile = Object.fromEntries((s.brokenFiles as { file: string }[]).map((b) => [b.file, b]));
  expect(byFile["tools/syntax.ts"]).toMatchObject({ kind: "tool", line: 2, message: expect.stringContaining("Unexpected") });
  expect(byFile["tools/nodefault.ts"]).toMatchObject({ kind: "tool", message: expect.stringContaining("no default export") });
  expect(byFile["tools/badschema.ts"]).toMatchObject({ kind: "tool", message: expect.stringContaining("not a valid JSON Schema") });
  expect(byFile["prompts/badmeta.md"]).toMatchObject({ kind: "prompt", message: expect.stringContaining("frontmatter") });
  // the console says so with file:line, the dashboard lists them
  await eventually(() => (dev.output().includes("✗ tools/syntax.ts:2:") ? true : undefined), "the console line");
  const html = await (await fetch(`${dev.url}/`)).text();
  expect(html).toContain('id="broken"');
  expect(html).toContain("tools/syntax.ts:2:");
  expect(html).toContain("prompts/badmeta.md");
  // everything else still serves
  expect(await toolNames()).toEqual(["add", "user-profile"]);
  expect((await client.callTool({ name: "add", arguments: { a: 1, b: 2 } })).structuredContent).toEqual({ sum: 3 });
  expect((await client.listPrompts()).prompts.map((p) => p.name).sort()).toEqual(["greet", "summarize"]);
  // fixed, the file serves
  folder.write("tools/syntax.ts", "export default async () => 'fixed';\n");
  await eventually(async () => ((await toolNames()).includes("syntax") ? true : undefined), "the fixed tool");
  expect((await status()).broken).toBe(3);
});

test("a tool whose module hangs at load time is reported, and the others still load", async () => {
  folder.write("tools/hang.ts", "while (true) {}\nexport default async () => 1;\n");
  const s = await eventually(async () => {
    const st = await status();
    return (st.brokenFiles as { file: string }[]).some((b) => b.file === "tools/hang.ts") ? st : undefined;
  }, "the hanging file reported");
  expect((s.brokenFiles as { file: string; message: string }[]).find((b) => b.file === "tools/hang.ts")!.message).toContain("did not finish loading");
  expect(await toolNames()).toContain("add");
  folder.remove("tools/hang.ts");
}, 90_000);
