/**
 * Connections (issue 17.2, seeds 001/002): a named, org-level set of secret values for one
 * integration — a Slack bot's token, a Slack user's token. Values are write-only: each is
 * sealed like a secret, views show names with masked placeholders, and only a call of a tool
 * attached with the connection reads them in clear. An end user's connection (`endUserId`)
 * serves only that end user's calls.
 */
import { Type, type Static } from "@sinclair/typebox";
import { and, asc, eq, isNull, or, sql } from "drizzle-orm";
import { connections, servers, serverTools, tools } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { write } from "./assetTable.ts";
import { DomainError, invalid, notFound } from "./domainError.ts";
import type { Principal } from "./principal.ts";
import { maskSealed, openSealed, SECRET_NAME_PATTERN } from "./secret.ts";
import type { SecretBox } from "./secretBox.ts";
import { newId } from "./token.ts";
import { IntegrationField } from "./integration.ts";

const ValueName = Type.String({ pattern: SECRET_NAME_PATTERN, description: "A secret name the tool reads: letters, digits and _, not starting with a digit" });
const Value = Type.String({ minLength: 1, maxLength: 65536 });
const EndUser = Type.String({ minLength: 1, maxLength: 256, description: "The end user the connection belongs to; it then serves only their calls" });

/** The fields a connection is created with. */
export const ConnectionInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, description: "Unique among the org's (or the end user's) connections" }),
  integration: IntegrationField,
  values: Type.Record(ValueName, Value, { minProperties: 1, maxProperties: 64, additionalProperties: false, description: "Secret name → value; write-only, stored encrypted" }),
  endUserId: Type.Optional(EndUser),
});
export type ConnectionInput = Static<typeof ConnectionInput>;

/** A patch: a new name, and values to set (a string) or remove (null); unnamed values are kept. */
export const ConnectionPatch = Type.Object({
  name: Type.Optional(ConnectionInput.properties.name),
  values: Type.Optional(Type.Record(ValueName, Type.Union([Value, Type.Null()]), { maxProperties: 64, additionalProperties: false, description: "Secret name → new value, or null to remove it; others are kept" })),
});
export type ConnectionPatch = Static<typeof ConnectionPatch>;

/** `{id}` (its name is accepted too) or `{name, endUserId?}` of a connection. */
export const ConnectionRef = Type.Object({
  id: Type.Optional(Type.String({ minLength: 1, description: "The connection's id (its name is accepted too)" })),
  name: Type.Optional(Type.String({ minLength: 1, description: "The connection's name" })),
  endUserId: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: "Whose connection the name is (default: the org's own)" })),
});
export type ConnectionRef = Static<typeof ConnectionRef>;

type ConnectionRow = typeof connections.$inferSelect;

/** A connection as the API shows it: value names with masked placeholders, never a value. */
export function connectionView(c: ConnectionRow, box: SecretBox) {
  return {
    id: c.id,
    orgId: c.orgId,
    name: c.name,
    integration: c.integration,
    endUserId: c.endUserId || null,
    values: Object.keys(c.values)
      .sort()
      .map((name) => ({ name, masked: maskSealed(box, c.values[name]!) })),
    createdBy: c.createdBy,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

const whose = (endUserId: string) => (endUserId ? ` for end user "${endUserId}"` : "");

/** One live connection of the org by id, or by name among the org's (or that end user's) own; NOT_FOUND otherwise. */
export async function findConnection(db: Db, orgId: string, ref: string, endUserId = ""): Promise<ConnectionRow> {
  const [row] = await db
    .select()
    .from(connections)
    .where(
      and(
        eq(connections.orgId, orgId),
        isNull(connections.deletedAt),
        or(eq(connections.id, ref), and(eq(connections.name, ref), eq(connections.endUserId, endUserId))),
      ),
    )
    .orderBy(sql`(${connections.id} = ${ref}) desc`)
    .limit(1);
  if (!row) throw notFound("connection", ref);
  return row;
}

/** The connection a ref names. */
export function getConnection(db: Db, orgId: string, ref: ConnectionRef): Promise<ConnectionRow> {
  const r = ref.id ?? ref.name;
  if (!r) throw invalid(`Pass the connection's "id" or "name"`);
  return findConnection(db, orgId, r, ref.endUserId ?? "");
}

/** Live connections of the org, optionally of one integration or end user, by name. */
export async function listConnections(db: Db, orgId: string, filter: { integration?: string; endUserId?: string } = {}): Promise<ConnectionRow[]> {
  return db
    .select()
    .from(connections)
    .where(
      and(
        eq(connections.orgId, orgId),
        isNull(connections.deletedAt),
        filter.integration ? eq(connections.integration, filter.integration) : undefined,
        filter.endUserId ? eq(connections.endUserId, filter.endUserId) : undefined,
      ),
    )
    .orderBy(asc(connections.name), asc(connections.endUserId), asc(connections.id));
}

async function ensureNameFree(db: Db, orgId: string, name: string, endUserId: string, exceptId?: string): Promise<void> {
  const [row] = await db
    .select({ id: connections.id })
    .from(connections)
    .where(and(eq(connections.orgId, orgId), isNull(connections.deletedAt), eq(connections.name, name), eq(connections.endUserId, endUserId)))
    .limit(1);
  if (row && row.id !== exceptId) throw new DomainError("DUPLICATE", `A connection named "${name}"${whose(endUserId)} already exists`);
}

function sealAll(box: SecretBox, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, box.seal(v)]));
}

