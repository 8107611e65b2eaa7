/**
 * Resources: static text or base64 blobs published under a URI.
 */
import { Type, type Static } from "@sinclair/typebox";
import { and, asc, eq, isNull } from "drizzle-orm";
import { resources } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { ensureSlugFree, ensureUnderCap, findLive, softDelete, write, type AssetRef } from "./assetTable.ts";
import { invalid } from "./domainError.ts";
import type { Principal } from "./principal.ts";
import { resolveSlug } from "./slug.ts";
import { newId } from "./token.ts";

/** The fields a resource is created with (seed 000 `{resource:{...}}`). */
export const ResourceInput = Type.Object({
  uri: Type.String({ minLength: 1, maxLength: 2048, description: "e.g. resource://docs/welcome" }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  slug: Type.Optional(Type.String({ description: "Unique per org; derived from name when omitted" })),
  description: Type.Optional(Type.String({ maxLength: 4000 })),
  mimeType: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  text: Type.Optional(Type.String()),
  blob: Type.Optional(Type.String({ description: "base64" })),
});
export type ResourceInput = Static<typeof ResourceInput>;

/** A resource patch: any subset of the create fields (setting text clears blob and vice versa). */
export const ResourcePatch = Type.Partial(ResourceInput);
export type ResourcePatch = Static<typeof ResourcePatch>;

type ResourceRow = typeof resources.$inferSelect;

/** A resource as the API shows it. */
export function resourceView(r: ResourceRow) {
  return {
    id: r.id,
    orgId: r.orgId,
    slug: r.slug,
    uri: r.uri,
    name: r.name,
    description: r.description,
    mimeType: r.mimeType,
    ...(r.blob !== null ? { blob: r.blob } : { text: r.text ?? "" }),
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

const URI_RE = /^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

function checkContent(r: { uri: string; text?: string | null; blob?: string | null }): void {
  if (!URI_RE.test(r.uri)) throw invalid(`Invalid resource uri "${r.uri}": use scheme:path, e.g. resource://docs/welcome`);
  const hasText = r.text != null;
  const hasBlob = r.blob != null;
  if (hasText === hasBlob) throw invalid(`A resource needs exactly one of "text" or "blob" (base64)`);
  if (hasBlob && (r.blob!.length % 4 !== 0 || !BASE64_RE.test(r.blob!))) throw invalid(`"blob" must be base64`);
}

/** Live resources of the org, oldest first. */
export async function listResources(db: Db, orgId: string): Promise<ResourceRow[]> {
  return db
    .select()
    .from(resources)
    .where(and(eq(resources.orgId, orgId), isNull(resources.deletedAt)))
    .orderBy(asc(resources.createdAt), asc(resources.id));
}

/** One live resource by id or slug. */
export function getResource(db: Db, orgId: string, ref: AssetRef): Promise<ResourceRow> {
  return findLive(db, resources, orgId, ref);
}

/** Creates a resource after checking its uri, content, slug and the org's cap. */
export async function createResource(db: Db, p: Principal, input: ResourceInput) {
  const slug = resolveSlug(input.slug, input.name, "resource");
  checkContent(input);
  return write(db, p, "resources.create", "resource", async (tx) => {
    await ensureUnderCap(tx, resources, p);
    await ensureSlugFree(tx, resources, p.orgId, slug);
    const [row] = await tx
      .insert(resources)
      .values({
        id: newId(),
        orgId: p.orgId,
        slug,
        uri: input.uri,
        name: input.name,
        description: input.description ?? "",
        mimeType: input.mimeType ?? (input.blob != null ? "application/octet-stream" : "text/plain"),
        text: input.text ?? null,
        blob: input.blob ?? null,
        createdBy: p.keyId,
      })
      .returning();
    return { result: { resource: resourceView(row) }, targetId: row.id, detail: { slug, uri: row.uri } };
  });
}

/** Applies a patch to a resource. */
export async function updateResource(db: Db, p: Principal, ref: AssetRef, patch: ResourcePatch) {
  return write(db, p, "resources.update", "resource", async (tx) => {
    const cur = await findLive(tx, resources, p.orgId, ref);
    if (patch.text !== undefined && patch.blob !== undefined) throw invalid(`A resource needs exactly one of "text" or "blob" (base64)`);
    const content =
      patch.text !== undefined ? { text: patch.text, blob: null } : patch.blob !== undefined ? { text: null, blob: patch.blob } : { text: cur.text, blob: cur.blob };
    const next = {
      uri: patch.uri ?? cur.uri,
      name: patch.name ?? cur.name,
      slug: patch.slug === undefined ? cur.slug : resolveSlug(patch.slug, cur.name, "resource"),
      description: patch.description ?? cur.description,
      mimeType: patch.mimeType ?? cur.mimeType,
      ...content,
    };
    checkContent(next);
    if (next.slug !== cur.slug) await ensureSlugFree(tx, resources, p.orgId, next.slug, cur.id);
    const [row] = await tx.update(resources).set({ ...next, updatedAt: new Date() }).where(eq(resources.id, cur.id)).returning();
    return { result: { resource: resourceView(row) }, targetId: row.id, detail: { slug: row.slug, fields: Object.keys(patch) } };
  });
}

/** Soft-deletes a resource. */
export function deleteResource(db: Db, p: Principal, ref: AssetRef) {
  return softDelete(db, resources, p, "resources.delete", ref);
}
