/**
 * End-user setup links (issue 17.7, seed 002): the missing-secret error of an
 * `endUserId` server carries `/setup/<token>`, where that end user enters the values.
 * The token is the capability, so it names everything it allows (org, end user,
 * server, secret names) and when it stops: `<payload>.<HMAC-SHA256>`, base64url,
 * under a key derived from DZX_SECRET_KEY, so every process of a deployment opens it.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import { servers } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";

/** What a setup link lets its holder do: set these secrets of this end user. */
export interface SetupGrant {
  orgId: string;
  endUserId: string;
  serverId: string;
  /** Secret names (as stored), at least one. */
  names: string[];
  /** When the link stops working, epoch ms. */
  expiresAt: number;
}

/** Why a token does not open. */
export type SetupLinkProblem = "invalid" | "expired";

const b64 = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/** Signs and opens setup tokens; `now` is the clock (tests and callers share the process's). */
export class SetupLinks {
  constructor(
    private readonly key: Buffer,
    /** How long a new link is valid. */
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private mac(payload: string): Buffer {
    return createHmac("sha256", this.key).update(payload).digest();
  }

  /** A token granting `names` of one end user on one server, valid for ttlMs from now. */
  sign(grant: Omit<SetupGrant, "expiresAt">): string {
    const full: SetupGrant = { ...grant, expiresAt: this.now() + this.ttlMs };
    const payload = b64(JSON.stringify([full.orgId, full.endUserId, full.serverId, full.names, full.expiresAt]));
    return `${payload}.${b64(this.mac(payload))}`;
  }

  /** The grant a token carries, or why it does not open (tampered, cut short, or past its time). */
  open(token: string): SetupGrant | { problem: SetupLinkProblem } {
    const dot = token.indexOf(".");
    if (dot <= 0 || token.length > 8192) return { problem: "invalid" };
    const payload = token.slice(0, dot);
    const sig = Buffer.from(token.slice(dot + 1), "base64url");
    const want = this.mac(payload);
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) return { problem: "invalid" };
    let fields: unknown;
    try {
      fields = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      return { problem: "invalid" };
    }
    if (!Array.isArray(fields) || fields.length !== 5) return { problem: "invalid" };
    const [orgId, endUserId, serverId, names, expiresAt] = fields as [string, string, string, string[], number];
    if (this.now() >= expiresAt) return { problem: "expired" };
    return { orgId, endUserId, serverId, names, expiresAt };
  }
}

/** How long a link lasts, in words for messages ("24 h", "90 min", "5 s"). */
export function lifetimeText(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}

/** The deployment's setup links: the key every process derives the same from DZX_SECRET_KEY. */
export function setupLinksOf(box: { derive(purpose: string): Buffer }, ttlMs: number): SetupLinks {
  return new SetupLinks(box.derive("end-user setup link"), ttlMs);
}

/** The server a grant is for, by name, while it is live and still serves that end user; else undefined (the link no longer applies). */
export async function grantServer(db: Db, grant: SetupGrant): Promise<{ name: string } | undefined> {
  const [row] = await db
    .select({ name: servers.name, endUserId: servers.endUserId })
    .from(servers)
    .where(and(eq(servers.id, grant.serverId), eq(servers.orgId, grant.orgId), isNull(servers.deletedAt)))
    .limit(1);
  return row && row.endUserId === grant.endUserId ? { name: row.name } : undefined;
}
