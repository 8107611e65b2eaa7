/**
 * The org itself, its API keys, secrets and audit log.
 */
import { Type } from "@sinclair/typebox";
import { prompts, resources, servers, tools } from "../../../db/schema.ts";
import * as apiKey from "../../platform/apiKey.ts";
import { countLive, write } from "../../platform/assetTable.ts";
import { listAudit } from "../../platform/audit.ts";
import { DomainError, invalid, notFound } from "../../platform/domainError.ts";
import { capFor, effectiveRate } from "../../platform/limits.ts";
import { getOrg } from "../../platform/org.ts";
import { grants, isScope } from "../../platform/scope.ts";
import { deleteSecret, listSecrets, SECRET_NAME_PATTERN, setSecret } from "../../platform/secret.ts";
import { keyWorkspaceId } from "../../platform/workspace.ts";
import type { Db } from "../../database/index.ts";
import type { Principal } from "../../platform/principal.ts";
import { NoArgs, operation } from "../operation.ts";

const RateArgs = Type.Object({
  burst: Type.Optional(Type.Integer({ minimum: 1 })),
  burstWindowSec: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
  perMinute: Type.Optional(Type.Integer({ minimum: 1 })),
  perHour: Type.Optional(Type.Integer({ minimum: 1 })),
});

const KeyId = Type.Object({ keyId: Type.String({ minLength: 1 }) });
const SecretName = Type.String({ pattern: SECRET_NAME_PATTERN, description: "Letters, digits and _, not starting with a digit" });
const EndUser = Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: "Set the value for this end user only" }));

/**
 * A key may only revoke or rotate keys whose every scope it holds (and, when it is
 * workspace-limited, only keys of its workspace); otherwise rotating an admin key
 * would hand a narrow key the admin's new secret.
 */
async function ensureCovers(db: Db, p: Principal, keyId: string, action: string): Promise<void> {
  const target = await apiKey.findKey(db, p.orgId, keyId);
  if (!target || (p.workspaceId && target.workspaceId !== p.workspaceId)) throw notFound("key", keyId);
  if (target.keyId === p.keyId) return;
  const beyond = target.scopes.filter((s) => isScope(s) && !grants(p.scopes, s));
  if (beyond.length) {
    throw new DomainError("FORBIDDEN_SCOPE", `You can only ${action} keys whose scopes you hold; you lack ${beyond.join(", ")}`, { missingScopes: beyond });
  }
}

/** dwizi.org.get */
export const orgOperations = [
  operation({
    name: "dwizi.org.get",
    scope: "org:read",
    description: "Get the calling key's org: limits in force and live asset counts.",
    args: NoArgs,
    rest: { method: "GET", path: "/org" },
    run: async (ctx) => {
      const p = ctx.principal;
      const org = await getOrg(ctx.db, p.orgId);
      if (!org) throw notFound("org", p.orgId);
      const kinds = { tools, resources, prompts, servers } as const;
      const usage: Record<string, { count: number; cap: number }> = {};
      for (const [k, table] of Object.entries(kinds)) {
        usage[k] = { count: await countLive(ctx.db, table, p.orgId), cap: capFor(p.orgLimits, k as keyof typeof kinds) };
      }
      return { org: { id: org.id, name: org.name, createdAt: org.createdAt, defaultWorkspaceId: org.defaultWorkspaceId, rate: effectiveRate(p.orgLimits, null), usage } };
    },
  }),
];

