/**
 * What tools, resources, prompts and servers share: org-scoped rows with a slug,
 * soft deletes, caps, and reference by id or slug. Another org's rows are simply
 * never matched, so they read as not found (no existence oracle).
 */
import { and, count, eq, isNull, or, sql } from "drizzle-orm";
import { orgs, partials, prompts, resources, servers, tools, workspaces, type AssetCaps } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { recordAudit } from "./audit.ts";
import { DomainError, invalid, notFound } from "./domainError.ts";
import { capFor } from "./limits.ts";
import { isUniqueViolation } from "./pgError.ts";
import type { Principal } from "./principal.ts";

/** The tables of org-owned, slugged, soft-deletable assets. */
export type AssetTable = typeof tools | typeof resources | typeof prompts | typeof servers | typeof partials | typeof workspaces;

/** How each table is named to users and which cap applies (workspaces have none: they only group servers, which do). */
export const assetKinds = new Map<AssetTable, { kind: string; cap?: keyof AssetCaps }>([
  [tools, { kind: "tool", cap: "tools" }],
  [resources, { kind: "resource", cap: "resources" }],
  [prompts, { kind: "prompt", cap: "prompts" }],
  [servers, { kind: "server", cap: "servers" }],
  [partials, { kind: "partial", cap: "partials" }],
  [workspaces, { kind: "workspace" }],
]);

/** `{id}` or `{slug}` (either may hold the other, for forgiving clients). */
export interface AssetRef {
  id?: string;
  slug?: string;
}

/** The single reference string of a ref, or a VALIDATION_ERROR when neither is given. */
export function refOf(ref: AssetRef, kind: string): string {
  const r = ref.id ?? ref.slug;
  if (typeof r !== "string" || r === "") throw invalid(`Pass the ${kind}'s "id" or "slug"`);
  return r;
}

/** A live row of the org by id or slug, or NOT_FOUND. */
export async function findLive<T extends AssetTable>(db: Db, table: T, orgId: string, ref: AssetRef): Promise<T["$inferSelect"]> {
  const { kind } = assetKinds.get(table)!;
  const r = refOf(ref, kind);
  const t = table as typeof tools;
  const [row] = await db
    .select()
    .from(t)
    .where(and(eq(t.orgId, orgId), isNull(t.deletedAt), or(eq(t.id, r), eq(t.slug, r))))
    // a slug may equal another row's id: the field the caller named wins
    .orderBy(ref.id !== undefined ? sql`(${t.id} = ${r}) desc` : sql`(${t.slug} = ${r}) desc`)
    .limit(1);
  if (!row) throw notFound(kind, r);
  return row as T["$inferSelect"];
}

/** Live rows of the org whose ids are all in `ids`; NOT_FOUND names the first missing id. */
export async function findLiveMany<T extends AssetTable>(db: Db, table: T, orgId: string, ids: string[]): Promise<T["$inferSelect"][]> {
  const out: T["$inferSelect"][] = [];
  for (const id of ids) out.push(await findLive(db, table, orgId, { id }));
  return out;
}

/** How many live rows the org has. */
export async function countLive(db: Db, table: AssetTable, orgId: string): Promise<number> {
  const t = table as typeof tools;
  const [{ n }] = await db.select({ n: count() }).from(t).where(and(eq(t.orgId, orgId), isNull(t.deletedAt)));
  return Number(n);
}

/** Fails with DUPLICATE when a live row of the org already uses `slug` (other than `exceptId`). */
export async function ensureSlugFree(db: Db, table: AssetTable, orgId: string, slug: string, exceptId?: string): Promise<void> {
  const t = table as typeof tools;
  const [row] = await db
    .select({ id: t.id })
    .from(t)
    .where(and(eq(t.orgId, orgId), isNull(t.deletedAt), eq(t.slug, slug)))
    .limit(1);
  if (row && row.id !== exceptId) {
    throw new DomainError("DUPLICATE", `A ${assetKinds.get(table)!.kind} with slug "${slug}" already exists`);
  }
}

/** Fails with QUOTA_EXCEEDED when the org is at its cap for this table. */
export async function ensureUnderCap(db: Db, table: AssetTable, principal: Principal): Promise<void> {
  const { kind, cap } = assetKinds.get(table)!;
  if (!cap) return;
  const limit = capFor(principal.orgLimits, cap);
  if ((await countLive(db, table, principal.orgId)) >= limit) {
    throw new DomainError("QUOTA_EXCEEDED", `This org has reached its limit of ${limit} ${cap}; delete a ${kind} or ask the operator to raise the cap`, {
      limit,
    });
  }
}

/** What a write returns for the audit log besides its result. */
export interface Written<R> {
  result: R;
  targetId: string | null;
  detail?: Record<string, unknown>;
}

/**
 * Runs a write in one transaction, serialised per org (so caps hold under
 * concurrency), and records it in the audit log before committing.
 */
export async function write<R>(
  db: Db,
  principal: Principal,
  operation: string,
  targetType: string,
  fn: (tx: Db) => Promise<Written<R>>,
): Promise<R> {
  try {
    return await db.transaction(async (tx) => {
      await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, principal.orgId)).for("update");
      const w = await fn(tx as unknown as Db);
      await recordAudit(tx as unknown as Db, {
        orgId: principal.orgId,
        actorKeyId: principal.keyId,
        operation,
        targetType,
        targetId: w.targetId,
        detail: w.detail,
      });
      return w.result;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new DomainError("DUPLICATE", `This ${targetType} conflicts with an existing one (same slug or uri)`);
    throw err;
  }
}

/** Soft-deletes a live row: hidden from lists and gets, slug free again, history kept. */
export async function softDelete(db: Db, table: AssetTable, principal: Principal, operation: string, ref: AssetRef) {
  const { kind } = assetKinds.get(table)!;
  return write(db, principal, operation, kind, async (tx) => {
    const row = await findLive(tx, table, principal.orgId, ref);
    const t = table as typeof tools;
    await tx.update(t).set({ deletedAt: new Date() }).where(eq(t.id, row.id));
    return { result: { deleted: true, id: row.id, slug: row.slug }, targetId: row.id, detail: { slug: row.slug } };
  });
}
