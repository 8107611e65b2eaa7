/**
 * Usage figures computed from the call log: totals per window, per server and
 * per tool, and day buckets for charts (seed 003 "usage timeseries").
 */
import { and, count, gte, sql } from "drizzle-orm";
import { calls } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { inCallScope, type CallScope } from "./callLog.ts";

const DAY_MS = 86_400_000;

/** Totals of the org's calls since `since`, within `scope`. */
export async function usageTotals(db: Db, orgId: string, since: Date, scope: CallScope = {}) {
  const where = and(inCallScope(orgId, scope), gte(calls.at, since));
  const errors = sql<number>`count(*) filter (where ${calls.status} <> 'ok')`;
  const avg = sql<number>`coalesce(avg(${calls.durationMs}), 0)`;
  const bytes = sql<number>`coalesce(sum(${calls.bytes}), 0)`;
  const [total] = await db.select({ calls: count(), errors, avgDurationMs: avg, bytes }).from(calls).where(where);
  const byTool = await db
    .select({ serverId: calls.serverId, toolName: calls.toolName, calls: count(), errors })
    .from(calls)
    .where(where)
    .groupBy(calls.serverId, calls.toolName)
    .orderBy(sql`count(*) desc`)
    .limit(100);
  return {
    since: since.toISOString(),
    calls: Number(total.calls),
    errors: Number(total.errors),
    avgDurationMs: Math.round(Number(total.avgDurationMs) * 10) / 10,
    bytes: Number(total.bytes),
    byTool: byTool.map((r) => ({ serverId: r.serverId, toolName: r.toolName, calls: Number(r.calls), errors: Number(r.errors) })),
  };
}

/** One bucket per UTC day for the last `days` days (oldest first), zero-filled. */
export async function usageTimeseries(db: Db, orgId: string, days: number, now = new Date(), scope: CallScope = {}) {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const since = new Date(today - (days - 1) * DAY_MS);
  const day = sql<string>`to_char(date_trunc('day', ${calls.at} at time zone 'UTC'), 'YYYY-MM-DD')`;
  const rows = await db
    .select({ day, calls: count(), errors: sql<number>`count(*) filter (where ${calls.status} <> 'ok')` })
    .from(calls)
    .where(and(inCallScope(orgId, scope), gte(calls.at, since)))
    .groupBy(day);
  const byDay = new Map(rows.map((r) => [r.day, r]));
  return Array.from({ length: days }, (_, i) => {
    const d = new Date(since.getTime() + i * DAY_MS).toISOString().slice(0, 10);
    const r = byDay.get(d);
    return { day: d, calls: Number(r?.calls ?? 0), errors: Number(r?.errors ?? 0) };
  });
}
