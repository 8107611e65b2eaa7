/**
 * Tools attached to a server, each with its per-server presentation (seed 001 "Add Tool"):
 * alias, display name, description, input defaults, partials, order, secret bindings, the
 * connection its secrets are read from first, and its type: an ACTION (a tool clients call) or a
 * TRIGGER (fed by its webhook, trigger.ts). Seed 001's names for the same things
 * (integrationAlias; integrationName + actionName for the tool) are accepted and shown too.
 */
import { Type, type Static } from "@sinclair/typebox";
import { and, asc, eq, inArray, isNull } from "drizzle-orm";
import { partials, serverTools, tools } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { findLive } from "./assetTable.ts";
import { attachableConnection, ensureAliasIntegration } from "./attachmentRules.ts";
import { DomainError, invalid, notFound } from "./domainError.ts";
import { AliasField, exposedName } from "./slug.ts";
import { dropEvents, triggerUri, webhookPath } from "./trigger.ts";
import { newId } from "./token.ts";

/** Per-attachment settings, shared by add and update. */
export const AttachmentSettings = Type.Object(
  {
    alias: Type.Optional(Type.Union([AliasField, Type.Null()])),
    displayName: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
    inputDefaults: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
    partialIds: Type.Optional(Type.Array(Type.String())),
    sortOrder: Type.Optional(Type.Integer({ minimum: -1000000, maximum: 1000000 })),
    secretBindings: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()])),
    connectionId: Type.Optional(
      Type.Union([Type.String({ minLength: 1, description: "A connection of the tool's integration (its id or name): the tool's secrets are read from it first" }), Type.Null()]),
    ),
    integrationAlias: Type.Optional(Type.Union([AliasField, Type.Null()], { description: "Seed 001's name for alias" })),
    // closed: seed 001 answers a field it does not know with 400, and a misspelt setting would pass unnoticed
  },
  { additionalProperties: false },
);
export type AttachmentSettings = Static<typeof AttachmentSettings>;

/** Seed 001's toolType, chosen when the tool is added: ACTION (called by clients) or TRIGGER (run on each event its inbound webhook receives). */
export const ToolType = Type.Union([Type.Literal("ACTION"), Type.Literal("TRIGGER")], {
  description: "ACTION (default): an MCP tool clients call; TRIGGER: run on each event its inbound webhook receives",
});

/** A patch of an attachment: the settings; `toolType` may be restated but not changed. */
export const AttachmentPatch = Type.Object({ ...AttachmentSettings.properties, toolType: Type.Optional(ToolType) }, { additionalProperties: false });
export type AttachmentPatch = Static<typeof AttachmentPatch>;

type AttachmentRow = typeof serverTools.$inferSelect;

/** What an attachment shows of its tool. */
interface ToolFace {
  slug: string;
  name: string;
  integration: string | null;
}

