/**
 * Tools: JavaScript/TypeScript source with JSON Schemas, owned by an org.
 * Source and schemas are checked before anything is written.
 */
import { Type, type Static } from "@sinclair/typebox";
import { and, asc, eq, isNull } from "drizzle-orm";
import { tools } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { ensureSlugFree, ensureUnderCap, findLive, softDelete, write, type AssetRef } from "./assetTable.ts";
import { invalid } from "./domainError.ts";
import { checkObjectSchema } from "./jsonSchema.ts";
import { checkOptionSources } from "./optionSource.ts";
import type { Principal } from "./principal.ts";
import { resolveSlug, SlugField } from "./slug.ts";
import { IntegrationField } from "./integration.ts";
import { newId } from "./token.ts";
import { checkToolSource } from "./toolSource.ts";
import { ensureIntegrationChangeFits } from "./attachmentRules.ts";

const JsonObject = Type.Record(Type.String(), Type.Unknown());

/** The fields a tool is created with (seed 000 `{tool:{...}}`). */
export const ToolInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, description: "Display name" }),
  slug: Type.Optional(SlugField),
  description: Type.Optional(Type.String({ maxLength: 4000 })),
  language: Type.Optional(Type.Union([Type.Literal("js"), Type.Literal("ts")], { default: "js" })),
  source: Type.String({ minLength: 1, maxLength: 512 * 1024, description: "Module with `export default async (input, context) => output`" }),
  inputSchema: Type.Optional(JsonObject),
  outputSchema: Type.Optional(Type.Union([JsonObject, Type.Null()])),
  outputPolicy: Type.Optional(Type.Union([Type.Literal("retain"), Type.Literal("omit"), Type.Literal("obfuscate")])),
  secrets: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 64, description: "Names of secrets the tool may read" })),
  timeoutMs: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 600000 }), Type.Null()])),
  integration: Type.Optional(Type.Union([IntegrationField, Type.Null()], { description: "The service the tool belongs to (e.g. slack); connections of it can be attached with it" })),
});
export type ToolInput = Static<typeof ToolInput>;

/** A tool patch: any subset of the create fields. */
export const ToolPatch = Type.Partial(ToolInput);
export type ToolPatch = Static<typeof ToolPatch>;

type ToolRow = typeof tools.$inferSelect;

