/**
 * Trusted native mode (for `dzx dev`): modules from disk run directly in a worker
 * with a restricted environment, may import packages, and are still bounded by
 * the pool's deadline (the worker is replaced).
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SandboxPool } from "../../src/sandbox/pool.ts";

setDefaultTimeout(60_000);

let pool: SandboxPool;
let dir: string;
const file = (name: string, source: string) => {
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dzx-native-"));
  pool = await SandboxPool.start({ size: 1, memoryBytes: 64 << 20, perOrgQueue: 8, totalQueue: 8, defaults: { timeoutMs: 800 }, native: { env: { ONLY_THIS: "yes" } } });
}, 60_000);
afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

test("runs a TypeScript module from disk with input and context, capturing console", async () => {
  const path = file("add.ts", "export default async (i: { a: number }, ctx: any) => { console.log('hello', i.a); return { sum: i.a + 1, req: ctx.requestId } }");
  const o = await pool.run({ orgId: "dev", codeKey: "v1", code: path, kind: "module", input: { a: 41 }, context: { requestId: "r-1" } });
  expect(o).toMatchObject({ ok: true, output: { sum: 42, req: "r-1" } });
  expect(o.logs).toEqual([{ level: "log", message: "hello 41" }]);
});

test("sees only the environment the pool grants", async () => {
  const path = file("env.ts", "export default async () => ({ env: { ...process.env } })");
  const o = await pool.run({ orgId: "dev", codeKey: "v1", code: path, kind: "module" });
  expect(o.output).toEqual({ env: { ONLY_THIS: "yes" } });
});

test("may import packages (trusted code only)", async () => {
  const path = file("pkg.ts", `import { Type } from "${join(import.meta.dir, "../../node_modules/@sinclair/typebox/build/esm/index.mjs")}"; export default async () => Type.String().type`);
  const o = await pool.run({ orgId: "dev", codeKey: "v1", code: path, kind: "module" });
  expect(o).toMatchObject({ ok: true, output: "string" });
});

test("a runaway module is stopped at the deadline and the worker replaced", async () => {
  const before = pool.replaced;
  const path = file("loop.ts", "export default async () => { while (true) {} }");
  const o = await pool.run({ orgId: "dev", codeKey: "v1", code: path, kind: "module" });
  expect(o.error).toMatchObject({ limit: "timeout" });
  expect(pool.replaced).toBe(before + 1);
  const next = await pool.run({ orgId: "dev", codeKey: "v1", code: file("ok.ts", "export default async () => 'ok'"), kind: "module" });
  expect(next).toMatchObject({ ok: true, output: "ok" });
});

test("an edited file is imported afresh under a new version key", async () => {
  const path = file("v.ts", "export default async () => 1");
  expect((await pool.run({ orgId: "dev", codeKey: "a", code: path, kind: "module" })).output).toBe(1);
  writeFileSync(path, "export default async () => 2");
  expect((await pool.run({ orgId: "dev", codeKey: "b", code: path, kind: "module" })).output).toBe(2);
});

test("a thrown error becomes a failed outcome with its message", async () => {
  const o = await pool.run({ orgId: "dev", codeKey: "v1", code: file("throw.ts", "export default async () => { throw new RangeError('nope') }"), kind: "module" });
  expect(o).toMatchObject({ ok: false, error: { message: expect.stringMatching(/^RangeError: nope \(at throw.ts:1:\d+\)/) } });
});

test("context.elicit and context.sample work in native mode, with the sandbox's request checks", async () => {
  const path = file("ask.ts", `export default async (i: unknown, ctx: any) => {
    const who = await ctx.elicit({ message: "Name?", requestedSchema: { type: "object", properties: { name: { type: "string" } } } });
    let bad = "";
    try { await ctx.sample({ messages: [], maxTokens: 1 }); } catch (e) { bad = (e as Error).message; }
    return { who, bad };
  }`);
  const asked: string[] = [];
  const o = await pool.run({
    orgId: "dev",
    codeKey: "v1",
    code: path,
    kind: "module",
    onAsk: async (method) => (asked.push(method), { action: "accept", content: { name: "Ada" } }),
  });
  expect(o).toMatchObject({ ok: true, output: { who: { action: "accept", content: { name: "Ada" } }, bad: `context.sample: "messages" must be a non-empty array of {role, content}` } });
  expect(asked).toEqual(["elicitation/create"]);
});

test("the mcp.* helpers work natively too, from the same source: only what they build is rich", async () => {
  const path = file("rich.ts", "export default async () => mcp.result({ content: [mcp.text('hi'), mcp.image(new Uint8Array([1, 2, 3]), 'image/png')], structuredContent: { n: 1 } })");
  const o = await pool.run({ orgId: "dev", codeKey: "v1", code: path, kind: "module" });
  expect(o).toMatchObject({ ok: true, rich: true, output: { content: [{ type: "text", text: "hi" }, { type: "image", data: "AQID", mimeType: "image/png" }], structuredContent: { n: 1 } } });
  const plain = await pool.run({ orgId: "dev", codeKey: "v1", code: file("plain.ts", "export default async () => ({ content: [{ type: 'text', text: 'hi' }] })"), kind: "module" });
  expect(plain).toMatchObject({ ok: true, output: { content: [{ type: "text", text: "hi" }] } });
  expect(plain.rich).toBeUndefined();
});
