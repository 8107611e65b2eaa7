/**
 * `dzx keys …`: operator commands that talk to the database directly, so the first
 * key can be made before the server ever starts.
 */
import type { RateLimits } from "../../db/schema.ts";
import type { Database, Db } from "../database/index.ts";
import { insertKey, listKeys, revokeKey } from "../platform/apiKey.ts";
import { recordAudit } from "../platform/audit.ts";
import { DomainError } from "../platform/domainError.ts";
import { ensureOrg, listOrgs } from "../platform/org.ts";
import { parseScopes } from "../platform/scope.ts";
import { findWorkspace } from "../platform/workspace.ts";
import { CliError, type Flags } from "./flags.ts";

/** Parses `--rate` as JSON or `burst=100,perMinute=1000`. */
export function parseRate(raw: string | undefined): RateLimits | undefined {
  if (!raw) return undefined;
  let obj: Record<string, unknown>;
  try {
    obj = raw.trim().startsWith("{") ? JSON.parse(raw) : Object.fromEntries(raw.split(",").map((kv) => kv.split("=").map((s) => s.trim())));
  } catch {
    throw new CliError(`--rate must be JSON or key=value pairs, e.g. burst=100,perMinute=1000,perHour=10000`);
  }
  const out: RateLimits = {};
  for (const [k, v] of Object.entries(obj)) {
    if (!["burst", "burstWindowSec", "perMinute", "perHour"].includes(k)) throw new CliError(`--rate: unknown field "${k}" (burst, burstWindowSec, perMinute, perHour)`);
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new CliError(`--rate: ${k} must be a positive whole number`);
    out[k as keyof RateLimits] = n;
  }
  return out;
}

/** The live workspace `ref` (id or slug) of the org, or a CliError saying how to make it. */
async function workspaceOf(db: Db, orgId: string, orgName: string, ref: string) {
  try {
    return await findWorkspace(db, orgId, { id: ref });
  } catch (err) {
    if (err instanceof DomainError && err.code === "NOT_FOUND") {
      throw new CliError(`No workspace "${ref}" in org "${orgName}": create it with dwizi.workspaces.create, using an org-wide key`);
    }
    throw err;
  }
}

async function orgIdByName(database: Database, name: string): Promise<string> {
  const org = (await listOrgs(database.db)).find((o) => o.name === name);
  if (!org) throw new CliError(`No org named "${name}"`);
  return org.id;
}

/** Runs one `keys` subcommand and returns what to print. */
export async function keysCommand(database: Database, sub: string | undefined, flags: Flags): Promise<string> {
  switch (sub) {
    case "create": {
      const orgName = flags.string("org") ?? "default";
      const { scopes, unknown } = parseScopes(flags.string("scopes") ?? "all");
      if (unknown.length) throw new CliError(`Unknown scope(s): ${unknown.join(", ")}`);
      if (!scopes.length) throw new CliError(`--scopes needs at least one scope, or "all"`);
      const rate = parseRate(flags.string("rate"));
      const workspaceRef = flags.string("workspace");
      const { orgId, key, workspace } = await database.db.transaction(async (tx) => {
        const org = await ensureOrg(tx as never, orgName);
        const ws = workspaceRef ? await workspaceOf(tx as never, org.id, orgName, workspaceRef) : null;
        const k = await insertKey(tx as never, { orgId: org.id, scopes, name: flags.string("name") ?? null, rate, workspaceId: ws?.id ?? null });
        await recordAudit(tx as never, { orgId: org.id, actorKeyId: null, operation: "keys.create", targetType: "key", targetId: k.keyId, detail: { via: "cli", scopes, workspaceId: ws?.id ?? null } });
        return { orgId: org.id, key: k, workspace: ws };
      });
      const out = { key: key.key, keyId: key.keyId, orgId, scopes: key.scopes, ...(workspace ? { workspaceId: workspace.id } : {}) };
      if (flags.bool("json")) return JSON.stringify(out);
      const limited = workspace ? [`workspace: ${workspace.slug} (${workspace.id}); the key sees only this workspace's servers`] : [];
      return [`Created API key for org "${orgName}" (shown once, store it now):`, "", `  ${out.key}`, "", `keyId:  ${out.keyId}`, `orgId:  ${orgId}`, `scopes: ${scopes.join(" ")}`, ...limited].join("\n");
    }
    case "list": {
      const orgId = await orgIdByName(database, flags.string("org") ?? "default");
      const keys = await listKeys(database.db, orgId);
      if (flags.bool("json")) return JSON.stringify(keys);
      return keys.map((k) => `${k.keyId}  ${k.prefix}  ${k.revokedAt ? "revoked" : "active"}  ${k.scopes.join(",")}`).join("\n") || "(no keys)";
    }
    case "revoke": {
      const keyId = flags.string("key") ?? flags.positional(0);
      if (!keyId) throw new CliError("Usage: dzx keys revoke <keyId> --org <name>");
      const orgId = await orgIdByName(database, flags.string("org") ?? "default");
      if (!(await revokeKey(database.db, orgId, keyId))) throw new CliError(`No active key ${keyId} in that org`);
      return flags.bool("json") ? JSON.stringify({ revoked: true, keyId }) : `Revoked ${keyId}`;
    }
    default:
      throw new CliError("Usage: dzx keys create --org <name> --scopes <list|all> [--name N] [--rate burst=N,perMinute=N,perHour=N] [--workspace <slug|id>] [--json]\n       dzx keys list --org <name> [--json]\n       dzx keys revoke <keyId> --org <name>");
  }
}
