/**
 * A server's API as the management plane reaches it (issue 17.4, seed 001 "Execute Code",
 * "Get TypeScript Declarations"): a script run against the server exactly as CODE mode's
 * `execute` runs it — whatever the server's mode, its tools are the script's `tools.*` —
 * and the read_api declarations of the tools under one alias or tool slug.
 */
import type { Db } from "../database/index.ts";
import { hostedCatalog, publish, type HostedDeps, type Published } from "../hosted/catalog.ts";
import { loadDefinition, type ServerDefinition } from "../hosted/definition.ts";
import type { CallContext, CallToolResult } from "../mcp/catalog.ts";
import { notFound } from "../platform/domainError.ts";
import { declarations } from "./declarations.ts";
import { scriptRunner } from "./script.ts";

/** A live server's definition, published as its endpoint serves it. */
export interface ServerApi {
  def: ServerDefinition;
  published: Published;
}

/** Loads the live server `serverId` (already checked to be the caller's); NOT_FOUND when it is gone. */
export async function loadServerApi(db: Db, serverId: string): Promise<ServerApi> {
  const def = await loadDefinition(db, serverId);
  if (!def) throw notFound("Server", serverId);
  return { def, published: publish(def) };
}

/** Runs `code` against the server as CODE mode's execute does; throws QUOTA_EXCEEDED when the sandbox budget is spent. */
export function executeCode(api: ServerApi, deps: HostedDeps, ctx: CallContext, code: string): Promise<CallToolResult> {
  const tools = hostedCatalog(api.def, api.published, deps);
  return scriptRunner(api.def, api.published, deps, tools)(ctx, code);
}

/**
 * The declarations of the tools attached under `integrationOrAlias`: the attachments with that
 * alias, else those of the tool with that slug. NOT_FOUND when none is.
 */
export function declarationsOf(api: ServerApi, integrationOrAlias: string): string {
  const tools = api.published.tools;
  let matched = tools.filter((t) => t.entry.attachment.alias === integrationOrAlias);
  if (!matched.length) matched = tools.filter((t) => t.entry.tool.slug === integrationOrAlias);
  if (!matched.length) throw notFound("Integration or alias", integrationOrAlias);
  return declarations(matched.map((t) => t.listing));
}
