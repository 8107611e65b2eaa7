/**
 * Input partials (seeds 001/002): saved presets of argument values attached to a
 * server's tools. Keys listed in `enforced` vanish from the published input
 * schema and always win over what the client sends.
 */
import { Type, type Static } from "@sinclair/typebox";
import { and, asc, eq, isNull } from "drizzle-orm";
import { partials } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { ensureSlugFree, ensureUnderCap, findLive, softDelete, write, type AssetRef } from "./assetTable.ts";
import { invalid } from "./domainError.ts";
import type { Principal } from "./principal.ts";
import { resolveSlug, SlugField } from "./slug.ts";
import { newId } from "./token.ts";

/** The fields a partial is created with: `{partial: {name, slug?, values, enforced?}}`. */
export const PartialInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  slug: Type.Optional(SlugField),
  values: Type.Record(Type.String(), Type.Unknown(), { description: "Argument values the partial supplies" }),
  enforced: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 100, description: "Keys of values that are hidden from the schema and always win" })),
});
export type PartialInput = Static<typeof PartialInput>;

/** A partial patch: any subset of the create fields. */
export const PartialPatch = Type.Partial(PartialInput);
export type PartialPatch = Static<typeof PartialPatch>;

type PartialRow = typeof partials.$inferSelect;

/** A partial as the API shows it. */
export function partialView(r: PartialRow) {
  return {
    id: r.id,
    orgId: r.orgId,
    slug: r.slug,
    name: r.name,
    values: r.values,
    enforced: r.enforced,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

/** An enforced key needs a value to enforce. */
function checkEnforced(values: Record<string, unknown>, enforced: string[]): void {
  for (const k of enforced) if (!(k in values)) throw invalid(`enforced key "${k}" has no entry in "values": an enforced key must have a value`);
}

/** Live partials of the org, oldest first. */
export function listPartials(db: Db, orgId: string): Promise<PartialRow[]> {
  return db.select().from(partials).where(and(eq(partials.orgId, orgId), isNull(partials.deletedAt))).orderBy(asc(partials.createdAt), asc(partials.id));
}

/** One live partial by id or slug. */
export function getPartial(db: Db, orgId: string, ref: AssetRef): Promise<PartialRow> {
  return findLive(db, partials, orgId, ref);
}

/** Creates a partial. */
export async function createPartial(db: Db, p: Principal, input: PartialInput) {
  const slug = resolveSlug(input.slug, input.name, "partial");
  const enforced = [...new Set(input.enforced ?? [])];
  checkEnforced(input.values, enforced);
  return write(db, p, "partials.create", "partial", async (tx) => {
    await ensureUnderCap(tx, partials, p);
    await ensureSlugFree(tx, partials, p.orgId, slug);
    const [row] = await tx
      .insert(partials)
      .values({ id: newId(), orgId: p.orgId, slug, name: input.name, values: input.values, enforced, createdBy: p.keyId })
      .returning();
    return { result: { partial: partialView(row) }, targetId: row.id, detail: { slug } };
  });
}

/** Applies a patch to a partial. */
export async function updatePartial(db: Db, p: Principal, ref: AssetRef, patch: PartialPatch) {
  return write(db, p, "partials.update", "partial", async (tx) => {
    const cur = await findLive(tx, partials, p.orgId, ref);
    const next = {
      name: patch.name ?? cur.name,
      slug: patch.slug === undefined ? cur.slug : resolveSlug(patch.slug, cur.name, "partial"),
      values: patch.values ?? cur.values,
      enforced: patch.enforced ? [...new Set(patch.enforced)] : cur.enforced,
    };
    checkEnforced(next.values, next.enforced);
    if (next.slug !== cur.slug) await ensureSlugFree(tx, partials, p.orgId, next.slug, cur.id);
    const [row] = await tx.update(partials).set({ ...next, updatedAt: new Date() }).where(eq(partials.id, cur.id)).returning();
    return { result: { partial: partialView(row) }, targetId: row.id, detail: { slug: row.slug, fields: Object.keys(patch) } };
  });
}

/** Soft-deletes a partial; servers stop applying it. */
export function deletePartial(db: Db, p: Principal, ref: AssetRef) {
  return softDelete(db, partials, p, "partials.delete", ref);
}
