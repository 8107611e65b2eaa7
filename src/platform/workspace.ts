/**
 * Workspaces (SPEC "Tenancy, keys and scopes"): an org groups its servers in
 * workspaces, a `default` one made with the org. A key limited to one workspace
 * sees that workspace only: another one reads as not found, exactly like an
 * asset of another org (no existence oracle).
 */
import { Type, type Static } from "@sinclair/typebox";
import { and, asc, count, eq, isNull } from "drizzle-orm";
import { apiKeys, servers, workspaces } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { ensureSlugFree, findLive, write, type AssetRef } from "./assetTable.ts";
import { DomainError, notFound } from "./domainError.ts";
import type { Principal } from "./principal.ts";
import { resolveSlug, SlugField } from "./slug.ts";
import { newId } from "./token.ts";

/** The slug of the workspace every org is made with; servers created without a workspaceId go to it. */
export const DEFAULT_WORKSPACE_SLUG = "default";

/** The fields a workspace is created with. */
export const WorkspaceInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  slug: Type.Optional(SlugField),
  description: Type.Optional(Type.String({ maxLength: 4000 })),
});
export type WorkspaceInput = Static<typeof WorkspaceInput>;

/** A workspace patch: any subset of the create fields. */
export const WorkspacePatch = Type.Partial(WorkspaceInput);
export type WorkspacePatch = Static<typeof WorkspacePatch>;

type WorkspaceRow = typeof workspaces.$inferSelect;

/** A workspace as the API shows it. */
export function workspaceView(w: WorkspaceRow) {
  return {
    id: w.id,
    orgId: w.orgId,
    slug: w.slug,
    name: w.name,
    description: w.description,
    createdBy: w.createdBy,
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
  };
}

/** Live workspaces the principal can see: all of the org's, or only its own for a workspace key. */
export async function listWorkspaces(db: Db, p: Principal): Promise<WorkspaceRow[]> {
  return db
    .select()
    .from(workspaces)
    .where(and(eq(workspaces.orgId, p.orgId), isNull(workspaces.deletedAt), p.workspaceId ? eq(workspaces.id, p.workspaceId) : undefined))
    .orderBy(asc(workspaces.createdAt), asc(workspaces.id));
}

/** One live workspace of the org by id or slug, or NOT_FOUND (the operator's CLI, which has no key). */
export async function findWorkspace(db: Db, orgId: string, ref: AssetRef): Promise<WorkspaceRow> {
  return findLive(db, workspaces, orgId, ref);
}

/** One live workspace the principal can see, by id or slug, or NOT_FOUND. */
export async function getWorkspace(db: Db, p: Principal, ref: AssetRef): Promise<WorkspaceRow> {
  const row = await findWorkspace(db, p.orgId, ref);
  // the same message as for a workspace that never was
  if (p.workspaceId && row.id !== p.workspaceId) throw notFound("workspace", (ref.id ?? ref.slug)!);
  return row;
}

/** The workspace a new server goes to: the named one, else the key's own, else the org's default. */
export async function serverWorkspaceId(db: Db, p: Principal, ref: string | undefined): Promise<string> {
  if (ref) return (await getWorkspace(db, p, { id: ref })).id;
  if (p.workspaceId) return p.workspaceId;
  return (await getWorkspace(db, p, { slug: DEFAULT_WORKSPACE_SLUG })).id;
}

/** The workspace a new key is limited to: the named one, else the creating key's own (null: org-wide). */
export async function keyWorkspaceId(db: Db, p: Principal, ref: string | undefined): Promise<string | null> {
  if (ref) return (await getWorkspace(db, p, { id: ref })).id;
  return p.workspaceId;
}

function conflict(message: string, details?: Record<string, unknown>): DomainError {
  return new DomainError("CONFLICT", message, details);
}

