/**
 * A hosted server resolved for serving: the server row, its org's limits, and its
 * live tools (with attachment settings and partials; ACTIONs apart from TRIGGERs),
 * resources and prompts in exposure order. Loaded once per change, not per request.
 */
import { and, asc, eq, inArray, isNull } from "drizzle-orm";
import {
  orgs,
  partials,
  prompts,
  resources,
  serverPrompts,
  serverResources,
  servers,
  serverTools,
  tools,
  type OrgLimits,
} from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { hashToken } from "../platform/token.ts";
import { companionsOf, optionToolSlugs, type Companion } from "./companion.ts";

/** A server row. */
export type ServerRow = typeof servers.$inferSelect;
/** A tool row. */
export type ToolRow = typeof tools.$inferSelect;
/** A partial row. */
export type PartialRow = typeof partials.$inferSelect;

/** One attached tool with everything needed to publish and call it. */
export interface AttachedTool {
  attachment: typeof serverTools.$inferSelect;
  tool: ToolRow;
  /** Live partials named by the attachment, in the attachment's order. */
  partials: PartialRow[];
}

/** A resource row. */
export type ResourceRow = typeof resources.$inferSelect;
/** A prompt row. */
export type PromptRow = typeof prompts.$inferSelect;

/** A server as it is served. */
export interface ServerDefinition {
  server: ServerRow;
  orgLimits: OrgLimits;
  /** ACTION attachments: the tools clients list and call. */
  tools: AttachedTool[];
  /** TRIGGER attachments: fed by their webhooks, published as `trigger://<name>/events` resources, never listed as tools. */
  triggers: AttachedTool[];
  resources: ResourceRow[];
  prompts: PromptRow[];
  /** Live tools that back resources or completions (attached or not), by id, published without attachment settings. */
  backing: Map<string, AttachedTool>;
  /** Companion tools (`list_<property>s`) of the attached tools' `x-dzx-options` properties. */
  companions: Companion[];
  /** What loading it found wrong but served around (a companion not published, and why). */
  warnings: string[];
}

/** The tools a resource or prompt names: a tool-backed resource's, and its variables' or arguments' completion tools. */
function namedTools(res: ResourceRow[], prm: PromptRow[]): string[] {
  const ids = new Set<string>();
  for (const r of res) {
    if (r.toolId) ids.add(r.toolId);
    for (const v of Object.values(r.variables)) if (v.complete) ids.add(v.complete.toolId);
  }
  for (const p of prm) for (const a of p.arguments) if (a.complete) ids.add(a.complete.toolId);
  return [...ids];
}

/**
 * A tool as it runs behind a resource or a completion, or in `dwizi.tools.test` (no server: `serverId` empty):
 * as if attached with no alias, defaults, partials, bindings or connection.
 */
export function unattached(tool: ToolRow, serverId: string): AttachedTool {
  const attachment: AttachedTool["attachment"] = {
    id: `backing:${tool.id}`,
    serverId,
    toolId: tool.id,
    alias: null,
    displayName: null,
    description: null,
    inputDefaults: null,
    partialIds: [],
    secretBindings: null,
    connectionId: null,
    sortOrder: 0,
    toolType: "ACTION",
    webhookSecret: null,
    createdAt: tool.createdAt,
    updatedAt: tool.updatedAt,
  };
  return { attachment, tool, partials: [] };
}

/** The live server whose bearer token this is, or undefined. */
export async function serverByToken(db: Db, token: string): Promise<{ id: string; orgId: string; tokenHash: string } | undefined> {
  const tokenHash = hashToken(token);
  const [row] = await db
    .select({ id: servers.id, orgId: servers.orgId })
    .from(servers)
    .where(and(eq(servers.tokenHash, tokenHash), isNull(servers.deletedAt)))
    .limit(1);
  return row ? { ...row, tokenHash } : undefined;
}

/** Loads a live server's definition; undefined when it is gone. */
export async function loadDefinition(db: Db, serverId: string): Promise<ServerDefinition | undefined> {
  const [row] = await db
    .select({ server: servers, orgLimits: orgs.limits })
    .from(servers)
    .innerJoin(orgs, eq(orgs.id, servers.orgId))
    .where(and(eq(servers.id, serverId), isNull(servers.deletedAt)))
    .limit(1);
  if (!row) return undefined;
  const attached = await db
    .select({ attachment: serverTools, tool: tools })
    .from(serverTools)
    .innerJoin(tools, eq(tools.id, serverTools.toolId))
    .where(and(eq(serverTools.serverId, serverId), isNull(tools.deletedAt)))
    .orderBy(asc(serverTools.sortOrder), asc(serverTools.createdAt), asc(serverTools.id));
  const partialIds = [...new Set(attached.flatMap((a) => a.attachment.partialIds))];
  const partialRows = partialIds.length
    ? await db
        .select()
        .from(partials)
        .where(and(eq(partials.orgId, row.server.orgId), inArray(partials.id, partialIds), isNull(partials.deletedAt)))
    : [];
  const byId = new Map(partialRows.map((p) => [p.id, p]));
  const res = await db
    .select({ r: resources })
    .from(serverResources)
    .innerJoin(resources, eq(resources.id, serverResources.resourceId))
    .where(and(eq(serverResources.serverId, serverId), isNull(resources.deletedAt)))
    .orderBy(asc(serverResources.sortOrder));
  const prm = await db
    .select({ p: prompts })
    .from(serverPrompts)
    .innerJoin(prompts, eq(prompts.id, serverPrompts.promptId))
    .where(and(eq(serverPrompts.serverId, serverId), isNull(prompts.deletedAt)))
    .orderBy(asc(serverPrompts.sortOrder));
  const named = namedTools(
    res.map((r) => r.r),
    prm.map((p) => p.p),
  );
  const backingRows = named.length
    ? await db
        .select()
        .from(tools)
        .where(and(eq(tools.orgId, row.server.orgId), inArray(tools.id, named), isNull(tools.deletedAt)))
    : [];
  const backing = new Map(backingRows.map((t) => [t.id, unattached(t, serverId)]));
  const liveTools = attached.map((a) => ({ ...a, partials: a.attachment.partialIds.flatMap((id) => byId.get(id) ?? []) }));
  // a trigger is no tool a client calls: no companions of its own
  const actions = liveTools.filter((t) => t.attachment.toolType !== "TRIGGER");
  const optionSlugs = optionToolSlugs(actions);
  const optionRows = optionSlugs.length
    ? await db
        .select()
        .from(tools)
        .where(and(eq(tools.orgId, row.server.orgId), inArray(tools.slug, optionSlugs), isNull(tools.deletedAt)))
    : [];
  const { companions, warnings } = companionsOf(actions, new Map(optionRows.map((t) => [t.slug, t])));
  return {
    server: row.server,
    orgLimits: row.orgLimits,
    tools: actions,
    triggers: liveTools.filter((t) => t.attachment.toolType === "TRIGGER"),
    // a resource whose tool was deleted goes with it, as an attachment does
    resources: res.map((r) => r.r).filter((r) => r.toolId === null || backing.has(r.toolId)),
    prompts: prm.map((p) => p.p),
    backing,
    companions,
    warnings,
  };
}
