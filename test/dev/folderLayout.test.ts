/**
 * A dev folder laid out its own way (issue 16.2): mcp.json's `paths`, and tools
 * that import npm packages from the folder's own node_modules (trusted code on
 * the operator's disk runs natively) and helpers from sub-folders.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { devClient, servedFolder } from "./support.ts";

setDefaultTimeout(60_000);

const served = servedFolder({
  "mcp.json": JSON.stringify({ name: "layout", version: "2.0.0", paths: { tools: "src/tools", resources: "assets", prompts: "src/prompts" } }),
  "node_modules/shout-case/package.json": JSON.stringify({ name: "shout-case", version: "1.0.0", type: "module", exports: "./index.js" }),
  "node_modules/shout-case/index.js": "export default function shout(s) { return s.toUpperCase() + '!'; }\n",
  "src/tools/helpers/greeting.ts": "export const greeting = (name: string) => `hello ${name}`;\n",
  "src/tools/hello.ts": `import shout from "shout-case";
import { greeting } from "./helpers/greeting.ts";
export const description = "Greets loudly";
export default async ({ name }: { name: string }) => shout(greeting(name));
`,
  "assets/readme.txt": "from assets/",
  "src/prompts/ask.md": "Ask {{who}}",
  // the default folders are not read when paths name others
  "tools/ignored.ts": "export default async () => 'not served';\n",
});

test("paths in mcp.json choose where tools, resources and prompts live; helpers in sub-folders are not tools", async () => {
  const client = await devClient(served.dev.endpoint);
  try {
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["hello"]);
    expect((await client.listResources()).resources.map((r) => r.uri)).toEqual(["resource://readme"]);
    expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(["ask"]);
  } finally {
    await client.close();
  }
});

test("a tool imports an npm package from the folder's node_modules and a helper file", async () => {
  const client = await devClient(served.dev.endpoint);
  try {
    const r = await client.callTool({ name: "hello", arguments: { name: "ada" } });
    expect(r.isError).toBeFalsy();
    expect(r.content).toEqual([{ type: "text", text: "HELLO ADA!" }]);
  } finally {
    await client.close();
  }
});
