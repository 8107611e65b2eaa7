/**
 * Prompts: messages with declared arguments, each message's content text or one MCP
 * content block, `{{arg}}` placeholders filled on prompts/get.
 */
import { Type, type Static } from "@sinclair/typebox";
import { and, asc, eq, isNull } from "drizzle-orm";
import { prompts, type PromptArgument, type PromptMessage } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { BLOCK_TYPES, contentBlockProblem, type ContentBlock } from "../mcp/contentBlock.ts";
import { ensureSlugFree, ensureUnderCap, findLive, softDelete, write, type AssetRef } from "./assetTable.ts";
import { completionFields, resolveCompletionSource } from "./completionSource.ts";
import { invalid } from "./domainError.ts";
import type { Principal } from "./principal.ts";
import { resolveSlug, SlugField } from "./slug.ts";
import { newId } from "./token.ts";

const Argument = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z_][A-Za-z0-9_-]*$" }),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  required: Type.Optional(Type.Boolean()),
  ...completionFields,
});
const Message = Type.Object({
  role: Type.Union([Type.Literal("user"), Type.Literal("assistant"), Type.Literal("system")]),
  content: Type.Union([
    Type.String({ maxLength: 256 * 1024, description: "Text; {{arg}} placeholders are filled on prompts/get" }),
    Type.Object(
      { type: Type.String({ description: BLOCK_TYPES.join(" | ") }) },
      { description: "One MCP content block (text, image, audio, resource, resource_link); {{arg}} placeholders are filled in its strings but base64 data/blob" },
    ),
  ]),
});

/** The fields a prompt is created with (seed 000 `{prompt:{...}}`). */
export const PromptInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  slug: Type.Optional(SlugField),
  description: Type.Optional(Type.String({ maxLength: 4000 })),
  arguments: Type.Optional(Type.Array(Argument, { maxItems: 64 })),
  messages: Type.Array(Message, { minItems: 1, maxItems: 100 }),
});
export type PromptInput = Static<typeof PromptInput>;

/** A prompt patch: any subset of the create fields. */
export const PromptPatch = Type.Partial(PromptInput);
export type PromptPatch = Static<typeof PromptPatch>;

type PromptRow = typeof prompts.$inferSelect;

/** A prompt as the API shows it. */
export function promptView(r: PromptRow) {
  return {
    id: r.id,
    orgId: r.orgId,
    slug: r.slug,
    name: r.name,
    description: r.description,
    arguments: r.arguments,
    messages: r.messages,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}/g;

/** Base64 fields of a block: binary, never templated. */
const BINARY = new Set(["data", "blob"]);

/** A copy of `v` with `fill` applied to each string in it but base64 data (a block's strings, or the text itself). */
function mapStrings(v: unknown, fill: (s: string) => string, key?: string): unknown {
  if (typeof v === "string") return key !== undefined && BINARY.has(key) ? v : fill(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, fill));
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, fill, k)]));
  return v;
}

/**
 * Each message's content is text or one valid content block, every `{{name}}` in it a
 * declared argument, and argument names are unique.
 */
function checkMessages(args: PromptArgument[], messages: PromptMessage[]): void {
  const names = new Set<string>();
  for (const a of args) {
    if (names.has(a.name)) throw invalid(`Prompt argument "${a.name}" is declared twice`);
    names.add(a.name);
  }
  messages.forEach((m, i) => {
    const at = `messages[${i}].content`;
    if (typeof m.content !== "string") {
      const problem = contentBlockProblem(m.content, at);
      if (problem) throw invalid(problem, { path: at });
    }
    mapStrings(m.content, (text) => {
      for (const [, name] of text.matchAll(PLACEHOLDER)) {
        if (!names.has(name)) throw invalid(`messages[${i}] uses {{${name}}}, which is not a declared argument; add it to "arguments"`);
      }
      return text;
    });
  });
}

/** The names of the `{{name}}` placeholders in a text. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** Arguments as stored: each one's completion source checked and its tool resolved to an id. */
async function resolveArguments(db: Db, orgId: string, args: PromptArgument[]): Promise<PromptArgument[]> {
  const out: PromptArgument[] = [];
  for (const [i, { values, complete, ...rest }] of args.entries()) {
    out.push({ ...rest, ...(await resolveCompletionSource(db, orgId, { values, complete }, `arguments[${i}]`)) });
  }
  return out;
}

/** Fills `{{arg}}` placeholders; absent optional arguments become empty. */
export function renderTemplate(content: string, values: Record<string, string>): string {
  return content.replace(PLACEHOLDER, (_, name: string) => values[name] ?? "");
}

/** A message's content as prompts/get sends it: one content block, placeholders filled (text becomes a text block). */
export function renderContent(content: PromptMessage["content"], values: Record<string, string>): ContentBlock {
  if (typeof content === "string") return { type: "text", text: renderTemplate(content, values) };
  return mapStrings(content, (text) => renderTemplate(text, values)) as ContentBlock;
}

/** Live prompts of the org, oldest first. */
export async function listPrompts(db: Db, orgId: string): Promise<PromptRow[]> {
  return db.select().from(prompts).where(and(eq(prompts.orgId, orgId), isNull(prompts.deletedAt))).orderBy(asc(prompts.createdAt), asc(prompts.id));
}

/** One live prompt by id or slug. */
export function getPrompt(db: Db, orgId: string, ref: AssetRef): Promise<PromptRow> {
  return findLive(db, prompts, orgId, ref);
}

/** Creates a prompt after checking its template, slug and the org's cap. */
export async function createPrompt(db: Db, p: Principal, input: PromptInput) {
  const slug = resolveSlug(input.slug, input.name, "prompt");
  const args = input.arguments ?? [];
  checkMessages(args, input.messages);
  return write(db, p, "prompts.create", "prompt", async (tx) => {
    const stored = await resolveArguments(tx, p.orgId, args);
    await ensureUnderCap(tx, prompts, p);
    await ensureSlugFree(tx, prompts, p.orgId, slug);
    const [row] = await tx
      .insert(prompts)
      .values({
        id: newId(),
        orgId: p.orgId,
        slug,
        name: input.name,
        description: input.description ?? "",
        arguments: stored,
        messages: input.messages,
        createdBy: p.keyId,
      })
      .returning();
    return { result: { prompt: promptView(row) }, targetId: row.id, detail: { slug } };
  });
}

/** Applies a patch to a prompt. */
export async function updatePrompt(db: Db, p: Principal, ref: AssetRef, patch: PromptPatch) {
  return write(db, p, "prompts.update", "prompt", async (tx) => {
    const cur = await findLive(tx, prompts, p.orgId, ref);
    const next = {
      name: patch.name ?? cur.name,
      slug: patch.slug === undefined ? cur.slug : resolveSlug(patch.slug, cur.name, "prompt"),
      description: patch.description ?? cur.description,
      arguments: patch.arguments ? await resolveArguments(tx, p.orgId, patch.arguments) : cur.arguments,
      messages: patch.messages ?? cur.messages,
    };
    checkMessages(next.arguments, next.messages);
    if (next.slug !== cur.slug) await ensureSlugFree(tx, prompts, p.orgId, next.slug, cur.id);
    const [row] = await tx.update(prompts).set({ ...next, updatedAt: new Date() }).where(eq(prompts.id, cur.id)).returning();
    return { result: { prompt: promptView(row) }, targetId: row.id, detail: { slug: row.slug, fields: Object.keys(patch) } };
  });
}

/** Soft-deletes a prompt. */
export function deletePrompt(db: Db, p: Principal, ref: AssetRef) {
  return softDelete(db, prompts, p, "prompts.delete", ref);
}
