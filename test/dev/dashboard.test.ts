/**
 * The dev dashboard in a real browser (issue 16.2): headless Chromium renders
 * `GET /` with the server, its tools and schemas, resources, prompts, the recent
 * calls with input, output and console lines, and a broken file with its error.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { postTo } from "../support/client.ts";
import { renderedDom } from "../support/chromium.ts";
import { BASIC, eventually, servedFolder } from "./support.ts";

setDefaultTimeout(60_000);

const served = servedFolder({ ...BASIC, "tools/broken.ts": "export default async () => {\n  return 1 +;\n};\n" });

test("Chromium renders the dashboard: tools with schemas, resources, prompts, a call with its input, output and logs, and the broken file", async () => {
  await postTo(served.dev.endpoint, null, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "add", arguments: { a: 19, b: 23 } } }, { accept: "application/json" });
  await eventually(async () => (((await (await fetch(`${served.dev.url}/status`)).json()) as any).calls === 1 ? true : undefined), "the call recorded");
  const dom = await renderedDom(`${served.dev.url}/`);
  expect(dom).toContain("<title>basic — dzx dev</title>");
  expect(dom).toMatch(/<article class="tool" id="tool-add"><h3>add<\/h3><p>Adds two numbers<\/p>/);
  expect(dom).toContain('<article class="tool" id="tool-user-profile">');
  // the schema (a <details> the user opens) and the resources and prompts
  expect(dom).toContain(`"required": [`);
  expect(dom).toContain("<code>resource://getting-started</code>");
  expect(dom).toContain("<code>summarize</code>");
  // the call's row: tool, status, input, output and its console line
  expect(dom).toMatch(/<tr class="ok"><td>[\d:.]+<\/td><td>add<\/td><td>ok<\/td>/);
  expect(dom).toContain(`"a": 19`);
  expect(dom).toContain(`"sum": 42`);
  expect(dom).toContain("[log] adding 19 23");
  // the broken file, with its line
  expect(dom).toMatch(/<section id="broken"><h2>Broken files \(1\)<\/h2><ul><li class="broken"><code>tools\/broken\.ts:2:\d+<\/code> \(tool\)/);
});
