/**
 * The org's notifications (`dwizi.notifications.list`): what needs the org's
 * attention, read off the call log rather than kept in a store of their own, so
 * they can never disagree with it. One per server and tool whose calls failed
 * in the window: `missing_secret` when the last failure was a secret that is not
 * set (it names the secret and how to set it), `tool_failing` otherwise.
 */
import { and, count, desc, eq, gte, max, min, sql } from "drizzle-orm";
import { calls, servers } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { inCallScope, type CallScope } from "./callLog.ts";

/** One notification, most recent first in a list. */
export interface Notification {
  /** Stable for the same kind, server and tool: a client can tell what it has already shown. */
  id: string;
  kind: "missing_secret" | "tool_failing";
  message: string;
  server: { id: string; slug: string | null; name: string | null };
  toolName: string;
  /** Failed calls in the window. */
  failures: number;
  firstAt: string;
  lastAt: string;
  lastError: string;
  /** The secret to set (missing_secret only). */
  secret?: string;
}

const MISSING_SECRET = /^Missing secret "([^"]+)"/;

/** The org's notifications for failures at or after `since` within `scope`, most recent first. */
export async function listNotifications(db: Db, orgId: string, opts: CallScope & { since: Date; limit: number }): Promise<Notification[]> {
  const lastAt = max(calls.at);
  const rows = await db
    .select({
      serverId: calls.serverId,
      slug: servers.slug,
      name: servers.name,
      toolName: calls.toolName,
      failures: count(),
      firstAt: min(calls.at),
      lastAt,
      lastError: sql<string | null>`(array_agg(${calls.error} order by ${calls.at} desc))[1]`,
    })
    .from(calls)
    // the server may have been deleted since: its calls still tell what went wrong
    .leftJoin(servers, and(eq(servers.id, calls.serverId), eq(servers.orgId, orgId)))
    .where(and(inCallScope(orgId, opts), eq(calls.status, "error"), gte(calls.at, opts.since)))
    .groupBy(calls.serverId, servers.slug, servers.name, calls.toolName)
    .orderBy(desc(lastAt), calls.toolName)
    .limit(opts.limit);
  return rows.map((r) => {
    const lastError = r.lastError ?? "The call failed";
    const secret = MISSING_SECRET.exec(lastError)?.[1];
    const where = `on server "${r.slug ?? r.serverId}"`;
    const failures = Number(r.failures);
    const times = failures === 1 ? "once" : `${failures} times`;
    const kind = secret ? ("missing_secret" as const) : ("tool_failing" as const);
    return {
      id: `${kind}:${r.serverId}:${r.toolName}`,
      kind,
      message: secret ? `Tool "${r.toolName}" ${where} cannot run: ${lastError}` : `Tool "${r.toolName}" ${where} failed ${times}; last error: ${lastError}`,
      server: { id: r.serverId, slug: r.slug, name: r.name },
      toolName: r.toolName,
      failures,
      // a Date or a timestamp string, whichever the driver hands back
      firstAt: new Date(r.firstAt ?? 0).toISOString(),
      lastAt: new Date(r.lastAt ?? 0).toISOString(),
      lastError,
      ...(secret ? { secret } : {}),
    };
  });
}
