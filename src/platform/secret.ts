/**
 * Write-only secrets: encrypted at rest, listed by name with a masked placeholder,
 * resolved in clear only for a tool that declares them.
 */
import { and, asc, eq, inArray } from "drizzle-orm";
import { secrets } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { write } from "./assetTable.ts";
import { recordAudit } from "./audit.ts";
import { notFound } from "./domainError.ts";
import type { Principal } from "./principal.ts";
import { mask, type SecretBox } from "./secretBox.ts";
import { newId } from "./token.ts";

/** Secret names are environment-variable-like. */
export const SECRET_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]{0,127}$";

/** Creates or replaces a secret (org-wide, or for one end user). */
export async function setSecret(db: Db, box: SecretBox, p: Principal, name: string, value: string, endUserId?: string) {
  const ciphertext = box.seal(value);
  const user = endUserId ?? "";
  return write(db, p, "secrets.set", "secret", async (tx) => {
    const [row] = await tx
      .insert(secrets)
      .values({ id: newId(), orgId: p.orgId, name, endUserId: user, ciphertext })
      .onConflictDoUpdate({ target: [secrets.orgId, secrets.name, secrets.endUserId], set: { ciphertext, updatedAt: new Date() } })
      .returning();
    const out = { name, ...(user ? { endUserId: user } : {}), masked: mask(value), updatedAt: row.updatedAt.toISOString() };
    return { result: { secret: out }, targetId: row.id, detail: { name, endUserId: user || null } };
  });
}

/**
 * Sets one end user's secrets from the setup page (issue 17.7): no API key acted, so the
 * audit entry has no actor and says the setup link of `serverId` did. Values are sealed like any secret.
 */
export async function setEndUserSecrets(db: Db, box: SecretBox, orgId: string, endUserId: string, serverId: string, values: Record<string, string>): Promise<void> {
  const sealed = Object.entries(values).map(([name, value]) => ({ name, ciphertext: box.seal(value) }));
  await db.transaction(async (tx) => {
    for (const { name, ciphertext } of sealed) {
      const [row] = await tx
        .insert(secrets)
        .values({ id: newId(), orgId, name, endUserId, ciphertext })
        .onConflictDoUpdate({ target: [secrets.orgId, secrets.name, secrets.endUserId], set: { ciphertext, updatedAt: new Date() } })
        .returning({ id: secrets.id });
      await recordAudit(tx as unknown as Db, { orgId, actorKeyId: null, operation: "secrets.set", targetType: "secret", targetId: row.id, detail: { name, endUserId, via: "setup link", serverId } });
    }
  });
}

/** A sealed value in clear, or undefined when it was sealed under another key (then it counts as missing). */
export function openSealed(box: SecretBox, sealed: string): string | undefined {
  try {
    return box.open(sealed);
  } catch {
    return undefined;
  }
}

/** The placeholder a list shows for a sealed value; fully masked when it was sealed under another key. */
export function maskSealed(box: SecretBox, sealed: string): string {
  const plain = openSealed(box, sealed);
  return plain === undefined ? "••••" : mask(plain);
}

/** Names, end users and masked placeholders; never values. */
export async function listSecrets(db: Db, box: SecretBox, orgId: string) {
  const rows = await db.select().from(secrets).where(eq(secrets.orgId, orgId)).orderBy(asc(secrets.name), asc(secrets.endUserId));
  return rows.map((r) => ({ name: r.name, ...(r.endUserId ? { endUserId: r.endUserId } : {}), masked: maskSealed(box, r.ciphertext), updatedAt: r.updatedAt.toISOString() }));
}

/** Clear values of the named secrets: the end user's value first, then the org-wide one. Absent names are left out. */
export async function resolveSecrets(db: Db, box: SecretBox, orgId: string, names: string[], endUserId?: string | null): Promise<Record<string, string>> {
  if (!names.length) return {};
  const rows = await db
    .select()
    .from(secrets)
    .where(and(eq(secrets.orgId, orgId), inArray(secrets.name, names), inArray(secrets.endUserId, endUserId ? ["", endUserId] : [""])));
  const out: Record<string, string> = {};
  for (const r of rows.sort((a, b) => a.endUserId.length - b.endUserId.length)) {
    const plain = openSealed(box, r.ciphertext);
    if (plain !== undefined) out[r.name] = plain;
  }
  return out;
}

/** Deletes one secret value. */
export async function deleteSecret(db: Db, p: Principal, name: string, endUserId?: string) {
  const user = endUserId ?? "";
  return write(db, p, "secrets.delete", "secret", async (tx) => {
    const rows = await tx
      .delete(secrets)
      .where(and(eq(secrets.orgId, p.orgId), eq(secrets.name, name), eq(secrets.endUserId, user)))
      .returning({ id: secrets.id });
    if (!rows.length) throw notFound("secret", user ? `${name} (end user ${user})` : name);
    return { result: { deleted: true, name, ...(user ? { endUserId: user } : {}) }, targetId: rows[0].id, detail: { name, endUserId: user || null } };
  });
}
