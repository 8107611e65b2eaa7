/**
 * Errors with positions (issue 15.6): a tool's runtime or syntax error names the
 * line:column of the author's own source (a TypeScript tool's TypeScript lines) and
 * a short stack of the tool's own frames, never a host path or a prelude frame; a
 * CODE-mode script's errors speak of "the script" and of its own lines, and a tool
 * it calls keeps the tool's position. The same text reaches the client, the
 * call log and dwizi.tools.test.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { op, opError } from "../support/client.ts";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { createServer, hostedClient } from "./support.ts";

setDefaultTimeout(60_000);

let stack: Stack<"admin">;
let admin: Client;
let tools: Client;
let code: Client;

const text = (r: any) => (r.content as { type: string; text: string }[]).map((c) => c.text).join("\n");

/** Nothing of the host or of the sandbox's own code shows in an error. */
function expectNoHostTrace(message: string) {
  expect(message).not.toMatch(/\/work|\/tmp|node_modules|\$bunfs|prelude|guards\.js|entry\.js|net\.js|timers\.js|mcp\.js|tools\.js|native/);
}

const DEREF_JS = `// reads a field of what it is given
function inner(o) {
  return o.field;
}
export default async (input) => {
  return inner(input.value ?? null);
};`;

const DEREF_TS = `interface Payload {
  value?: { field: string } | null;
}
type Answer = string;

function inner(o: any): Answer {
  return o.field;
}
export default async (input: Payload): Promise<Answer> => {
  return inner(input.value ?? null);
};`;

// an enum needs code, not just stripped types: positions come back through a source map
const LEVELS_TS = `enum Level { Low, High }
interface In { level?: Level }

function pick(o: any): Level {
  return o.level;
}
export default async (input: In) => pick(null);`;

const QUOTA_JS = `class QuotaError extends Error {
  constructor(message) {
    super(message);
    this.name = "QuotaError";
  }
}
export default async () => {
  throw new QuotaError("over the limit");
};`;

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] }, { DZX_WORKERS: "2" });
  admin = stack.clients.admin;
  const create = (slug: string, source: string, language = "js") =>
    op(admin, "dwizi.tools.create", { tool: { name: slug, slug, description: `the ${slug} tool`, language, source } });
  await create("deref", DEREF_JS);
  await create("deref_ts", DEREF_TS, "ts");
  await create("levels", LEVELS_TS, "ts");
  await create("quota", QUOTA_JS);
  await create("coffee", `export default async () => {\n  throw "out of coffee";\n};`);
  const toolsServer = await createServer(admin, { name: "Faulty", toolIds: ["deref", "deref_ts", "levels", "quota", "coffee"] });
  const codeServer = await createServer(admin, { name: "Scripted", mode: "CODE", toolIds: ["deref", "deref_ts"] });
  tools = await hostedClient(toolsServer.endpoint, toolsServer.token);
  code = await hostedClient(codeServer.endpoint, codeServer.token);
}, 60_000);
afterAll(async () => {
  await tools?.close();
  await code?.close();
  await stack?.dispose();
});