/** dwizi.keys.*, dwizi.secrets.*, dwizi.audit.list */
export const accountOperations = [
  operation({
    name: "dwizi.keys.list",
    scope: "keys:write",
    description: "List the org's API keys (a workspace key: its workspace's keys); prefixes only, secrets are never shown again.",
    args: NoArgs,
    rest: { method: "GET", path: "/keys" },
    run: async (ctx) => ({ keys: await apiKey.listKeys(ctx.db, ctx.principal.orgId, ctx.principal.workspaceId) }),
  }),
  operation({
    name: "dwizi.keys.create",
    scope: "keys:write",
    description: "Create an API key with a subset of your own scopes: {name?, scopes, rate?, workspaceId?}. The key is shown once.",
    args: Type.Object({
      name: Type.Optional(Type.String({ maxLength: 200 })),
      scopes: Type.Array(Type.String(), { minItems: 1, maxItems: 32 }),
      rate: Type.Optional(RateArgs),
      workspaceId: Type.Optional(
        Type.String({ minLength: 1, description: "Limit the key to this workspace (id or slug); a workspace key's keys are always limited to its own" }),
      ),
    }),
    rest: { method: "POST", path: "/keys", status: 201 },
    run: async (ctx, args) => {
      const p = ctx.principal;
      const unknown = args.scopes.filter((s) => !isScope(s));
      if (unknown.length) throw invalid(`Unknown scope(s): ${unknown.join(", ")}`);
      const beyond = args.scopes.filter((s) => isScope(s) && !grants(p.scopes, s));
      if (beyond.length) {
        throw new DomainError("FORBIDDEN_SCOPE", `A key can only grant scopes it holds; you lack ${beyond.join(", ")}`, { missingScopes: beyond });
      }
      const own = effectiveRate(p.orgLimits, p.keyRate);
      for (const [k, v] of Object.entries(args.rate ?? {})) {
        const mine = own[k as keyof typeof own];
        if (k !== "burstWindowSec" && v > mine) throw invalid(`rate.${k} ${v} exceeds your own key's ${mine}`);
      }
      const scopes = [...new Set(args.scopes)];
      return write(ctx.db, p, "keys.create", "key", async (tx) => {
        const workspaceId = await keyWorkspaceId(tx, p, args.workspaceId);
        const k = await apiKey.insertKey(tx, { orgId: p.orgId, scopes, name: args.name, rate: args.rate, workspaceId, createdBy: p.keyId });
        return { result: workspaceId ? { ...k, workspaceId } : k, targetId: k.keyId, detail: { scopes, name: args.name ?? null, workspaceId } };
      });
    },
  }),
  operation({
    name: "dwizi.keys.revoke",
    scope: "keys:write",
    description: "Revoke an API key; it fails on its very next request.",
    args: KeyId,
    rest: { method: "DELETE", path: "/keys/:keyId" },
    run: (ctx, args) =>
      write(ctx.db, ctx.principal, "keys.revoke", "key", async (tx) => {
        await ensureCovers(tx, ctx.principal, args.keyId, "revoke");
        if (!(await apiKey.revokeKey(tx, ctx.principal.orgId, args.keyId))) throw notFound("key", args.keyId);
        return { result: { revoked: true, keyId: args.keyId }, targetId: args.keyId };
      }),
  }),
  operation({
    name: "dwizi.keys.rotate",
    scope: "keys:write",
    description: "Replace an API key's secret (same id and scopes); the old secret stops working at once.",
    args: KeyId,
    rest: { method: "POST", path: "/keys/:keyId/rotate" },
    run: (ctx, args) =>
      write(ctx.db, ctx.principal, "keys.rotate", "key", async (tx) => {
        await ensureCovers(tx, ctx.principal, args.keyId, "rotate");
        const key = await apiKey.rotateKey(tx, ctx.principal.orgId, args.keyId);
        if (!key) throw notFound("key", args.keyId);
        return { result: { key, keyId: args.keyId }, targetId: args.keyId };
      }),
  }),
  operation({
    name: "dwizi.secrets.list",
    scope: "secrets:read",
    description: "List secret names with masked placeholders; values are never returned.",
    args: NoArgs,
    rest: { method: "GET", path: "/secrets" },
    run: async (ctx) => ({ secrets: await listSecrets(ctx.db, ctx.box, ctx.principal.orgId) }),
  }),
  operation({
    name: "dwizi.secrets.set",
    scope: "secrets:write",
    description: "Create or replace a secret: {name, value, endUserId?}. Stored encrypted; write-only.",
    args: Type.Object({ name: SecretName, value: Type.String({ minLength: 1, maxLength: 65536 }), endUserId: EndUser }),
    rest: { method: "PUT", path: "/secrets/:name" },
    run: (ctx, args) => setSecret(ctx.db, ctx.box, ctx.principal, args.name, args.value, args.endUserId),
  }),
  operation({
    name: "dwizi.secrets.delete",
    scope: "secrets:write",
    description: "Delete a secret: {name, endUserId?}.",
    args: Type.Object({ name: SecretName, endUserId: EndUser }),
    rest: { method: "DELETE", path: "/secrets/:name" },
    run: (ctx, args) => deleteSecret(ctx.db, ctx.principal, args.name, args.endUserId),
  }),
  operation({
    name: "dwizi.audit.list",
    scope: "audit:read",
    description: "List audit log entries, most recent first (a workspace key: its workspace's): {limit?, before? (ISO time)}.",
    args: Type.Object({
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
      before: Type.Optional(Type.String({ description: "ISO date-time; entries strictly before it" })),
    }),
    rest: { method: "GET", path: "/audit" },
    run: async (ctx, args) => {
      if (args.before && Number.isNaN(Date.parse(args.before))) throw invalid(`"before" must be an ISO date-time`);
      const { orgId, workspaceId } = ctx.principal;
      return { entries: await listAudit(ctx.db, orgId, { limit: args.limit ?? 100, before: args.before, workspaceId }) };
    },
  }),
];
