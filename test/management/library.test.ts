/**
 * dwizi.resources.* and dwizi.prompts.*: content rules (text xor base64 blob, uri,
 * `{{arg}}` placeholders), slugs and uris, soft deletes, caps, scopes, tenancy, audit.
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
    reader: ["acme", "resources:read,prompts:read"],
    other: ["globex"],
    capped: ["initech"],
  });
  ({ dzx, keys } = stack);
  ({ admin, reader, other, capped } = stack.clients);
}, 60_000);
afterAll(() => stack?.dispose());

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).toString("base64");

const resourceOf = (over: Record<string, unknown> = {}) => ({ uri: "resource://docs/welcome", name: "Welcome", text: "Hello", ...over });
const createResource = (c: Client, over: Record<string, unknown> = {}) =>
  op(c, "dwizi.resources.create", { resource: resourceOf(over) }).then((r) => r.resource);
const resourceError = (c: Client, over: Record<string, unknown>) => opError(c, "dwizi.resources.create", { resource: resourceOf(over) });

const TRIAGE = {
  name: "triage-ticket",
  description: "Triage a support ticket",
  arguments: [{ name: "ticketBody", required: true }, { name: "tone", description: "How to answer" }],
  messages: [
    { role: "system", content: "You are a helpful support agent. Answer in a {{ tone }} tone." },
    { role: "user", content: "{{ticketBody}}" },
  ],
};
const promptOf = (over: Record<string, unknown> = {}) => ({ ...TRIAGE, ...over });
const createPrompt = (c: Client, over: Record<string, unknown> = {}) => op(c, "dwizi.prompts.create", { prompt: promptOf(over) }).then((r) => r.prompt);
const promptError = (c: Client, over: Record<string, unknown>) => opError(c, "dwizi.prompts.create", { prompt: promptOf(over) });

const auditFor = async (c: Client, id: string) =>
  (await op(c, "dwizi.audit.list", { limit: 500 })).entries.filter((e: any) => e.targetId === id);

describe("resources", () => {
  test("a text resource: defaults, view, get by id and slug", async () => {
    const r = await createResource(admin, { description: "First steps" });
    expect(r).toMatchObject({ uri: "resource://docs/welcome", name: "Welcome", slug: "welcome", mimeType: "text/plain", text: "Hello", description: "First steps" });
    expect(r.orgId).toBe(keys.admin.orgId);
    expect("blob" in r).toBe(false);
    expect(await op(admin, "dwizi.resources.get", { id: r.id })).toEqual({ resource: r });
    expect(await op(admin, "dwizi.resources.get", { slug: "welcome" })).toEqual({ resource: r });
    expect(await op(admin, "dwizi.resources.get", { id: "welcome" })).toEqual({ resource: r });
  });

  test("a blob resource keeps its base64 and defaults to application/octet-stream", async () => {
    const r = await createResource(admin, { uri: "file:///logo.png", name: "Logo", text: undefined, blob: PNG });
    expect(r).toMatchObject({ slug: "logo", blob: PNG, mimeType: "application/octet-stream" });
    expect("text" in r).toBe(false);
    const typed = await createResource(admin, { uri: "file:///logo2.png", name: "Logo 2", text: undefined, blob: PNG, mimeType: "image/png" });
    expect(typed.mimeType).toBe("image/png");
  });

  test("exactly one of text or blob, blob must be base64, uri must be scheme:path", async () => {
    const cases: Record<string, unknown>[] = [
      { slug: "both", uri: "resource://x/both", blob: PNG },
      { slug: "neither", uri: "resource://x/neither", text: undefined },
      { slug: "bad-b64", uri: "resource://x/b64", text: undefined, blob: "not base64!" },
      { slug: "bad-pad", uri: "resource://x/pad", text: undefined, blob: "abc" },
      { slug: "bad-uri", uri: "no scheme here" },
      { slug: "bad-uri2", uri: "relative/path" },
    ];
    for (const over of cases) {
      const e = await resourceError(admin, over);
      expect(e.code).toBe("VALIDATION_ERROR");
    }
    expect((await resourceError(admin, { slug: "both2", uri: "resource://x/b2", blob: PNG })).message).toMatch(/exactly one of "text", "blob" \(base64\) or "toolId"/);
    const slugs = (await op(admin, "dwizi.resources.list", {})).resources.map((r: any) => r.slug);
    expect(slugs).toEqual(["welcome", "logo", "logo-2"]);
  });

  test("slug and uri are each unique among the org's live resources", async () => {
    expect((await resourceError(admin, { uri: "resource://docs/other" })).code).toBe("DUPLICATE");
    expect((await resourceError(admin, { slug: "welcome-again" })).code).toBe("DUPLICATE");
    const theirs = await createResource(other);
    expect(theirs).toMatchObject({ slug: "welcome", uri: "resource://docs/welcome", orgId: keys.other.orgId });
  });

  test("update: text replaces blob and blob replaces text", async () => {
    const toText = (await op(admin, "dwizi.resources.update", { slug: "logo", patch: { text: "now text", mimeType: "text/markdown" } })).resource;
    expect(toText).toMatchObject({ slug: "logo", text: "now text", mimeType: "text/markdown" });
    expect("blob" in toText).toBe(false);
    const toBlob = (await op(admin, "dwizi.resources.update", { id: toText.id, patch: { blob: PNG } })).resource;
    expect(toBlob.blob).toBe(PNG);
    expect("text" in toBlob).toBe(false);
    expect((await op(admin, "dwizi.resources.get", { slug: "logo" })).resource).toEqual(toBlob);
  });

  test("update refuses a bad patch and changes nothing", async () => {
    const before = (await op(admin, "dwizi.resources.get", { slug: "welcome" })).resource;
    expect((await opError(admin, "dwizi.resources.update", { slug: "welcome", patch: { blob: "%%%" } })).code).toBe("VALIDATION_ERROR");
    expect((await opError(admin, "dwizi.resources.update", { slug: "welcome", patch: { uri: "nope" } })).code).toBe("VALIDATION_ERROR");
    expect((await opError(admin, "dwizi.resources.update", { slug: "welcome", patch: { uri: "file:///logo2.png" } })).code).toBe("DUPLICATE");
    expect((await opError(admin, "dwizi.resources.update", { slug: "welcome", patch: { slug: "logo" } })).code).toBe("DUPLICATE");
    expect((await op(admin, "dwizi.resources.get", { id: before.id })).resource).toEqual(before);
  });

  test("update with both text and blob is refused like create", async () => {
    const before = (await op(admin, "dwizi.resources.get", { slug: "welcome" })).resource;
    const e = await opError(admin, "dwizi.resources.update", { slug: "welcome", patch: { text: "t", blob: PNG } });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect((await op(admin, "dwizi.resources.get", { id: before.id })).resource).toEqual(before);
  });

  test("soft delete hides it, frees slug and uri, keeps the audit trail", async () => {
    const r = (await op(admin, "dwizi.resources.get", { slug: "logo-2" })).resource;
    expect(await op(admin, "dwizi.resources.delete", { slug: "logo-2" })).toEqual({ deleted: true, id: r.id, slug: "logo-2" });
    expect((await opError(admin, "dwizi.resources.get", { id: r.id })).code).toBe("NOT_FOUND");
    expect((await opError(admin, "dwizi.resources.delete", { id: r.id })).code).toBe("NOT_FOUND");
    expect((await op(admin, "dwizi.resources.list", {})).resources.map((x: any) => x.id)).not.toContain(r.id);
    const again = await createResource(admin, { uri: "file:///logo2.png", name: "Logo 2" });
    expect(again.id).not.toBe(r.id);
    const entries = await auditFor(admin, r.id);
    expect(entries.map((e: any) => e.operation)).toEqual(["resources.delete", "resources.create"]);
    for (const e of entries) expect(e).toMatchObject({ actorKeyId: keys.admin.keyId, targetType: "resource" });
  });

  test("tenancy and scopes", async () => {
    const mine = (await op(admin, "dwizi.resources.get", { slug: "welcome" })).resource;
    expect((await opError(other, "dwizi.resources.get", { id: mine.id })).code).toBe("NOT_FOUND");
    expect((await opError(other, "dwizi.resources.update", { id: mine.id, patch: { text: "x" } })).code).toBe("NOT_FOUND");
    expect((await opError(other, "dwizi.resources.delete", { id: mine.id })).code).toBe("NOT_FOUND");
    expect((await op(reader, "dwizi.resources.get", { id: mine.id })).resource).toEqual(mine);
    const e = await opError(reader, "dwizi.resources.create", { resource: resourceOf({ slug: "sneaky", uri: "resource://sneaky" }) });
    expect(e).toMatchObject({ code: "FORBIDDEN_SCOPE" });
    expect(e.message).toContain("resources:write");
    expect((await op(admin, "dwizi.resources.list", {})).resources.map((x: any) => x.slug)).not.toContain("sneaky");
  });

  test("the 21st live resource is QUOTA_EXCEEDED", async () => {
    for (let i = 0; i < 20; i++) await createResource(capped, { slug: `r${i}`, uri: `resource://r/${i}` });
    const e = await resourceError(capped, { slug: "r20", uri: "resource://r/20" });
    expect(e.code).toBe("QUOTA_EXCEEDED");
    expect((await op(capped, "dwizi.resources.list", {})).total).toBe(20);
    await op(capped, "dwizi.resources.delete", { slug: "r0" });
    expect((await createResource(capped, { slug: "r20", uri: "resource://r/20" })).slug).toBe("r20");
  });
});

describe("prompts", () => {
  test("create with arguments and templated messages; get by id or slug", async () => {
    const p = await createPrompt(admin);
    expect(p).toMatchObject({ slug: "triage-ticket", name: "triage-ticket", description: TRIAGE.description, arguments: TRIAGE.arguments, messages: TRIAGE.messages });
    expect(p.orgId).toBe(keys.admin.orgId);
    expect(await op(admin, "dwizi.prompts.get", { id: p.id })).toEqual({ prompt: p });
    expect(await op(admin, "dwizi.prompts.get", { slug: "triage-ticket" })).toEqual({ prompt: p });
    const bare = await createPrompt(admin, { name: "Say Hi", arguments: undefined, description: undefined, messages: [{ role: "user", content: "Hi" }] });
    expect(bare).toMatchObject({ slug: "say-hi", arguments: [], description: "" });
  });

  test("every {{placeholder}} must be a declared argument", async () => {
    const e = await promptError(admin, {
      slug: "undeclared",
      messages: [{ role: "user", content: "{{ticketBody}} from {{customer}}" }],
    });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toContain("customer");
    expect(e.message).toContain("messages[0]");
    const second = await promptError(admin, { slug: "undeclared", messages: [{ role: "user", content: "ok" }, { role: "assistant", content: "{{ missing }}" }] });
    expect(second.message).toContain("messages[1]");
  });

  test("argument names are unique and well-formed; messages and roles are checked", async () => {
    const cases: Record<string, unknown>[] = [
      { slug: "dup-arg", arguments: [{ name: "a" }, { name: "a" }], messages: [{ role: "user", content: "{{a}}" }] },
      { slug: "bad-arg", arguments: [{ name: "has space" }], messages: [{ role: "user", content: "x" }] },
      { slug: "no-messages", messages: [] },
      { slug: "bad-role", messages: [{ role: "robot", content: "x" }] },
      { slug: "Bad_Slug" },
    ];
    for (const over of cases) expect((await promptError(admin, over)).code).toBe("VALIDATION_ERROR");
    expect((await promptError(admin, { slug: "dup-arg", arguments: [{ name: "a" }, { name: "a" }], messages: [{ role: "user", content: "{{a}}" }] })).message).toContain("declared twice");
    const slugs = (await op(admin, "dwizi.prompts.list", {})).prompts.map((p: any) => p.slug);
    expect(slugs).toEqual(["triage-ticket", "say-hi"]);
  });

  test("a live slug is DUPLICATE in the same org and free in another", async () => {
    expect((await promptError(admin, {})).code).toBe("DUPLICATE");
    expect((await createPrompt(other)).orgId).toBe(keys.other.orgId);
  });

  test("update checks the merged template", async () => {
    const before = (await op(admin, "dwizi.prompts.get", { slug: "triage-ticket" })).prompt;
    const dropArg = await opError(admin, "dwizi.prompts.update", { slug: "triage-ticket", patch: { arguments: [{ name: "ticketBody", required: true }] } });
    expect(dropArg.code).toBe("VALIDATION_ERROR");
    expect(dropArg.message).toContain("tone");
    const newPlaceholder = await opError(admin, "dwizi.prompts.update", { id: before.id, patch: { messages: [{ role: "user", content: "{{priority}}" }] } });
    expect(newPlaceholder.code).toBe("VALIDATION_ERROR");
    expect((await op(admin, "dwizi.prompts.get", { id: before.id })).prompt).toEqual(before);
    const { prompt } = await op(admin, "dwizi.prompts.update", {
      slug: "triage-ticket",
      patch: { arguments: [{ name: "priority", required: true }], messages: [{ role: "user", content: "Priority {{priority}}" }] },
    });
    expect(prompt).toMatchObject({ id: before.id, name: before.name, arguments: [{ name: "priority", required: true }] });
    expect(prompt.messages).toEqual([{ role: "user", content: "Priority {{priority}}" }]);
    const renamed = (await op(admin, "dwizi.prompts.update", { slug: "say-hi", patch: { slug: "greet", description: "Greets" } })).prompt;
    expect(renamed).toMatchObject({ slug: "greet", description: "Greets" });
    expect((await opError(admin, "dwizi.prompts.update", { slug: "greet", patch: { slug: "triage-ticket" } })).code).toBe("DUPLICATE");
  });

  test("soft delete hides it, frees the slug, keeps the audit trail", async () => {
    const p = (await op(admin, "dwizi.prompts.get", { slug: "greet" })).prompt;
    expect(await op(admin, "dwizi.prompts.delete", { id: p.id })).toEqual({ deleted: true, id: p.id, slug: "greet" });
    expect((await opError(admin, "dwizi.prompts.get", { slug: "greet" })).code).toBe("NOT_FOUND");
    expect((await opError(admin, "dwizi.prompts.update", { id: p.id, patch: { name: "x" } })).code).toBe("NOT_FOUND");
    expect((await op(admin, "dwizi.prompts.list", {})).prompts.map((x: any) => x.id)).not.toContain(p.id);
    expect((await createPrompt(admin, { name: "Greet", slug: "greet", arguments: [], messages: [{ role: "user", content: "hey" }] })).id).not.toBe(p.id);
    const entries = await auditFor(admin, p.id);
    expect(entries.map((e: any) => e.operation)).toEqual(["prompts.delete", "prompts.update", "prompts.create"]);
    for (const e of entries) expect(e).toMatchObject({ actorKeyId: keys.admin.keyId, targetType: "prompt", targetId: p.id });
  });

  test("tenancy and scopes", async () => {
    const mine = (await op(admin, "dwizi.prompts.get", { slug: "triage-ticket" })).prompt;
    const theirs = (await op(other, "dwizi.prompts.get", { slug: "triage-ticket" })).prompt;
    expect(theirs.id).not.toBe(mine.id);
    expect((await opError(other, "dwizi.prompts.get", { id: mine.id })).code).toBe("NOT_FOUND");
    expect((await opError(other, "dwizi.prompts.delete", { id: mine.id })).code).toBe("NOT_FOUND");
    expect((await op(reader, "dwizi.prompts.list", {})).total).toBe((await op(admin, "dwizi.prompts.list", {})).total);
    const e = await opError(reader, "dwizi.prompts.delete", { id: mine.id });
    expect(e.code).toBe("FORBIDDEN_SCOPE");
    expect(e.message).toContain("prompts:write");
    expect((await op(admin, "dwizi.prompts.get", { id: mine.id })).prompt.id).toBe(mine.id);
  });

  test("the 21st live prompt is QUOTA_EXCEEDED", async () => {
    const msg = [{ role: "user", content: "x" }];
    for (let i = 0; i < 20; i++) await createPrompt(capped, { name: `p${i}`, arguments: [], messages: msg });
    const e = await promptError(capped, { name: "p20", arguments: [], messages: msg });
    expect(e.code).toBe("QUOTA_EXCEEDED");
    expect((await op(capped, "dwizi.org.get", {})).org.usage.prompts).toEqual({ count: 20, cap: 20 });
  });
});
