/**
 * README's curl walk-through, block by block, as a reader runs it in one shell:
 * only the key and the address are changed. Every curl in it must answer 2xx
 * with a JSON-RPC result that is not an error.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { startWithKeys, type Dzx, type TestKey } from "../support/dzx.ts";
import { readmeBlocks } from "../support/readme.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const SECTION = "The management MCP server: a curl walk-through";
const KEY_PLACEHOLDER = "KEY=dwz_live_...";
const README_ORIGIN = "http://127.0.0.1:3333";
// each curl's answer followed by its status, so one block's several answers can be told apart
const STATUS = "@@status=";
const CURL = `curl() { command curl -w '\\n${STATUS}%{http_code}\\n' "$@"; }\n`;

const blocks = await readmeBlocks(SECTION, "sh");
let dzx: Dzx;
let key: TestKey;
// structuredContent of every answer so far, as JSON text
const answered: string[] = [];

beforeAll(async () => {
  const s = await startWithKeys({ admin: ["default"] });
  dzx = s.dzx;
  key = s.keys.admin;
}, 60_000);
afterAll(() => dzx?.dispose());

/** The README's text with the reader's own key and address in place of its placeholders. */
function localized(block: string) {
  return block.replaceAll(KEY_PLACEHOLDER, `KEY=${key.key}`).replaceAll(README_ORIGIN, dzx.url);
}

/** Runs a block after the variable assignments of the blocks before it, as one terminal session would. */
async function run(index: number) {
  const assignments = blocks
    .slice(0, index)
    .flatMap((b) => b.split("\n").filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l)))
    .join("\n");
  const script = `set -e\n${CURL}${localized(assignments)}\n${localized(blocks[index])}`;
  const proc = Bun.spawn(["bash", "-c", script], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const parts = stdout.split(new RegExp(`\\n${STATUS}(\\d+)\\n`));
  const answers = [];
  for (let i = 1; i < parts.length; i += 2) answers.push({ status: Number(parts[i]), body: parts[i - 1] });
  return { code, stderr, answers };
}

test("the walk-through is there, with the placeholders this test replaces", () => {
  expect(blocks.length).toBeGreaterThanOrEqual(5);
  expect(blocks[0]).toContain(KEY_PLACEHOLDER);
  expect(blocks.join("\n")).toContain(README_ORIGIN);
});

// one test per block, in README order (bun runs a file's tests one after another)
for (const [i, block] of blocks.entries()) {
  const ops = [...block.matchAll(/"name":"(dwizi\.[a-z_.]+)"/g)].map((m) => m[1]);
  test(`block ${i + 1} (${ops.join(", ") || "tools/list"}): each curl answers 2xx with a result that is not an error`, async () => {
    const { code, stderr, answers } = await run(i);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(answers.length).toBe((block.match(/^curl /gm) ?? []).length);
    for (const a of answers) {
      expect(Math.floor(a.status / 100)).toBe(2);
      const msg = JSON.parse(a.body);
      expect(msg.error).toBeUndefined();
      expect(msg.result).toBeDefined();
      expect(msg.result.isError).toBeUndefined();
      answered.push(JSON.stringify(msg.result.structuredContent ?? null));
    }
  });
}

test("the attachment update took effect and the tool was deleted last", () => {
  const all = answered.join("\n");
  expect(all).toContain('"exposedName":"mail__send-email"');
  expect(answered.at(-1)).toContain('"deleted":true');
});