/** A tool as the API shows it. */
export function toolView(t: ToolRow) {
  return {
    id: t.id,
    orgId: t.orgId,
    slug: t.slug,
    name: t.name,
    description: t.description,
    language: t.language,
    source: t.source,
    inputSchema: t.inputSchema,
    outputSchema: t.outputSchema ?? null,
    outputPolicy: t.outputPolicy,
    secrets: t.secrets,
    timeoutMs: t.timeoutMs ?? null,
    integration: t.integration ?? null,
    version: t.version,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

const EMPTY_SCHEMA = { type: "object", properties: {} };

function check(t: { source: string; language: "js" | "ts"; inputSchema: unknown; outputSchema?: unknown }): void {
  checkObjectSchema("inputSchema", t.inputSchema);
  if (t.outputSchema != null) checkObjectSchema("outputSchema", t.outputSchema);
  checkToolSource(t.source, t.language);
}

/** Live tools of the org, oldest first. */
export async function listTools(db: Db, orgId: string): Promise<ToolRow[]> {
  return db.select().from(tools).where(and(eq(tools.orgId, orgId), isNull(tools.deletedAt))).orderBy(asc(tools.createdAt), asc(tools.id));
}

/** One live tool by id or slug. */
export function getTool(db: Db, orgId: string, ref: AssetRef): Promise<ToolRow> {
  return findLive(db, tools, orgId, ref);
}

/** Every `x-dzx-options` of the schema names a live tool of the org (issue 17.5). */
function checkOptions(db: Db, orgId: string, inputSchema: Record<string, unknown>): Promise<void> {
  return checkOptionSources(inputSchema, async (slug) => {
    const [row] = await db
      .select({ id: tools.id })
      .from(tools)
      .where(and(eq(tools.orgId, orgId), eq(tools.slug, slug), isNull(tools.deletedAt)))
      .limit(1);
    return row !== undefined;
  });
}

/** A further check of the source (the sandbox loading it); returns why it cannot run, or null. */
export type SourceVerifier = (source: string, language: "js" | "ts") => Promise<string | null>;

async function verified(verify: SourceVerifier | undefined, source: string, language: "js" | "ts"): Promise<void> {
  const problem = verify ? await verify(source, language) : null;
  if (problem) throw invalid(problem);
}

/** Creates a tool after checking its source, schemas, slug and the org's cap. */
export async function createTool(db: Db, p: Principal, input: ToolInput, verify?: SourceVerifier) {
  const slug = resolveSlug(input.slug, input.name, "tool");
  const language = input.language ?? "js";
  const inputSchema = input.inputSchema ?? EMPTY_SCHEMA;
  check({ source: input.source, language, inputSchema, outputSchema: input.outputSchema });
  await verified(verify, input.source, language);
  return write(db, p, "tools.create", "tool", async (tx) => {
    await ensureUnderCap(tx, tools, p);
    await ensureSlugFree(tx, tools, p.orgId, slug);
    await checkOptions(tx, p.orgId, inputSchema);
    const [row] = await tx
      .insert(tools)
      .values({
        id: newId(),
        orgId: p.orgId,
        slug,
        name: input.name,
        description: input.description ?? "",
        language,
        source: input.source,
        inputSchema,
        outputSchema: input.outputSchema ?? null,
        outputPolicy: input.outputPolicy ?? "retain",
        secrets: input.secrets ?? [],
        timeoutMs: input.timeoutMs ?? null,
        integration: input.integration ?? null,
        createdBy: p.keyId,
      })
      .returning();
    return { result: { tool: toolView(row) }, targetId: row.id, detail: { slug } };
  });
}

/** Applies a patch; the merged tool is checked as a whole and its version bumped. */
export async function updateTool(db: Db, p: Principal, ref: AssetRef, patch: ToolPatch, verify?: SourceVerifier) {
  return write(db, p, "tools.update", "tool", async (tx) => {
    const cur = await findLive(tx, tools, p.orgId, ref);
    const next = {
      name: patch.name ?? cur.name,
      slug: patch.slug === undefined ? cur.slug : resolveSlug(patch.slug, cur.name, "tool"),
      description: patch.description ?? cur.description,
      language: patch.language ?? cur.language,
      source: patch.source ?? cur.source,
      inputSchema: patch.inputSchema ?? cur.inputSchema,
      outputSchema: patch.outputSchema === undefined ? cur.outputSchema : patch.outputSchema,
      outputPolicy: patch.outputPolicy ?? cur.outputPolicy,
      secrets: patch.secrets ?? cur.secrets,
      timeoutMs: patch.timeoutMs === undefined ? cur.timeoutMs : patch.timeoutMs,
      integration: patch.integration === undefined ? cur.integration : patch.integration,
    };
    check(next);
    if (patch.source !== undefined || patch.language !== undefined) await verified(verify, next.source, next.language);
    if (next.slug !== cur.slug) await ensureSlugFree(tx, tools, p.orgId, next.slug, cur.id);
    if (patch.inputSchema !== undefined) await checkOptions(tx, p.orgId, next.inputSchema);
    if (next.integration !== cur.integration) await ensureIntegrationChangeFits(tx, cur.id, next.integration);
    const [row] = await tx
      .update(tools)
      .set({ ...next, version: cur.version + 1, updatedAt: new Date() })
      .where(eq(tools.id, cur.id))
      .returning();
    return { result: { tool: toolView(row) }, targetId: row.id, detail: { slug: row.slug, fields: Object.keys(patch) } };
  });
}

/** Soft-deletes a tool. */
export function deleteTool(db: Db, p: Principal, ref: AssetRef) {
  return softDelete(db, tools, p, "tools.delete", ref);
}
