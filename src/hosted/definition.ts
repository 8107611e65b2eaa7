/**
 * A hosted server resolved for serving: the server row, its org's limits, and its
 * live tools (with attachment settings and partials), resources and prompts in
 * exposure order. Loaded once per change, not per request.
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

/** A server as it is served. */
export interface ServerDefinition {
  server: ServerRow;
  orgLimits: OrgLimits;
  tools: AttachedTool[];
  resources: (typeof resources.$inferSelect)[];
  prompts: (typeof prompts.$inferSelect)[];
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
  return {
    server: row.server,
    orgLimits: row.orgLimits,
    tools: attached.map((a) => ({ ...a, partials: a.attachment.partialIds.flatMap((id) => byId.get(id) ?? []) })),
    resources: res.map((r) => r.r),
    prompts: prm.map((p) => p.p),
  };
}
