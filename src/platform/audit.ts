/**
 * The audit log: every write records who acted, what, on which target and when,
 * in the same transaction as the write itself.
 */
import { and, desc, eq, lt } from "drizzle-orm";
import { auditLog } from "../../db/schema.ts";
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

/** Most recent first; `before` is an ISO time to page backwards from. */
export async function listAudit(db: Db, orgId: string, opts: { limit: number; before?: string }) {
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.orgId, orgId), opts.before ? lt(auditLog.at, new Date(opts.before)) : undefined))
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
