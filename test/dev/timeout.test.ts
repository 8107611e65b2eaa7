/**
 * `dzx dev` bounds its native tools by DZX_TOOL_TIMEOUT_MS (seed 004 "Timeouts"):
 * a tool past it is a tool error, and the folder keeps serving.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { BASIC, devClient, devFolder, startDev } from "./support.ts";

setDefaultTimeout(60_000);

test("a tool past DZX_TOOL_TIMEOUT_MS answers a tool error naming the limit; the next call is served", async () => {
  const folder = devFolder({ ...BASIC, "tools/slow.ts": "export default async () => { await new Promise((r) => setTimeout(r, 20_000)); return 'late'; };\n" });
  const dev = await startDev(folder.dir, { DZX_TOOL_TIMEOUT_MS: "300" });
  try {
    const client = await devClient(dev.endpoint);
    const r = await client.callTool({ name: "slow", arguments: {} });
    expect(r.isError).toBe(true);
    expect((r.content as { text: string }[])[0].text).toBe("Timed out after 300 ms");
    expect((await client.callTool({ name: "add", arguments: { a: 1, b: 1 } })).structuredContent).toEqual({ sum: 2 });
    await client.close();
  } finally {
    await dev.stop();
    folder.dispose();
  }
});
