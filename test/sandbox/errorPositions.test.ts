/**
 * Errors with positions in trusted native mode (issue 15.6): a module run from the
 * operator's disk reports its errors as the sandbox does, with line:column in its
 * own TypeScript source and a short stack of frames in its own folder, files named
 * relative to the tool, never by their host path.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
const run = async (name: string, source: string) => {
  const o = await pool.run({ orgId: "dev", codeKey: "v1", code: file(name, source), kind: "module", input: {} });
  expect(o.ok).toBe(false);
  const message = o.error!.message;
  expect(message).not.toContain(dir);
  expect(message).not.toMatch(/node_modules|nativeWorker|\$bunfs|\/work|\?v=/);
  return message;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dzx-positions-"));
  mkdirSync(join(dir, "lib"));
  pool = await SandboxPool.start({ size: 1, memoryBytes: 64 << 20, perOrgQueue: 8, totalQueue: 8, defaults: { timeoutMs: 5000 }, native: { env: {} } });
}, 60_000);
afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a runtime error names its TypeScript line:column and the frames in the tool's folder, by relative name", async () => {
  file("lib/depth.ts", "type Deep = { deep: { x: number } };\nexport function depth(o: Deep): number {\n  return o.deep.x;\n}\n");
  const message = await run("measure.ts", "import { depth } from './lib/depth.ts';\ninterface In { n?: number }\n\nexport default async (input: In) => {\n  return depth({} as never);\n};\n");
  expect(message).toBe(
    "TypeError: undefined is not an object (evaluating 'o.deep.x') (at lib/depth.ts:3:12)\n    at depth (lib/depth.ts:3:12)\n    at default (measure.ts:5:10)",
  );
});

test("a syntax error fails the load at its own line:column", async () => {
  const message = await run("broken.js", "export default async (input) => {\n  let y = 1\n  y z;\n};\n");
  expect(message).toStartWith('The tool failed to load: SyntaxError: Expected ";" but found "z" (at broken.js:3:5)');
});

test("an import that cannot be resolved names the tool's file, not its host path", async () => {
  const message = await run("missing.ts", "import x from './nowhere.ts';\nexport default async () => x;\n");
  expect(message).toBe("The tool failed to load: Cannot find module './nowhere.ts' imported from missing.ts");
});

test("a custom Error subclass and a thrown string read well", async () => {
  const custom = await run("quota.ts", "class QuotaError extends Error {\n  name = 'QuotaError';\n}\nexport default async () => {\n  throw new QuotaError('over the limit');\n};\n");
  expect(custom).toStartWith("QuotaError: over the limit (at quota.ts:5:");
  const thrown = await run("coffee.ts", "export default async () => {\n  throw 'out of coffee';\n};\n");
  expect(thrown).toStartWith('Uncaught "out of coffee"');
});
