/**
 * Hosted MCP server records: name, mode, workspace, attached assets, and a bearer
 * token stored hashed and shown only on create and rotation.
 */
import { Type, type Static } from "@sinclair/typebox";
import { and, asc, eq, isNull } from "drizzle-orm";
import { prompts, resources, serverPrompts, serverResources, servers } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { syncToolIds, listAttachments } from "./attachment.ts";
import { ensureSlugFree, ensureUnderCap, findLive, softDelete, write, type AssetRef } from "./assetTable.ts";
import { DomainError, invalid, notFound } from "./domainError.ts";
import type { Principal } from "./principal.ts";
import { resolveSlug, SlugField } from "./slug.ts";
import { hashToken, newServerId, newServerToken } from "./token.ts";
import { serverWorkspaceId } from "./workspace.ts";

const Ids = Type.Array(Type.String({ minLength: 1 }), { maxItems: 200 });

/** The fields a server is created with (seed 000 `{server:{...}}`, seed 001 body). */
export const ServerInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  slug: Type.Optional(SlugField),
  description: Type.Optional(Type.String({ maxLength: 4000 })),
  mode: Type.Optional(Type.Union([Type.Literal("TOOLS"), Type.Literal("CODE")])),
  endUserId: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()])),
  workspaceId: Type.Optional(Type.String({ minLength: 1, description: "The workspace's id or slug; defaults to the calling key's workspace, else the org's default one" })),
  toolIds: Type.Optional(Ids),
  resourceIds: Type.Optional(Ids),
  promptIds: Type.Optional(Ids),
});
export type ServerInput = Static<typeof ServerInput>;

/** A server patch: any subset of the create fields; id lists replace the attached set. */
export const ServerPatch = Type.Partial(Type.Omit(ServerInput, ["workspaceId"]));
export type ServerPatch = Static<typeof ServerPatch>;

type ServerRow = typeof servers.$inferSelect;

/** The endpoint a server is reached at. */
export function endpointOf(baseUrl: string, id: string): string {
  return `${baseUrl}/mcp/srv_${id}`;
}

/** A server as the API shows it (never its token). */
export function serverView(s: ServerRow, baseUrl: string) {
  return {
    id: s.id,
    orgId: s.orgId,
    workspaceId: s.workspaceId,
    slug: s.slug,
    name: s.name,
    description: s.description,
    mode: s.mode,
    endUserId: s.endUserId,
    createdBy: s.createdBy,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
    mcpEndpoint: endpointOf(baseUrl, s.id),
  };
}

/** Ready-to-paste client configs (Claude Desktop / Cursor through mcp-remote). */
export function clientConfigs(name: string, endpoint: string, token: string) {
  const entry = { command: "npx", args: ["-y", "mcp-remote", endpoint, "--header", `Authorization: Bearer ${token}`] };
  return { claudeDesktop: { mcpServers: { [name]: entry } }, cursor: { mcpServers: { [name]: entry } } };
}

/** Refuses seed-000's unsupported inline assets with a pointer to the id lists. */
export function refuseInlineAssets(server: Record<string, unknown>): void {
  for (const [field, ids] of [["resources", "resourceIds"], ["prompts", "promptIds"], ["tools", "toolIds"]] as const) {
    if (field in server) throw invalid(`Inline "${field}" are not supported on a server: create them first, then pass their ids in "${ids}"`);
  }
}

/** Live servers the principal can see (its workspace only, for workspace keys). */
export async function listServers(db: Db, p: Principal): Promise<ServerRow[]> {
  return db
    .select()
    .from(servers)
    .where(and(eq(servers.orgId, p.orgId), isNull(servers.deletedAt), p.workspaceId ? eq(servers.workspaceId, p.workspaceId) : undefined))
    .orderBy(asc(servers.createdAt), asc(servers.id));
}

/** One live server the principal can see, by id or slug (an `srv_` prefix is accepted). */
export async function getServer(db: Db, p: Principal, ref: AssetRef): Promise<ServerRow> {
  const norm = { id: ref.id?.replace(/^srv_/, ""), slug: ref.slug };
  const row = await findLive(db, servers, p.orgId, norm.id === undefined ? { slug: norm.slug } : norm);
  // the very message findLive gives a server that never was
  if (p.workspaceId && row.workspaceId !== p.workspaceId) throw notFound("server", (norm.id ?? norm.slug)!);
  return row;
}

async function syncLinks(db: Db, orgId: string, serverId: string, input: { toolIds?: string[]; resourceIds?: string[]; promptIds?: string[] }) {
  if (input.toolIds) await syncToolIds(db, orgId, serverId, input.toolIds);
  if (input.resourceIds) {
    await db.delete(serverResources).where(eq(serverResources.serverId, serverId));
    const seen = new Set<string>();
    for (const ref of input.resourceIds) {
      const r = await findLive(db, resources, orgId, { id: ref });
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      await db.insert(serverResources).values({ serverId, resourceId: r.id, sortOrder: seen.size });
    }
  }
  if (input.promptIds) {
    await db.delete(serverPrompts).where(eq(serverPrompts.serverId, serverId));
    const seen = new Set<string>();
    for (const ref of input.promptIds) {
      const r = await findLive(db, prompts, orgId, { id: ref });
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      await db.insert(serverPrompts).values({ serverId, promptId: r.id, sortOrder: seen.size });
    }
  }
}

