/**
 * Hints that point somewhere (issue 15.7): every hint dzx prints names an
 * operation of the table and the REST method and path the router serves for it
 * — the missing-secret error once said `REST: POST /api/v1/secrets`, a 404.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { operationHint } from "../../src/management/hint.ts";
import { op, rest } from "../support/client.ts";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { createServer, hostedClient } from "../hosted/support.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const SRC = join(import.meta.dir, "..", "..", "src");
/** `dwizi.x.y {args} (REST: METHOD /api/v1/path with {body})`, as src/management/hint.ts writes it. */
const HINT = /(dwizi(?:\.[a-z_]+)+)(?: (\{.*?\}))? \(REST: (GET|POST|PUT|PATCH|DELETE) (\/api\/v1\/[^\s)]*)(?: with (\{.*\}))?\)/;

interface Hint {
  operation: string;
  args?: Record<string, unknown>;
  method: string;
  path: string;
  body?: Record<string, unknown>;
}

function parseHint(text: string): Hint {
  const m = HINT.exec(text);
  if (!m) throw new Error(`no hint in: ${text}`);
  return { operation: m[1], args: m[2] ? JSON.parse(m[2]) : undefined, method: m[3], path: m[4], body: m[5] ? JSON.parse(m[5]) : undefined };
}

/** Every .ts file under src, with its path from src. */
function sources(dir = SRC): { file: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith(".ts") ? [{ file: relative(SRC, path), text: readFileSync(path, "utf8") }] : [];
  });
}

let stack: Stack<"admin">;
let admin: Client;
let key: string;
let served: Set<string>;

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] });
  admin = stack.clients.admin;
  key = stack.keys.admin.key;
  served = new Set((await admin.listTools()).tools.map((t) => t.name));
  await op(admin, "dwizi.tools.create", { tool: { name: "keyed", secrets: ["API_TOKEN"], source: "export default async (i, context) => ({ token: context.secrets.API_TOKEN })" } });
  await op(admin, "dwizi.tools.create", { tool: { name: "personal", secrets: ["PERSONAL_TOKEN"], source: "export default async (i, context) => ({ token: context.secrets.PERSONAL_TOKEN })" } });
});

afterAll(async () => {
  await stack?.dispose();
});

/** Asks the running server whether its REST router serves `method path` (placeholders `{x}` filled in): neither 405 nor its "No route" 404. */
async function expectServed(method: string, path: string, body?: unknown) {
  const r = await rest(stack.dzx.url, key, method, path.replace(/^\/api\/v1/, "").replace(/\{[^}]+\}/g, "x"), body);
  const noRoute = r.status === 405 || (r.status === 404 && /^No route/.test(r.json?.error?.message ?? ""));
  expect({ route: `${method} ${path}`, noRoute, answer: noRoute ? r.text : "" }).toEqual({ route: `${method} ${path}`, noRoute: false, answer: "" });
  return r;
}

/** Follows a missing-secret hint's REST half with `value` in place of "…"; the call after it must succeed. */
async function followHint(hint: Hint, value: string) {
  const body = JSON.parse(JSON.stringify(hint.body ?? {}).replace('"…"', JSON.stringify(value)));
  const r = await expectServed(hint.method, hint.path, body);
  expect(r.status).toBe(200);
}

describe("the missing-secret hint of a hosted call", () => {
  test("names dwizi.secrets.set and PUT /api/v1/secrets/<name>, and following it makes the call work", async () => {
    const s = await createServer(admin, { name: "Keyed", toolIds: ["keyed"] });
    const client = await hostedClient(s.endpoint, s.token);
    try {
      const missing = await client.callTool({ name: "keyed", arguments: {} });
      expect(missing.isError).toBe(true);
      const text = (missing.content as any)[0].text as string;
      const hint = parseHint(text);
      expect(hint).toEqual({ operation: "dwizi.secrets.set", args: { name: "API_TOKEN", value: "…" }, method: "PUT", path: "/api/v1/secrets/API_TOKEN", body: { value: "…" } });
      expect(served.has(hint.operation)).toBe(true);
      await followHint(hint, "tok-1234");
      expect((await client.callTool({ name: "keyed", arguments: {} })).structuredContent).toEqual({ token: "tok-1234" });
    } finally {
      await client.close();
    }
  });

  test("on an end user's server, names the end user in the operation's arguments and the REST body, and following it sets that user's value", async () => {
    const s = await createServer(admin, { name: "For Ada", endUserId: "ada", toolIds: ["personal"] });
    const client = await hostedClient(s.endpoint, s.token);
    try {
      const missing = await client.callTool({ name: "personal", arguments: {} });
      expect(missing.isError).toBe(true);
      const hint = parseHint((missing.content as any)[0].text);
      expect(hint).toEqual({
        operation: "dwizi.secrets.set",
        args: { name: "PERSONAL_TOKEN", value: "…", endUserId: "ada" },
        method: "PUT",
        path: "/api/v1/secrets/PERSONAL_TOKEN",
        body: { value: "…", endUserId: "ada" },
      });
      await followHint(hint, "ada-5678");
      expect((await client.callTool({ name: "personal", arguments: {} })).structuredContent).toEqual({ token: "ada-5678" });
      // the value is ada's alone: the org has none
      const listed = (await rest(stack.dzx.url, key, "GET", "/secrets")).json.secrets.filter((x: any) => x.name === "PERSONAL_TOKEN");
      expect(listed.map((x: any) => x.endUserId ?? null)).toEqual(["ada"]);
    } finally {
      await client.close();
    }
  });
});

describe("every hint in src", () => {
  const files = sources();

  test("names an operation the server serves and a REST route its router serves", async () => {
    const named = [...new Set(files.flatMap(({ text }) => [...text.matchAll(/operationHint\(\s*"([^"]+)"/g)].map((m) => m[1])))];
    expect(named).toContain("dwizi.secrets.set");
    for (const name of named) {
      const hint = parseHint(operationHint(name));
      expect(served.has(hint.operation)).toBe(true);
      await expectServed(hint.method, hint.path, hint.method === "GET" || hint.method === "DELETE" ? undefined : {});
    }
  });

  test("no REST route is written by hand in a message: each comes from the operation table", () => {
    const handWritten = files.filter(({ file, text }) => file !== join("management", "hint.ts") && /REST: (GET|POST|PUT|PATCH|DELETE) /.test(text)).map((f) => f.file);
    expect(handWritten).toEqual([]);
  });

  test("every dwizi.* operation name src spells is one the server serves", () => {
    const spelled = new Set(files.flatMap(({ text }) => [...text.matchAll(/\bdwizi(?:\.[a-z_]+)+(?![\w.{$*])/g)].map((m) => m[0])));
    expect([...spelled].filter((name) => !served.has(name))).toEqual([]);
  });
});