describe("a tool's runtime error", () => {
  test("a JS TypeError names its line:column and the tool's own frames", async () => {
    const r = await tools.callTool({ name: "deref", arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe("TypeError: cannot read property 'field' of null (at tool.js:3:11)\n    at inner (tool.js:3:11)\n    at default (tool.js:6:15)");
  });

  test("a TypeScript tool's position is in its TypeScript source, below its types", async () => {
    const r = await tools.callTool({ name: "deref_ts", arguments: {} });
    expect(text(r)).toBe("TypeError: cannot read property 'field' of null (at tool.ts:7:11)\n    at inner (tool.ts:7:11)\n    at default (tool.ts:10:15)");
  });

  test("a TypeScript tool with an enum (compiled, not just stripped) maps back to its source", async () => {
    const r = await tools.callTool({ name: "levels", arguments: {} });
    expect(text(r)).toStartWith("TypeError: cannot read property 'level' of null (at tool.ts:5:11)\n    at pick (tool.ts:5:11)");
    expectNoHostTrace(text(r));
  });

  test("a custom Error subclass reads as its name and message, at the throw", async () => {
    const r = await tools.callTool({ name: "quota", arguments: {} });
    expect(text(r)).toBe("QuotaError: over the limit (at tool.js:8:23)\n    at default (tool.js:8:23)");
  });

  test("a thrown string reads as itself and says how to get a position", async () => {
    const r = await tools.callTool({ name: "coffee", arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toStartWith('Uncaught "out of coffee"');
    expect(text(r)).toContain("throw new Error");
  });

  test("dwizi.tools.test and the call log carry the same positioned text", async () => {
    const t = await op(admin, "dwizi.tools.test", { slug: "deref_ts", input: {} });
    expect(t.isError).toBe(true);
    expect(t.error.message).toContain("(at tool.ts:7:11)");
    expect(text(t)).toContain("at default (tool.ts:10:15)");
    let calls: any[] = [];
    for (let i = 0; i < 100 && !calls.some((c) => c.toolName === "deref" && c.error); i++) {
      calls = (await op(admin, "dwizi.calls.list", { limit: 100 })).calls;
      await Bun.sleep(50);
    }
    const logged = calls.find((c) => c.toolName === "deref" && c.error);
    expect(logged.error).toContain("TypeError: cannot read property 'field' of null (at tool.js:3:11)");
    expect(logged.error).toContain("at inner (tool.js:3:11)");
    for (const c of calls) if (c.error) expectNoHostTrace(c.error);
  });

  test("no error text shows a host path or the sandbox's own frames", async () => {
    for (const name of ["deref", "deref_ts", "levels", "quota", "coffee"]) expectNoHostTrace(text(await tools.callTool({ name, arguments: {} })));
  });
});

describe("a tool's syntax error", () => {
  test("at create, a JS and a TS tool name the line and column of their own source", async () => {
    const js = await opError(admin, "dwizi.tools.create", { tool: { name: "broken_js", source: "export default async (input) => {\n  const a = 1\n  a b;\n};" } });
    expect(js.message).toContain("line 3, column 5");
    const ts = await opError(admin, "dwizi.tools.create", {
      tool: { name: "broken_ts", language: "ts", source: "interface In { a: number }\ntype Out = number;\n\nexport default async (input: In): Promise<Out> => {\n  const a: number = 1\n  a b;\n};" },
    });
    expect(ts.message).toContain("line 6, column 5");
  });

  test("one only the sandbox sees (a bad regular expression) names its TypeScript position at create and at update", async () => {
    const source = "interface In { s: string }\ntype Out = boolean;\n\nexport default async (input: In): Promise<Out> => {\n  return /a{2,1}/.test(input.s);\n};";
    const created = await opError(admin, "dwizi.tools.create", { tool: { name: "regex", language: "ts", source } });
    expect(created.message).toContain("The tool failed to load: SyntaxError: invalid repetition count (at tool.ts:5:10)");
    expectNoHostTrace(created.message);
    const updated = await opError(admin, "dwizi.tools.update", { slug: "deref", patch: { source: "export default async (input) =>\n  /a{2,1}/.test(input.s);" } });
    expect(updated.message).toContain("SyntaxError: invalid repetition count (at tool.js:2:3)");
  });
});

describe("a CODE-mode script's error", () => {
  const execute = (script: string) => code.callTool({ name: "execute", arguments: { code: script } });

  test("a syntax error says the script failed to load, at the script's own line:column", async () => {
    const r = await execute("const a = 1;\nlet b = 2\nb c;");
    expect(r.isError).toBe(true);
    expect(text(r)).toStartWith("The script failed to load: SyntaxError: expecting ';' (at script.js:3:3)");
    expect(text(r)).not.toMatch(/tool/i);
  });

  test("a runtime error names the script's line, not the wrapper's", async () => {
    const r = await execute("const list = [1, 2];\nconst item = null;\nreturn item.name;");
    expect(text(r)).toStartWith("TypeError: cannot read property 'name' of null (at script.js:3:12)");
    expect(text(r)).not.toMatch(/tool/i);
    expectNoHostTrace(text(r));
  });

  test("an error inside a tool the script calls keeps the tool's own position", async () => {
    const r = await execute("const n = 1;\nreturn await tools.deref_ts({});");
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("tools.deref_ts failed: TypeError: cannot read property 'field' of null (at tool.ts:7:11)");
    expect(text(r)).toContain("at inner (tool.ts:7:11)");
    expectNoHostTrace(text(r));
  });

  test("the call log records the script's positioned error", async () => {
    await execute("// first line\nundefinedThing();");
    let calls: any[] = [];
    for (let i = 0; i < 100 && !calls.some((c) => c.toolName === "execute" && c.error?.includes("undefinedThing")); i++) {
      calls = (await op(admin, "dwizi.calls.list", { limit: 100 })).calls;
      await Bun.sleep(50);
    }
    const logged = calls.find((c) => c.toolName === "execute" && c.error?.includes("undefinedThing"));
    expect(logged.error).toContain("ReferenceError: 'undefinedThing' is not defined (at script.js:2:1)");
  });
});
