/**
 * What an attachment's integration must agree with (issue 17.2, seed 001 "Add Tool"): all
 * attachments under one alias on a server share one integration (else 409 ALIAS_CONFLICT), and
 * an attachment's connection is a live one of the org (else NOT_FOUND) for its tool's
 * integration (else VALIDATION_ERROR). A tool changing integration is held to the same rules.
 */
import { and, eq, isNull, ne } from "drizzle-orm";
import { connections, servers, serverTools, tools } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { findConnection } from "./connection.ts";
import { DomainError, invalid } from "./domainError.ts";
import { integrationLabel } from "./integration.ts";

/** An attachment as far as the alias rule cares. */
export interface AliasHolder {
  id: string;
  alias: string | null;
  integrationName: string | null;
  actionName: string;
}

function aliasConflict(alias: string, held: string | null, holder: string, integration: string | null): DomainError {
  return new DomainError(
    "ALIAS_CONFLICT",
    `Alias is already mapped to a different integration: "${alias}" on this server holds ${integrationLabel(held)} (tool "${holder}"), this tool has ${integrationLabel(integration)}; choose another alias`,
    { alias, integration: held },
  );
}

/** Throws ALIAS_CONFLICT when another attachment under `alias` has another integration (no alias: no group, no rule). */
export function ensureAliasIntegration(holders: AliasHolder[], alias: string | null, integration: string | null, selfId?: string): void {
  if (!alias) return;
  const other = holders.find((a) => a.id !== selfId && a.alias === alias && a.integrationName !== integration);
  if (other) throw aliasConflict(alias, other.integrationName, other.actionName, integration);
}

/**
 * The id of the connection an attachment names (its id, or its name among the org's — or the
 * server's end user's — own): of the tool's integration, and an end user's only on that end user's server.
 */
export async function attachableConnection(
  db: Db,
  orgId: string,
  ref: string,
  tool: { slug: string; integration: string | null },
  server: { endUserId: string | null },
): Promise<string> {
  const c = await findConnection(db, orgId, ref, server.endUserId ?? "");
  if (!tool.integration) {
    throw invalid(`Tool "${tool.slug}" declares no integration, so it takes no connection: set the tool's "integration" (here "${c.integration}") first`);
  }
  if (c.integration !== tool.integration) {
    throw invalid(`Connection "${c.name}" is for integration "${c.integration}", but tool "${tool.slug}" is of integration "${tool.integration}"`);
  }
  if (c.endUserId && c.endUserId !== server.endUserId) {
    throw invalid(`Connection "${c.name}" belongs to end user "${c.endUserId}": attach it only on a server of that end user`);
  }
  return c.id;
}

/** Refuses a tool's new integration where an attachment of it would break a rule: its connection's, or its alias's. */
export async function ensureIntegrationChangeFits(db: Db, toolId: string, integration: string | null): Promise<void> {
  const attached = await db
    .select({ a: serverTools, server: servers.slug, connection: { name: connections.name, integration: connections.integration } })
    .from(serverTools)
    .innerJoin(servers, eq(servers.id, serverTools.serverId))
    .leftJoin(connections, eq(connections.id, serverTools.connectionId))
    .where(and(eq(serverTools.toolId, toolId), isNull(servers.deletedAt)));
  for (const { a, server, connection } of attached) {
    if (connection && connection.integration !== integration) {
      throw invalid(
        `The tool is attached on server "${server}" with connection "${connection.name}" of integration "${connection.integration}"; give that attachment another connection (or none) first`,
      );
    }
    if (!a.alias) continue;
    const peers = await db
      .select({ slug: tools.slug, integration: tools.integration })
      .from(serverTools)
      .innerJoin(tools, eq(tools.id, serverTools.toolId))
      .where(and(eq(serverTools.serverId, a.serverId), eq(serverTools.alias, a.alias), ne(serverTools.toolId, toolId), isNull(tools.deletedAt)));
    const other = peers.find((p) => p.integration !== integration);
    if (other) throw aliasConflict(a.alias, other.integration, other.slug, integration);
  }
}
