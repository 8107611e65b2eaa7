/**
 * The audit log: every write records who acted, what, on which target and when,
 * in the same transaction as the write itself.
 */
import { and, desc, eq, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import { apiKeys, auditLog, servers } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { newId } from "./token.ts";

/** One audit entry to record. */
export interface AuditEntry {
  orgId: string;
  actorKeyId: string | null;
  operation: string;
  targetType: string;
  targetId: string | null;
  detail?: Record<string, unknown>;
}

/** Appends an entry; call it inside the write's transaction. */
export async function recordAudit(db: Db, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({ id: newId(), ...entry, detail: entry.detail ?? {} });
}

/**
 * What a workspace key may read of the audit log: what keys of its workspace did, and
 * what was done to that workspace, its servers and its keys.
 */
function ofWorkspace(workspaceId: string): SQL | undefined {
  const keysOf = sql`(select ${apiKeys.id} from ${apiKeys} where ${apiKeys.workspaceId} = ${workspaceId})`;
  const serversOf = sql`(select ${servers.id} from ${servers} where ${servers.workspaceId} = ${workspaceId})`;
  return or(
    inArray(auditLog.actorKeyId, keysOf),
    and(eq(auditLog.targetType, "server"), inArray(auditLog.targetId, serversOf)),
    and(eq(auditLog.targetType, "key"), inArray(auditLog.targetId, keysOf)),
    and(eq(auditLog.targetType, "workspace"), eq(auditLog.targetId, workspaceId)),
  );
}

/** Most recent first; `before` is an ISO time to page backwards from; a workspace narrows to its own entries. */
export async function listAudit(db: Db, orgId: string, opts: { limit: number; before?: string; workspaceId?: string | null }) {
  const rows = await db
    .select()
    .from(auditLog)
    .where(
      and(
        eq(auditLog.orgId, orgId),
        opts.before ? lt(auditLog.at, new Date(opts.before)) : undefined,
        opts.workspaceId ? ofWorkspace(opts.workspaceId) : undefined,
      ),
    )
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(opts.limit);
  return rows.map((r) => ({
    id: r.id,
    actorKeyId: r.actorKeyId,
    operation: r.operation,
    targetType: r.targetType,
    targetId: r.targetId,
    detail: r.detail,
    at: r.at.toISOString(),
  }));
}
