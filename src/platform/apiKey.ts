/**
 * API keys: `dwz_live_…`, stored as SHA-256, shown once, checked on every request.
 */
import { and, desc, eq, isNull } from "drizzle-orm";
import { apiKeys, orgs, type RateLimits } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import type { Principal } from "./principal.ts";
import { hashToken, looksLikeApiKey, newApiKey, newId } from "./token.ts";

/** A key as lists show it: never the secret, only its prefix. */
export interface ApiKeyView {
  keyId: string;
  name: string | null;
  prefix: string;
  scopes: string[];
  rate: RateLimits | null;
  workspaceId: string | null;
  createdAt: string;
  rotatedAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

function view(r: typeof apiKeys.$inferSelect): ApiKeyView {
  return {
    keyId: r.id,
    name: r.name,
    prefix: r.prefix,
    scopes: r.scopes,
    rate: r.rate,
    workspaceId: r.workspaceId,
    createdAt: r.createdAt.toISOString(),
    rotatedAt: r.rotatedAt?.toISOString() ?? null,
    revokedAt: r.revokedAt?.toISOString() ?? null,
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
  };
}

const prefixOf = (key: string) => `${key.slice(0, 13)}…`;

/** What a new key needs. */
export interface NewKey {
  orgId: string;
  scopes: string[];
  name?: string | null;
  rate?: RateLimits | null;
  workspaceId?: string | null;
  createdBy?: string | null;
  /** An operator-provided key (DZX_ADMIN_KEY); otherwise one is generated. */
  key?: string;
}

/** Inserts a key and returns its secret (the only time it exists in clear). */
export async function insertKey(db: Db, input: NewKey): Promise<{ key: string; keyId: string; scopes: string[] }> {
  const key = input.key ?? newApiKey();
  const keyId = newId();
  await db.insert(apiKeys).values({
    id: keyId,
    orgId: input.orgId,
    workspaceId: input.workspaceId ?? null,
    name: input.name ?? null,
    prefix: prefixOf(key),
    hash: hashToken(key),
    scopes: input.scopes,
    rate: input.rate ?? null,
    createdBy: input.createdBy ?? null,
  });
  return { key, keyId, scopes: input.scopes };
}

/** Resolves a presented key to its principal; null when unknown or revoked. */
export async function authenticate(db: Db, key: string): Promise<Principal | null> {
  if (!looksLikeApiKey(key)) return null;
  const [row] = await db
    .select({ key: apiKeys, orgName: orgs.name, orgLimits: orgs.limits })
    .from(apiKeys)
    .innerJoin(orgs, eq(orgs.id, apiKeys.orgId))
    .where(and(eq(apiKeys.hash, hashToken(key)), isNull(apiKeys.revokedAt)));
  if (!row) return null;
  return {
    keyId: row.key.id,
    orgId: row.key.orgId,
    orgName: row.orgName,
    scopes: row.key.scopes,
    workspaceId: row.key.workspaceId,
    keyRate: row.key.rate,
    orgLimits: row.orgLimits,
  };
}

/** Keys of an org (of one workspace, when given), newest first. */
export async function listKeys(db: Db, orgId: string, workspaceId?: string | null): Promise<ApiKeyView[]> {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.orgId, orgId), workspaceId ? eq(apiKeys.workspaceId, workspaceId) : undefined))
    .orderBy(desc(apiKeys.createdAt));
  return rows.map(view);
}

/** A live key of the org, or null. */
export async function findKey(db: Db, orgId: string, keyId: string): Promise<ApiKeyView | null> {
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.orgId, orgId), eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)));
  return row ? view(row) : null;
}

/** Marks a key revoked; it fails on the very next request. */
export async function revokeKey(db: Db, orgId: string, keyId: string): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.orgId, orgId), eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}

/** Replaces a key's secret in place (same id and scopes); the old secret stops working at once. */
export async function rotateKey(db: Db, orgId: string, keyId: string): Promise<string | null> {
  const key = newApiKey();
  const rows = await db
    .update(apiKeys)
    .set({ hash: hashToken(key), prefix: prefixOf(key), rotatedAt: new Date() })
    .where(and(eq(apiKeys.orgId, orgId), eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return rows.length ? key : null;
}

/** Records use, best effort and off the caller's path. */
export function touchKey(db: Db, keyId: string): void {
  db.update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, keyId)).catch(() => {});
}
