/**
 * dwizi.tools.*: fields and defaults, source and schema checks, slugs, id-or-slug
 * references, soft deletes, caps, scopes, tenancy and the audit trail — over the SDK client.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { op, opError } from "../support/client.ts";
import { startWithClients, type Dzx, type Stack } from "../support/dzx.ts";

// Server start runs the CLI once per key; on a busy machine that alone can pass the 5 s default.
setDefaultTimeout(60_000);

let stack: Stack<"admin" | "reader" | "other" | "capped">;
let dzx: Dzx;
let keys: Stack<"admin" | "reader" | "other" | "capped">["keys"];
let admin: Client, reader: Client, other: Client, capped: Client;

beforeAll(async () => {
  stack = await startWithClients({
    admin: ["acme"],
    reader: ["acme", "tools:read,audit:read"],
    other: ["globex"],
    capped: ["initech"],
  });
  ({ dzx, keys } = stack);
  ({ admin, reader, other, capped } = stack.clients);
}, 60_000);
afterAll(() => stack?.dispose());

const OK_SOURCE = "export default async (input) => ({ ok: true, input })";
const EMAIL_SCHEMA = { type: "object", required: ["to"], properties: { to: { type: "string" } } };

/** A valid tool with `over` applied. */
const toolOf = (over: Record<string, unknown> = {}) => ({ name: "Echo", source: OK_SOURCE, ...over });
const create = (c: Client, over: Record<string, unknown> = {}) => op(c, "dwizi.tools.create", { tool: toolOf(over) }).then((r) => r.tool);
const createError = (c: Client, over: Record<string, unknown>) => opError(c, "dwizi.tools.create", { tool: toolOf(over) });
const slugsOf = async (c: Client) => (await op(c, "dwizi.tools.list", { limit: 200 })).tools.map((t: any) => t.slug);
const deleteAll = async (c: Client) => {
  for (const slug of await slugsOf(c)) await op(c, "dwizi.tools.delete", { slug });
};