/** Creates a connection; its values are sealed before anything is written. */
export async function createConnection(db: Db, box: SecretBox, p: Principal, input: ConnectionInput) {
  const endUserId = input.endUserId ?? "";
  const values = sealAll(box, input.values);
  return write(db, p, "connections.create", "connection", async (tx) => {
    await ensureNameFree(tx, p.orgId, input.name, endUserId);
    const [row] = await tx
      .insert(connections)
      .values({ id: newId(), orgId: p.orgId, name: input.name, integration: input.integration, endUserId, values, createdBy: p.keyId })
      .returning();
    const detail = { name: row.name, integration: row.integration, endUserId: endUserId || null, keys: Object.keys(input.values).sort() };
    return { result: { connection: connectionView(row, box) }, targetId: row.id, detail };
  });
}

/** Renames a connection and sets or removes some of its values; the others are kept. */
export async function updateConnection(db: Db, box: SecretBox, p: Principal, ref: ConnectionRef, patch: ConnectionPatch) {
  if (patch.name === undefined && patch.values === undefined) throw invalid("The patch is empty: pass \"name\" or \"values\"");
  const sealed = Object.entries(patch.values ?? {}).map(([k, v]) => [k, v === null ? null : box.seal(v)] as const);
  return write(db, p, "connections.update", "connection", async (tx) => {
    const cur = await getConnection(tx, p.orgId, ref);
    const name = patch.name ?? cur.name;
    if (name !== cur.name) await ensureNameFree(tx, p.orgId, name, cur.endUserId, cur.id);
    const values = { ...cur.values };
    for (const [k, v] of sealed) {
      if (v === null) delete values[k];
      else values[k] = v;
    }
    if (!Object.keys(values).length) throw invalid(`A connection keeps at least one value; delete connection "${cur.name}" instead`);
    const [row] = await tx.update(connections).set({ name, values, updatedAt: new Date() }).where(eq(connections.id, cur.id)).returning();
    const detail = { name, fields: Object.keys(patch), keys: sealed.map(([k]) => k).sort() };
    return { result: { connection: connectionView(row, box) }, targetId: row.id, detail };
  });
}

/** Soft-deletes a connection; one still attached on a live server is refused (its tools would silently read other values). */
export async function deleteConnection(db: Db, p: Principal, ref: ConnectionRef) {
  return write(db, p, "connections.delete", "connection", async (tx) => {
    const cur = await getConnection(tx, p.orgId, ref);
    const users = await tx
      .selectDistinct({ slug: servers.slug })
      .from(serverTools)
      .innerJoin(servers, eq(servers.id, serverTools.serverId))
      .innerJoin(tools, eq(tools.id, serverTools.toolId))
      .where(and(eq(serverTools.connectionId, cur.id), isNull(servers.deletedAt), isNull(tools.deletedAt)))
      .orderBy(asc(servers.slug));
    if (users.length) {
      const names = users.map((u) => `"${u.slug}"`).join(", ");
      throw new DomainError("CONFLICT", `Connection "${cur.name}" is still attached on server ${names}; detach those tools or give them another connection (dwizi.mcp.tools.update), then delete it`, {
        servers: users.map((u) => u.slug),
      });
    }
    await tx.update(connections).set({ deletedAt: new Date() }).where(eq(connections.id, cur.id));
    return { result: { deleted: true, id: cur.id, name: cur.name }, targetId: cur.id, detail: { name: cur.name, integration: cur.integration } };
  });
}

/** What a call reads first: the connection's name and its values in clear. */
export interface OpenConnection {
  id: string;
  name: string;
  values: Record<string, string>;
}

/**
 * The connection a call reads first: the attachment's own (an end user's connection only on that
 * end user's calls), else, on an end user's call of a tool with an integration, that end user's
 * connection of it (seed 002: "connections resolve to this user's accounts"). Undefined: none.
 */
export async function connectionForCall(
  db: Db,
  box: SecretBox,
  orgId: string,
  call: { connectionId: string | null; integration: string | null; endUserId: string | null },
): Promise<OpenConnection | undefined> {
  let row: ConnectionRow | undefined;
  if (call.connectionId) {
    [row] = await db
      .select()
      .from(connections)
      .where(and(eq(connections.id, call.connectionId), eq(connections.orgId, orgId), isNull(connections.deletedAt)))
      .limit(1);
    if (row?.endUserId && row.endUserId !== call.endUserId) row = undefined;
  } else if (call.endUserId && call.integration) {
    [row] = await db
      .select()
      .from(connections)
      .where(
        and(
          eq(connections.orgId, orgId),
          eq(connections.endUserId, call.endUserId),
          eq(connections.integration, call.integration),
          isNull(connections.deletedAt),
        ),
      )
      .orderBy(asc(connections.createdAt), asc(connections.id))
      .limit(1);
  }
  if (!row) return undefined;
  const values: Record<string, string> = {};
  for (const [k, sealed] of Object.entries(row.values)) {
    const plain = openSealed(box, sealed);
    if (plain !== undefined) values[k] = plain;
  }
  return { id: row.id, name: row.name, values };
}