/** An attachment as the API shows it: seed 001's fields first, then dzx's. */
export function attachmentView(a: AttachmentRow, tool: ToolFace) {
  return {
    id: a.id,
    mcpServerId: a.serverId,
    integrationName: tool.integration,
    integrationAlias: a.alias,
    actionName: tool.slug,
    toolType: a.toolType,
    connectionId: a.connectionId,
    displayName: a.displayName,
    description: a.description,
    inputDefaults: a.inputDefaults,
    sortOrder: a.sortOrder,
    toolId: a.toolId,
    toolSlug: tool.slug,
    toolName: tool.name,
    alias: a.alias,
    exposedName: exposedName(a.alias, tool.slug),
    partialIds: a.partialIds,
    secretBindings: a.secretBindings,
    // where a trigger's events arrive and are published; its secret is never shown here
    ...(a.toolType === "TRIGGER" ? { webhookPath: webhookPath(a.id), resourceUri: triggerUri(exposedName(a.alias, tool.slug)) } : {}),
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}

/** Partial references (ids or slugs) → live partial ids of the org; NOT_FOUND names a missing one. */
async function resolvePartials(db: Db, orgId: string, refs: string[] | undefined): Promise<string[] | undefined> {
  if (refs === undefined) return undefined;
  const ids: string[] = [];
  for (const ref of refs) {
    const p = await findLive(db, partials, orgId, { id: ref });
    if (!ids.includes(p.id)) ids.push(p.id);
  }
  return ids;
}

/** Attachments of a server whose tools are live, in exposure order. */
export async function listAttachments(db: Db, serverId: string) {
  const rows = await db
    .select({ a: serverTools, t: { slug: tools.slug, name: tools.name, integration: tools.integration } })
    .from(serverTools)
    .innerJoin(tools, eq(tools.id, serverTools.toolId))
    .where(and(eq(serverTools.serverId, serverId), isNull(tools.deletedAt)))
    .orderBy(asc(serverTools.sortOrder), asc(serverTools.createdAt), asc(serverTools.id));
  return rows.map((r) => attachmentView(r.a, r.t));
}

/** The alias settings name, under either spelling; both at once must agree. */
function aliasOf(settings: AttachmentSettings): string | null | undefined {
  const { alias, integrationAlias } = settings;
  if (alias !== undefined && integrationAlias !== undefined && alias !== integrationAlias) {
    throw invalid(`"alias" and "integrationAlias" name the same thing; pass one of them`);
  }
  return integrationAlias !== undefined ? integrationAlias : alias;
}

/** The attached tool: by id or slug, or (seed 001) by its integration and slug. */
export type ToolChoice = { ref: string } | { integrationName: string; actionName: string };

/** The server an attachment is made on, as far as its rules care. */
export interface AttachTarget {
  id: string;
  endUserId: string | null;
}

async function chosenTool(db: Db, orgId: string, choice: ToolChoice) {
  if ("ref" in choice) return findLive(db, tools, orgId, { id: choice.ref });
  const [row] = await db
    .select()
    .from(tools)
    .where(and(eq(tools.orgId, orgId), eq(tools.integration, choice.integrationName), eq(tools.slug, choice.actionName), isNull(tools.deletedAt)))
    .limit(1);
  if (!row) throw notFound(`action of integration "${choice.integrationName}"`, choice.actionName);
  return row;
}

/**
 * Attaches a live tool of the org. DUPLICATE when the same tool already has that alias here;
 * ALIAS_CONFLICT when the alias already holds another integration. Seed 001's body defaults
 * the alias to the integration's name.
 */
export async function attachTool(db: Db, orgId: string, server: AttachTarget, choice: ToolChoice, settings: AttachmentSettings, toolType: "ACTION" | "TRIGGER" = "ACTION") {
  const tool = await chosenTool(db, orgId, choice);
  const alias = aliasOf(settings) ?? ("integrationName" in choice ? choice.integrationName : null);
  const existing = await listAttachments(db, server.id);
  const exposed = exposedName(alias, tool.slug);
  const clash = existing.find((a) => a.exposedName === exposed);
  if (clash) {
    if (clash.toolId === tool.id) throw new DomainError("DUPLICATE", `Tool "${tool.slug}" is already on this server${alias ? ` under alias "${alias}"` : ""}`);
    throw new DomainError("ALIAS_CONFLICT", `The name "${exposed}" is already used by another tool on this server; choose another alias`);
  }
  ensureAliasIntegration(existing, alias, tool.integration);
  const connectionId = settings.connectionId ? await attachableConnection(db, orgId, settings.connectionId, tool, server) : null;
  const [row] = await db
    .insert(serverTools)
    .values({
      id: newId(),
      serverId: server.id,
      toolId: tool.id,
      alias,
      displayName: settings.displayName ?? null,
      description: settings.description ?? null,
      inputDefaults: settings.inputDefaults ?? null,
      partialIds: (await resolvePartials(db, orgId, settings.partialIds)) ?? [],
      secretBindings: settings.secretBindings ?? null,
      connectionId,
      toolType,
      sortOrder: settings.sortOrder ?? existing.length,
    })
    .returning();
  return attachmentView(row, tool);
}

/** Finds an attachment of the server by its id, or by the attached tool's id or slug. */
export async function findAttachment(db: Db, serverId: string, ref: string) {
  const all = await listAttachments(db, serverId);
  const hit = all.find((a) => a.id === ref) ?? all.find((a) => a.toolId === ref || a.toolSlug === ref || a.exposedName === ref);
  if (!hit) throw notFound("tool attachment", ref);
  return hit;
}

/** Updates an attachment's settings; renaming into a taken name is a DUPLICATE or ALIAS_CONFLICT, into another integration's alias an ALIAS_CONFLICT. */
export async function updateAttachment(db: Db, orgId: string, server: AttachTarget, ref: string, given: AttachmentPatch) {
  const cur = await findAttachment(db, server.id, ref);
  const { toolType, ...patch } = given;
  // a trigger has a webhook, a secret and events; an action has callers: neither becomes the other in place
  if (toolType !== undefined && toolType !== cur.toolType) {
    throw invalid(`An attachment's toolType cannot change (this one is ${cur.toolType}): remove it and add the tool again with toolType "${toolType}"`);
  }
  const alias = aliasOf(patch);
  const { integrationAlias: _, ...fields } = patch;
  const next: Partial<AttachmentRow> = { ...fields, alias, partialIds: await resolvePartials(db, orgId, patch.partialIds) };
  if (alias !== undefined && alias !== cur.alias) {
    const exposed = exposedName(alias, cur.toolSlug);
    const all = await listAttachments(db, server.id);
    const other = all.find((a) => a.id !== cur.id && a.exposedName === exposed);
    if (other?.toolId === cur.toolId) throw new DomainError("DUPLICATE", `Tool "${cur.toolSlug}" is already on this server under that name`);
    if (other) {
      throw new DomainError("ALIAS_CONFLICT", `The name "${exposed}" is already used by another tool on this server; choose another alias`);
    }
    ensureAliasIntegration(all, alias, cur.integrationName, cur.id);
  }
  if (patch.connectionId) {
    next.connectionId = await attachableConnection(db, orgId, patch.connectionId, { slug: cur.toolSlug, integration: cur.integrationName }, server);
  }
  // only the settings' own fields: serverId or webhookSecret are columns too
  const set = Object.fromEntries(Object.entries(next).filter(([k, v]) => v !== undefined && k in AttachmentSettings.properties));
  if (Object.keys(set).length === 0) throw invalid("The patch is empty: pass at least one field to change");
  const [row] = await db
    .update(serverTools)
    .set({ ...set, updatedAt: new Date() })
    .where(eq(serverTools.id, cur.id))
    .returning();
  return attachmentView(row, { slug: cur.toolSlug, name: cur.toolName, integration: cur.integrationName });
}

/** Removes an attachment. */
export async function detachTool(db: Db, serverId: string, ref: string) {
  const cur = await findAttachment(db, serverId, ref);
  await db.delete(serverTools).where(eq(serverTools.id, cur.id));
  await dropEvents(db, [cur.id]);
  return { deleted: true, id: cur.id };
}

/** Makes the server's attachments match `toolIds`: keeps those still listed (with their settings), adds new ones, drops the rest. */
export async function syncToolIds(db: Db, orgId: string, serverId: string, toolIds: string[]) {
  const wanted: string[] = [];
  for (const ref of toolIds) {
    const t = await findLive(db, tools, orgId, { id: ref });
    if (!wanted.includes(t.id)) wanted.push(t.id);
  }
  const current = await db.select().from(serverTools).where(eq(serverTools.serverId, serverId));
  const drop = current.filter((a) => !wanted.includes(a.toolId)).map((a) => a.id);
  if (drop.length) {
    await db.delete(serverTools).where(inArray(serverTools.id, drop));
    await dropEvents(db, drop);
  }
  const have = new Set(current.map((a) => a.toolId));
  let order = current.length;
  for (const toolId of wanted) {
    if (have.has(toolId)) continue;
    await db.insert(serverTools).values({ id: newId(), serverId, toolId, sortOrder: order++ });
  }
}
