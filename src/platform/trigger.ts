/**
 * TRIGGER attachments (seed 001 `toolType`, issue 17.6): a tool fed by an inbound
 * webhook rather than called by a client. Here: its webhook secret's issue and
 * rotation, what a webhook address opens, and the bounded history of the events its
 * tool kept — the newest EVENT_HISTORY.max per trigger, none older than
 * EVENT_HISTORY.days, pruned as each event is kept and on the retention schedule.
 */
import { and, desc, eq, gte, inArray, isNull, lt, or } from "drizzle-orm";
import { servers, serverTools, tools, triggerEvents } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { DomainError } from "./domainError.ts";
import type { Rate } from "./limits.ts";
import type { SecretBox } from "./secretBox.ts";
import { newWebhookSecret } from "./webhookSecret.ts";

/** How many events a trigger keeps, and for how long. */
export const EVENT_HISTORY = { max: 1000, days: 7 };

/** How many events a read of a trigger's resource returns, newest first. */
export const EVENTS_READ = 100;

/** Each trigger's own webhook rate: 60 a minute, bursts of 20 per 10 s (in the shared rate store). */
export const TRIGGER_RATE: Rate = { burst: 20, burstWindowSec: 10, perMinute: 60, perHour: 3600 };

/** The rate window id of a trigger, apart from every API key's. */
export const triggerWindow = (attachmentId: string) => `trigger:${attachmentId}`;

/** The resource a trigger's events are published as. */
export const triggerUri = (exposedName: string) => `trigger://${exposedName}/events`;

/** The webhook path of a trigger attachment. */
export const webhookPath = (attachmentId: string) => `/hooks/${attachmentId}`;

/** The oldest moment an event may have been received and still be kept. */
const keptSince = (now: Date) => new Date(now.getTime() - EVENT_HISTORY.days * 86_400_000);

/**
 * Issues a new webhook secret for a TRIGGER attachment (at attach time and on rotation):
 * the plain secret, to show once; the old one stops working at once.
 */
export async function issueWebhookSecret(db: Db, box: SecretBox, attachment: { id: string; toolType: string; exposedName: string }): Promise<string> {
  if (attachment.toolType !== "TRIGGER") {
    throw new DomainError("VALIDATION_ERROR", `"${attachment.exposedName}" is attached as an ACTION, which has no webhook; attach the tool with toolType "TRIGGER" for one`);
  }
  const secret = newWebhookSecret();
  await db.update(serverTools).set({ webhookSecret: box.seal(secret), updatedAt: new Date() }).where(eq(serverTools.id, attachment.id));
  return secret;
}

/** What a webhook address opens: a live attachment of a live server with a live tool, with its type and sealed secret. */
export interface TriggerTarget {
  attachmentId: string;
  serverId: string;
  orgId: string;
  toolType: "ACTION" | "TRIGGER";
  sealedSecret: string | null;
}

/** The attachment a webhook path names, read fresh (a rotated secret counts at once), or undefined. */
export async function triggerTarget(db: Db, attachmentId: string): Promise<TriggerTarget | undefined> {
  const [row] = await db
    .select({ serverId: serverTools.serverId, orgId: servers.orgId, toolType: serverTools.toolType, sealedSecret: serverTools.webhookSecret })
    .from(serverTools)
    .innerJoin(servers, eq(servers.id, serverTools.serverId))
    .innerJoin(tools, eq(tools.id, serverTools.toolId))
    .where(and(eq(serverTools.id, attachmentId), isNull(servers.deletedAt), isNull(tools.deletedAt)))
    .limit(1);
  return row && { attachmentId, ...row };
}

/** One kept event. */
export interface TriggerEvent {
  id: string;
  receivedAt: string;
  event: unknown;
}

/** Keeps one event, then prunes the trigger's history to its bounds. */
export async function keepEvent(db: Db, row: { id: string; orgId: string; serverId: string; attachmentId: string; receivedAt: Date; event: unknown }): Promise<void> {
  await db.insert(triggerEvents).values(row);
  const beyond = db
    .select({ id: triggerEvents.id })
    .from(triggerEvents)
    .where(eq(triggerEvents.attachmentId, row.attachmentId))
    .orderBy(desc(triggerEvents.receivedAt), desc(triggerEvents.id))
    .offset(EVENT_HISTORY.max);
  await db
    .delete(triggerEvents)
    .where(and(eq(triggerEvents.attachmentId, row.attachmentId), or(lt(triggerEvents.receivedAt, keptSince(new Date())), inArray(triggerEvents.id, beyond))));
}

/** A trigger's recent events, newest first. */
export async function recentEvents(db: Db, attachmentId: string, limit = EVENTS_READ, now = new Date()): Promise<TriggerEvent[]> {
  const rows = await db
    .select({ id: triggerEvents.id, receivedAt: triggerEvents.receivedAt, event: triggerEvents.event })
    .from(triggerEvents)
    .where(and(eq(triggerEvents.attachmentId, attachmentId), gte(triggerEvents.receivedAt, keptSince(now))))
    .orderBy(desc(triggerEvents.receivedAt), desc(triggerEvents.id))
    .limit(limit);
  return rows.map((r) => ({ id: r.id, receivedAt: r.receivedAt.toISOString(), event: r.event }));
}

/** Forgets the events of detached triggers. */
export async function dropEvents(db: Db, attachmentIds: string[]): Promise<void> {
  if (attachmentIds.length) await db.delete(triggerEvents).where(inArray(triggerEvents.attachmentId, attachmentIds));
}

/** Prunes every trigger's events past the age bound (the retention schedule: triggers that stopped receiving). */
export async function pruneTriggerEvents(db: Db, now = new Date()): Promise<void> {
  await db.delete(triggerEvents).where(lt(triggerEvents.receivedAt, keptSince(now)));
}