describe("create", () => {
  test("stores every field and returns the tool view", async () => {
    const outputSchema = { type: "object", properties: { sent: { type: "boolean" } } };
    const t = await create(admin, {
      name: "Send Email",
      slug: "send-email",
      description: "Send email",
      language: "ts",
      source: "export default async (input: { to: string }): Promise<{ sent: boolean }> => ({ sent: input.to.length > 0 })",
      inputSchema: EMAIL_SCHEMA,
      outputSchema,
      outputPolicy: "obfuscate",
      secrets: ["SMTP_PASSWORD"],
      timeoutMs: 5000,
    });
    expect(t).toMatchObject({
      slug: "send-email",
      name: "Send Email",
      description: "Send email",
      language: "ts",
      inputSchema: EMAIL_SCHEMA,
      outputSchema,
      outputPolicy: "obfuscate",
      secrets: ["SMTP_PASSWORD"],
      timeoutMs: 5000,
      version: 1,
      orgId: keys.admin.orgId,
    });
    expect(typeof t.id).toBe("string");
    expect(Date.parse(t.createdAt)).not.toBeNaN();
    expect(await op(admin, "dwizi.tools.get", { id: t.id })).toEqual({ tool: t });
  });

  test("fills defaults: js, retain, empty object schema, slug from name", async () => {
    const t = await create(admin, { name: "Look Up Customer!" });
    expect(t).toMatchObject({
      slug: "look-up-customer",
      language: "js",
      outputPolicy: "retain",
      inputSchema: { type: "object", properties: {} },
      outputSchema: null,
      secrets: [],
      timeoutMs: null,
      description: "",
    });
  });

  test("accepts each outputPolicy and refuses others", async () => {
    for (const outputPolicy of ["retain", "omit", "obfuscate"]) {
      const t = await create(admin, { slug: `policy-${outputPolicy}`, outputPolicy });
      expect(t.outputPolicy).toBe(outputPolicy);
      await op(admin, "dwizi.tools.delete", { id: t.id });
    }
    expect((await createError(admin, { slug: "policy-bad", outputPolicy: "drop" })).code).toBe("VALIDATION_ERROR");
    expect((await createError(admin, { slug: "lang-bad", language: "python" })).code).toBe("VALIDATION_ERROR");
    expect((await createError(admin, { slug: "timeout-bad", timeoutMs: 0 })).code).toBe("VALIDATION_ERROR");
  });

  test("a JS syntax error is a VALIDATION_ERROR with line and column", async () => {
    const source = ["// sums", "export default async (input) => {", "  return input.a + ;", "};"].join("\n");
    const e = (await createError(admin, { slug: "broken", source })) as any;
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toMatch(/line 3, column \d+/);
    expect(e.details.line).toBe(3);
    expect(e.details.column).toBeGreaterThan(0);
    expect(await slugsOf(admin)).not.toContain("broken");
  });

  test("TypeScript syntax needs language ts", async () => {
    const source = "export default async (input: { n: number }): Promise<number> => input.n * 2";
    const t = await create(admin, { slug: "typed", source, language: "ts" });
    expect(t.language).toBe("ts");
    const tsBroken = (await createError(admin, { slug: "typed-broken", language: "ts", source: "export default async (x) => x +;" })) as any;
    expect(tsBroken.code).toBe("VALIDATION_ERROR");
    expect(tsBroken.details).toMatchObject({ line: 1 });
  });

  // Bun's transpiler reports several parse errors as one AggregateError whose positions sit in `errors[]`.
  test("a source with several syntax errors still gets line and column", async () => {
    const source = "export default async (input: { n: number }): Promise<number> => input.n * 2";
    const e = (await createError(admin, { slug: "typed-as-js", source })) as any;
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toMatch(/line 1, column \d+/);
    expect(e.details).toMatchObject({ line: 1 });
  });

  test("an unexpected end of input still gets line and column", async () => {
    const e = (await createError(admin, { slug: "unterminated", source: "export default async () => {\n  return 1;\n" })) as any;
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toMatch(/line \d+, column \d+/);
    expect(e.details?.line).toBeGreaterThanOrEqual(2);
  });

  test("source without a default export is refused", async () => {
    const e = await createError(admin, { slug: "no-default", source: "export const run = async () => 1" });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toMatch(/default/);
  });

  test("schemas must be valid JSON Schemas of objects", async () => {
    const bad: [string, Record<string, unknown>][] = [
      ["inputSchema", { inputSchema: { type: "string" } }],
      ["inputSchema", { inputSchema: { type: "object", properties: { a: { type: "nonsense" } } } }],
      ["inputSchema", { inputSchema: { type: "object", required: "a" } }],
      ["inputSchema", { inputSchema: { type: "object", properties: { a: { $ref: "#/$defs/missing" } } } }],
      ["outputSchema", { outputSchema: { type: "object", properties: { b: { minimum: "zero" } } } }],
      ["outputSchema", { outputSchema: { type: "array" } }],
    ];
    for (const [field, over] of bad) {
      const e = await createError(admin, { slug: "bad-schema", ...over });
      expect(e.code).toBe("VALIDATION_ERROR");
      expect(e.message).toContain(field);
    }
    expect(await slugsOf(admin)).not.toContain("bad-schema");
  });

  test("slugs follow ^[a-z][a-z0-9_-]{0,63}$ without __", async () => {
    for (const slug of ["Upper", "dou__ble", "9lives", "-dash", "_under", "", "a".repeat(65), "sp ace"]) {
      expect((await createError(admin, { slug })).code).toBe("VALIDATION_ERROR");
    }
    expect((await createError(admin, { name: "!!!" })).code).toBe("VALIDATION_ERROR");
    const long = `x${"0".repeat(63)}`;
    expect((await create(admin, { slug: long })).slug).toBe(long);
    await op(admin, "dwizi.tools.delete", { slug: long });
  });

  test("a live slug is DUPLICATE in the same org, free in another org", async () => {
    const e = await createError(admin, { slug: "send-email" });
    expect(e.code).toBe("DUPLICATE");
    expect(e.message).toContain("send-email");
    const theirs = await create(other, { slug: "send-email" });
    expect(theirs.orgId).toBe(keys.other.orgId);
  });
});