/** The server with its attached tools, resources and prompts (live ones only). */
export async function serverDetail(db: Db, s: ServerRow, baseUrl: string) {
  const res = await db
    .select({ id: resources.id, slug: resources.slug, uri: resources.uri, name: resources.name })
    .from(serverResources)
    .innerJoin(resources, eq(resources.id, serverResources.resourceId))
    .where(and(eq(serverResources.serverId, s.id), isNull(resources.deletedAt)))
    .orderBy(asc(serverResources.sortOrder));
  const prm = await db
    .select({ id: prompts.id, slug: prompts.slug, name: prompts.name })
    .from(serverPrompts)
    .innerJoin(prompts, eq(prompts.id, serverPrompts.promptId))
    .where(and(eq(serverPrompts.serverId, s.id), isNull(prompts.deletedAt)))
    .orderBy(asc(serverPrompts.sortOrder));
  return { server: serverView(s, baseUrl), tools: await listAttachments(db, s.id), resources: res, prompts: prm };
}

/** Creates a server with its attachments; the bearer token is returned here only. */
export async function createServer(db: Db, p: Principal, input: ServerInput, baseUrl: string) {
  refuseInlineAssets(input as Record<string, unknown>);
  const slug = resolveSlug(input.slug, input.name, "server");
  return write(db, p, "mcp.create", "server", async (tx) => {
    const workspaceId = await serverWorkspaceId(tx, p, input.workspaceId);
    await ensureUnderCap(tx, servers, p);
    await ensureSlugFree(tx, servers, p.orgId, slug);
    const token = newServerToken();
    const id = newServerId();
    const [row] = await tx
      .insert(servers)
      .values({
        id,
        orgId: p.orgId,
        workspaceId,
        slug,
        name: input.name,
        description: input.description ?? "",
        mode: input.mode ?? "TOOLS",
        endUserId: input.endUserId ?? null,
        tokenHash: hashToken(token),
        createdBy: p.keyId,
      })
      .returning();
    await syncLinks(tx, p.orgId, id, input);
    const endpoint = endpointOf(baseUrl, id);
    return {
      result: {
        ...(await serverDetail(tx, row, baseUrl)),
        bearerToken: token,
        mcpEndpoint: endpoint,
        clientConfigs: clientConfigs(slug, endpoint, token),
      },
      targetId: id,
      detail: { slug },
    };
  });
}

/** Applies a patch; id lists replace the attached sets. */
export async function updateServer(db: Db, p: Principal, ref: AssetRef, patch: ServerPatch, baseUrl: string) {
  refuseInlineAssets(patch as Record<string, unknown>);
  return write(db, p, "mcp.update", "server", async (tx) => {
    const cur = await getServer(tx, p, ref);
    const slug = patch.slug === undefined ? cur.slug : resolveSlug(patch.slug, cur.name, "server");
    if (slug !== cur.slug) await ensureSlugFree(tx, servers, p.orgId, slug, cur.id);
    const [row] = await tx
      .update(servers)
      .set({
        name: patch.name ?? cur.name,
        slug,
        description: patch.description ?? cur.description,
        mode: patch.mode ?? cur.mode,
        endUserId: patch.endUserId === undefined ? cur.endUserId : patch.endUserId,
        updatedAt: new Date(),
      })
      .where(eq(servers.id, cur.id))
      .returning();
    await syncLinks(tx, p.orgId, cur.id, patch);
    return { result: await serverDetail(tx, row, baseUrl), targetId: cur.id, detail: { slug, fields: Object.keys(patch) } };
  });
}

/** Issues a new bearer token; the old one stops working at once. */
export async function rotateServerToken(db: Db, p: Principal, ref: AssetRef, baseUrl: string) {
  return write(db, p, "mcp.rotate_token", "server", async (tx) => {
    const cur = await getServer(tx, p, ref);
    const token = newServerToken();
    await tx.update(servers).set({ tokenHash: hashToken(token), updatedAt: new Date() }).where(eq(servers.id, cur.id));
    return { result: { bearerToken: token, mcpEndpoint: endpointOf(baseUrl, cur.id) }, targetId: cur.id };
  });
}

/** Soft-deletes a server (its endpoint stops answering). */
export async function deleteServer(db: Db, p: Principal, ref: AssetRef) {
  const s = await getServer(db, p, ref);
  return softDelete(db, servers, p, "mcp.delete", { id: s.id });
}

/** Guards operations on a server's attachments. */
export function requireServerRef(server: unknown): string {
  if (typeof server !== "string" || !server) throw new DomainError("VALIDATION_ERROR", `Pass "server": the server's id or slug`);
  return server;
}