/** Creates a workspace; only an org-wide key may. */
export async function createWorkspace(db: Db, p: Principal, input: WorkspaceInput) {
  if (p.workspaceId) {
    throw new DomainError("FORBIDDEN_SCOPE", "This key is limited to one workspace; only an org-wide key can create workspaces");
  }
  const slug = resolveSlug(input.slug, input.name, "workspace");
  return write(db, p, "workspaces.create", "workspace", async (tx) => {
    await ensureSlugFree(tx, workspaces, p.orgId, slug);
    const [row] = await tx
      .insert(workspaces)
      .values({ id: newId(), orgId: p.orgId, name: input.name, slug, description: input.description ?? "", createdBy: p.keyId })
      .returning();
    return { result: { workspace: workspaceView(row) }, targetId: row.id, detail: { slug } };
  });
}

/** Renames or re-describes a workspace; the default one keeps its slug. */
export async function updateWorkspace(db: Db, p: Principal, ref: AssetRef, patch: WorkspacePatch) {
  return write(db, p, "workspaces.update", "workspace", async (tx) => {
    const cur = await getWorkspace(tx, p, ref);
    const slug = patch.slug === undefined ? cur.slug : resolveSlug(patch.slug, cur.name, "workspace");
    if (slug !== cur.slug) {
      if (cur.slug === DEFAULT_WORKSPACE_SLUG) {
        throw conflict(`The default workspace keeps its slug "${DEFAULT_WORKSPACE_SLUG}": servers created without a workspaceId go to it`);
      }
      await ensureSlugFree(tx, workspaces, p.orgId, slug, cur.id);
    }
    const [row] = await tx
      .update(workspaces)
      .set({ name: patch.name ?? cur.name, slug, description: patch.description ?? cur.description, updatedAt: new Date() })
      .where(eq(workspaces.id, cur.id))
      .returning();
    return { result: { workspace: workspaceView(row) }, targetId: cur.id, detail: { slug, fields: Object.keys(patch) } };
  });
}

/**
 * Soft-deletes an empty workspace. One that still has live servers, or keys limited
 * to it, is refused: deleting it would strand them (checked in the write's
 * transaction, which is serialised per org, so a server cannot slip in meanwhile).
 */
export async function deleteWorkspace(db: Db, p: Principal, ref: AssetRef) {
  return write(db, p, "workspaces.delete", "workspace", async (tx) => {
    const cur = await getWorkspace(tx, p, ref);
    if (cur.slug === DEFAULT_WORKSPACE_SLUG) {
      throw conflict(`The default workspace cannot be deleted: servers created without a workspaceId go to it`);
    }
    const [{ n: liveServers }] = await tx
      .select({ n: count() })
      .from(servers)
      .where(and(eq(servers.workspaceId, cur.id), isNull(servers.deletedAt)));
    const [{ n: liveKeys }] = await tx
      .select({ n: count() })
      .from(apiKeys)
      .where(and(eq(apiKeys.workspaceId, cur.id), isNull(apiKeys.revokedAt)));
    const nServers = Number(liveServers);
    const nKeys = Number(liveKeys);
    if (nServers || nKeys) {
      const still = [
        nServers ? `${nServers} live server${nServers === 1 ? "" : "s"}` : "",
        nKeys ? `${nKeys} API key${nKeys === 1 ? "" : "s"} limited to it` : "",
      ].filter(Boolean);
      const todo = [nServers ? "delete its servers (dwizi.mcp.delete)" : "", nKeys ? "revoke its keys (dwizi.keys.revoke)" : ""].filter(Boolean);
      throw conflict(`Workspace "${cur.slug}" still has ${still.join(" and ")}; ${todo.join(" and ")} first, then delete it`, {
        servers: nServers,
        keys: nKeys,
      });
    }
    await tx.update(workspaces).set({ deletedAt: new Date() }).where(eq(workspaces.id, cur.id));
    return { result: { deleted: true, id: cur.id, slug: cur.slug }, targetId: cur.id, detail: { slug: cur.slug } };
  });
}