describe("get and list", () => {
  test("get accepts id, slug, or the slug passed as id", async () => {
    const byId = await op(admin, "dwizi.tools.get", { slug: "send-email" });
    expect((await op(admin, "dwizi.tools.get", { id: byId.tool.id })).tool.slug).toBe("send-email");
    expect((await op(admin, "dwizi.tools.get", { id: "send-email" })).tool.id).toBe(byId.tool.id);
    expect((await opError(admin, "dwizi.tools.get", {})).code).toBe("VALIDATION_ERROR");
    expect((await opError(admin, "dwizi.tools.get", { slug: "nope" })).code).toBe("NOT_FOUND");
  });

  test("list pages oldest first with total and nextCursor", async () => {
    const all = await op(admin, "dwizi.tools.list", {});
    expect(all.total).toBe(all.tools.length);
    expect(all.nextCursor).toBeUndefined();
    expect(all.tools.slice(0, 2).map((t: any) => t.slug)).toEqual(["send-email", "look-up-customer"]);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await op(admin, "dwizi.tools.list", { limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.tools.length).toBeLessThanOrEqual(2);
      expect(page.total).toBe(all.total);
      seen.push(...page.tools.map((t: any) => t.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.tools.map((t: any) => t.id));
    expect((await opError(admin, "dwizi.tools.list", { cursor: "bm9wZQ" })).code).toBe("VALIDATION_ERROR");
  });

  test("another org's tools are not found, never forbidden", async () => {
    const mine = (await op(admin, "dwizi.tools.get", { slug: "send-email" })).tool;
    for (const name of ["dwizi.tools.get", "dwizi.tools.delete"]) {
      expect((await opError(other, name, { id: mine.id })).code).toBe("NOT_FOUND");
    }
    expect((await opError(other, "dwizi.tools.update", { id: mine.id, patch: { name: "x" } })).code).toBe("NOT_FOUND");
    const theirs = (await op(other, "dwizi.tools.list", {})).tools;
    expect(theirs.map((t: any) => t.id)).not.toContain(mine.id);
    expect((await op(admin, "dwizi.tools.get", { id: mine.id })).tool.name).toBe("Send Email");
  });
});

describe("update", () => {
  test("patches by slug, bumps version, keeps unpatched fields", async () => {
    const before = (await op(admin, "dwizi.tools.get", { slug: "look-up-customer" })).tool;
    const { tool } = await op(admin, "dwizi.tools.update", {
      slug: "look-up-customer",
      patch: { description: "Find a customer", inputSchema: EMAIL_SCHEMA, outputPolicy: "omit", timeoutMs: 1000 },
    });
    expect(tool).toMatchObject({ id: before.id, name: before.name, source: before.source, description: "Find a customer", inputSchema: EMAIL_SCHEMA });
    expect(tool).toMatchObject({ outputPolicy: "omit", timeoutMs: 1000, version: before.version + 1 });
    expect(tool.updatedAt >= before.updatedAt).toBe(true);
    const again = (await op(admin, "dwizi.tools.update", { id: before.id, patch: { timeoutMs: null } })).tool;
    expect(again).toMatchObject({ timeoutMs: null, version: before.version + 2 });
  });

  test("an invalid patch changes nothing", async () => {
    const before = (await op(admin, "dwizi.tools.get", { slug: "look-up-customer" })).tool;
    const bad = [
      { source: "export default async () => {" },
      { source: "export default async (x: number) => x" },
      { inputSchema: { type: "object", properties: { a: { type: 7 } } } },
      { slug: "Not A Slug" },
      { outputPolicy: "forget" },
    ];
    for (const patch of bad) {
      expect((await opError(admin, "dwizi.tools.update", { slug: "look-up-customer", patch })).code).toBe("VALIDATION_ERROR");
    }
    expect((await op(admin, "dwizi.tools.get", { id: before.id })).tool).toEqual(before);
  });

  test("switching language re-checks the stored source", async () => {
    const e = (await opError(admin, "dwizi.tools.update", { slug: "typed", patch: { language: "js" } })) as any;
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toMatch(/Syntax error in js source/);
    expect((await op(admin, "dwizi.tools.get", { slug: "typed" })).tool.language).toBe("ts");
  });

  test("outputSchema: null clears it", async () => {
    const { tool } = await op(admin, "dwizi.tools.update", { slug: "send-email", patch: { outputSchema: null } });
    expect(tool.outputSchema).toBeNull();
  });

  test("renaming the slug: DUPLICATE onto a live slug, and the old slug is freed", async () => {
    expect((await opError(admin, "dwizi.tools.update", { slug: "typed", patch: { slug: "send-email" } })).code).toBe("DUPLICATE");
    const { tool } = await op(admin, "dwizi.tools.update", { slug: "typed", patch: { slug: "typed-v2" } });
    expect(tool.slug).toBe("typed-v2");
    expect((await opError(admin, "dwizi.tools.get", { slug: "typed" })).code).toBe("NOT_FOUND");
    const fresh = await create(admin, { slug: "typed" });
    expect(fresh.id).not.toBe(tool.id);
  });

  test("update and delete of an unknown tool are NOT_FOUND", async () => {
    expect((await opError(admin, "dwizi.tools.update", { slug: "ghost", patch: { name: "x" } })).code).toBe("NOT_FOUND");
    expect((await opError(admin, "dwizi.tools.delete", { slug: "ghost" })).code).toBe("NOT_FOUND");
  });
});

describe("soft delete", () => {
  test("hides the tool from get and list, frees the slug, keeps the audit trail", async () => {
    const t = await create(admin, { slug: "short-lived" });
    expect(await op(admin, "dwizi.tools.delete", { id: t.id })).toEqual({ deleted: true, id: t.id, slug: "short-lived" });
    expect((await opError(admin, "dwizi.tools.get", { id: t.id })).code).toBe("NOT_FOUND");
    expect((await opError(admin, "dwizi.tools.get", { slug: "short-lived" })).code).toBe("NOT_FOUND");
    expect((await opError(admin, "dwizi.tools.update", { id: t.id, patch: { name: "x" } })).code).toBe("NOT_FOUND");
    expect((await opError(admin, "dwizi.tools.delete", { id: t.id })).code).toBe("NOT_FOUND");
    expect(await slugsOf(admin)).not.toContain("short-lived");
    const again = await create(admin, { slug: "short-lived" });
    expect(again.id).not.toBe(t.id);
    const { entries } = await op(admin, "dwizi.audit.list", { limit: 500 });
    const ops = entries.filter((e: any) => e.targetId === t.id).map((e: any) => e.operation);
    expect(ops).toEqual(["tools.delete", "tools.create"]);
  });
});

describe("audit", () => {
  test("every tool write is recorded with actor, operation, target and time; failures are not", async () => {
    const t = await create(admin, { slug: "audited" });
    await op(admin, "dwizi.tools.update", { id: t.id, patch: { description: "v2" } });
    await createError(admin, { slug: "audited" });
    await op(admin, "dwizi.tools.delete", { slug: "audited" });
    const { entries } = await op(reader, "dwizi.audit.list", { limit: 10 });
    const mine = entries.filter((e: any) => e.targetId === t.id);
    expect(mine.map((e: any) => e.operation)).toEqual(["tools.delete", "tools.update", "tools.create"]);
    for (const e of mine) {
      expect(e).toMatchObject({ actorKeyId: keys.admin.keyId, targetType: "tool", targetId: t.id });
      expect(Date.parse(e.at)).not.toBeNaN();
    }
    expect(mine[1].detail.fields).toEqual(["description"]);
    const times = entries.map((e: any) => e.at);
    expect([...times].sort().reverse()).toEqual(times);
    expect(entries.filter((e: any) => e.operation === "tools.create" && e.detail?.slug === "audited")).toHaveLength(1);
  });
});

describe("scopes and caps", () => {
  test("a tools:read key reads but cannot write, and nothing is written", async () => {
    expect((await op(reader, "dwizi.tools.list", {})).total).toBeGreaterThan(0);
    const e = await opError(reader, "dwizi.tools.create", { tool: toolOf({ slug: "sneaky" }) });
    expect(e.code).toBe("FORBIDDEN_SCOPE");
    expect(e.message).toContain("tools:write");
    expect((await opError(reader, "dwizi.tools.delete", { slug: "send-email" })).code).toBe("FORBIDDEN_SCOPE");
    expect(await slugsOf(admin)).not.toContain("sneaky");
    expect(await slugsOf(admin)).toContain("send-email");
  });

  test("the eleventh live tool is QUOTA_EXCEEDED; a soft delete frees a slot", async () => {
    await deleteAll(capped);
    for (let i = 0; i < 10; i++) await create(capped, { slug: `t${i}` });
    const e = (await createError(capped, { slug: "t10" })) as any;
    expect(e.code).toBe("QUOTA_EXCEEDED");
    expect(e.details).toEqual({ limit: 10 });
    expect((await op(capped, "dwizi.tools.list", {})).total).toBe(10);
    expect((await op(capped, "dwizi.org.get", {})).org.usage.tools).toEqual({ count: 10, cap: 10 });
    await op(capped, "dwizi.tools.delete", { slug: "t0" });
    expect((await create(capped, { slug: "t10" })).slug).toBe("t10");
    await deleteAll(capped);
  });
});

describe("id and slug references", () => {
  // Tool ids are UUIDs, and a lowercase UUID starting with a letter is a valid slug.
  test("{id} and {slug} each find their own tool when a slug equals another tool's id", async () => {
    let a: any;
    for (let i = 0; i < 40 && !a; i++) {
      const t = await create(capped, { slug: `probe-${i}` });
      if (/^[a-f]/.test(t.id)) a = t;
      else await op(capped, "dwizi.tools.delete", { id: t.id });
    }
    expect(a).toBeDefined();
    const b = await create(capped, { name: "Shadow", slug: a.id });
    const byId = (await op(capped, "dwizi.tools.get", { id: a.id })).tool.id;
    const bySlug = (await op(capped, "dwizi.tools.get", { slug: a.id })).tool.id;
    expect({ byId, bySlug }).toEqual({ byId: a.id, bySlug: b.id });
    await deleteAll(capped);
  });
});
