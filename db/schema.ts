/**
 * The drizzle schema: the single source of truth for every table dzx keeps.
 * Migrations in ./migrations are generated from this file (`bun run db:generate`).
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  index,
  integer,
  json,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();
const deletedAt = () => timestamp("deleted_at", { withTimezone: true });

/** Per-key or per-org rate windows; absent fields fall back to the next level. */
export interface RateLimits {
  burst?: number;
  burstWindowSec?: number;
  perMinute?: number;
  perHour?: number;
}

/** Per-org caps on live assets. */
export interface AssetCaps {
  tools?: number;
  prompts?: number;
  resources?: number;
  servers?: number;
  partials?: number;
}

/** Limits an org may override; unset values use the platform defaults. */
export interface OrgLimits {
  rate?: RateLimits;
  caps?: AssetCaps;
  retentionDays?: number;
  /** Sandbox fetch policy: hosts allowed (all public when empty), denied, and private ones let through. */
  egress?: { allowHosts?: string[]; denyHosts?: string[]; allowPrivateHosts?: string[] };
  /** The sandbox budget: runs (hosted tool calls, scripts) the org may start per minute. */
  sandbox?: { runsPerMinute?: number };
}

export const orgs = pgTable("orgs", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  limits: jsonb("limits").$type<OrgLimits>().notNull().default({}),
  createdAt: createdAt(),
});

export const workspaces = pgTable(
  "workspaces",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    name: text("name").notNull(),
    slug: text("slug").notNull(),
    description: text("description").notNull().default(""),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  // a deleted workspace frees its slug, like every other asset
  (t) => [uniqueIndex("workspaces_org_slug_live").on(t.orgId, t.slug).where(sql`${t.deletedAt} is null`)],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    workspaceId: text("workspace_id").references(() => workspaces.id),
    name: text("name"),
    /** First characters of the key, enough to recognise it in a list; never the secret part. */
    prefix: text("prefix").notNull(),
    /** SHA-256 of the whole key: keys are never recoverable. */
    hash: text("hash").notNull().unique(),
    scopes: jsonb("scopes").$type<string[]>().notNull(),
    rate: jsonb("rate").$type<RateLimits>(),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    rotatedAt: timestamp("rotated_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  },
  (t) => [index("api_keys_org").on(t.orgId)],
);

export const tools = pgTable(
  "tools",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    language: text("language").$type<"js" | "ts">().notNull().default("js"),
    source: text("source").notNull(),
    inputSchema: jsonb("input_schema").$type<Record<string, unknown>>().notNull(),
    outputSchema: jsonb("output_schema").$type<Record<string, unknown>>(),
    outputPolicy: text("output_policy").$type<"retain" | "omit" | "obfuscate">().notNull().default("retain"),
    secrets: jsonb("secrets").$type<string[]>().notNull().default([]),
    timeoutMs: integer("timeout_ms"),
    /** The service the tool belongs to (e.g. `slack`), grouping it with others; a connection is for one integration. */
    integration: text("integration"),
    /** Bumped on every update so compiled code can be cached per version. */
    version: integer("version").notNull().default(1),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  (t) => [uniqueIndex("tools_org_slug_live").on(t.orgId, t.slug).where(sql`${t.deletedAt} is null`)],
);

export const resources = pgTable(
  "resources",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    slug: text("slug").notNull(),
    uri: text("uri").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    /** Null only for a tool-backed resource that lets its output decide (text/plain for a string, application/json otherwise). */
    mimeType: text("mime_type"),
    text: text("text"),
    blob: text("blob"),
    /** A tool-backed resource: reading it runs this tool (of the same org) with the URI's variables as input. */
    toolId: text("tool_id").references(() => tools.id),
    /** A template's variables that offer completion values: name → values or a completion tool. */
    variables: jsonb("variables").$type<Record<string, CompletionSource>>().notNull().default({}),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  (t) => [
    uniqueIndex("resources_org_slug_live").on(t.orgId, t.slug).where(sql`${t.deletedAt} is null`),
    uniqueIndex("resources_org_uri_live").on(t.orgId, t.uri).where(sql`${t.deletedAt} is null`),
  ],
);

/**
 * Where completion/complete finds values for a prompt argument or template variable:
 * a fixed list, or a tool of the same org that is asked {argument, value, context}.
 */
export interface CompletionSource {
  values?: string[];
  complete?: { toolId: string };
}

/** A prompt argument: what MCP publishes, plus where its completions come from. */
export interface PromptArgument extends CompletionSource {
  name: string;
  description?: string;
  required?: boolean;
}

/** A templated prompt message; `{{arg}}` placeholders are filled on prompts/get. */
export interface PromptMessage {
  role: "user" | "assistant" | "system";
  /** Text, or one MCP content block (checked by src/mcp/contentBlock.ts). */
  content: string | { type: string; [field: string]: unknown };
}

export const prompts = pgTable(
  "prompts",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    arguments: jsonb("arguments").$type<PromptArgument[]>().notNull().default([]),
    messages: jsonb("messages").$type<PromptMessage[]>().notNull(),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  (t) => [uniqueIndex("prompts_org_slug_live").on(t.orgId, t.slug).where(sql`${t.deletedAt} is null`)],
);

export const servers = pgTable(
  "servers",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    mode: text("mode").$type<"TOOLS" | "CODE">().notNull().default("TOOLS"),
    endUserId: text("end_user_id"),
    /** SHA-256 of the bearer token; the token itself is shown once. */
    tokenHash: text("token_hash").notNull().unique(),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  (t) => [uniqueIndex("servers_org_slug_live").on(t.orgId, t.slug).where(sql`${t.deletedAt} is null`)],
);

/**
 * A named, org-level set of secret values for one integration (issue 17.2): an attachment's
 * connection is read before the org's secrets. Each value is sealed on its own, like a secret;
 * the names are not secret. `endUserId` is empty for the org's own connections.
 */
export const connections = pgTable(
  "connections",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    name: text("name").notNull(),
    integration: text("integration").notNull(),
    endUserId: text("end_user_id").notNull().default(""),
    /** Secret name → AES-256-GCM ciphertext (base64) under DZX_SECRET_KEY. */
    values: jsonb("values").$type<Record<string, string>>().notNull().default({}),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  (t) => [
    uniqueIndex("connections_org_user_name_live").on(t.orgId, t.endUserId, t.name).where(sql`${t.deletedAt} is null`),
    index("connections_org_integration").on(t.orgId, t.integration),
  ],
);

/** A tool attached to a server, with its per-server presentation (seed 001 "Add Tool"). */
export const serverTools = pgTable(
  "server_tools",
  {
    id: text("id").primaryKey(),
    serverId: text("server_id").notNull().references(() => servers.id),
    toolId: text("tool_id").notNull().references(() => tools.id),
    alias: text("alias"),
    displayName: text("display_name"),
    description: text("description"),
    inputDefaults: jsonb("input_defaults").$type<Record<string, unknown>>(),
    partialIds: jsonb("partial_ids").$type<string[]>().notNull().default([]),
    secretBindings: jsonb("secret_bindings").$type<Record<string, string>>(),
    /** Where the tool's secrets are read first (a connection of the tool's integration). */
    connectionId: text("connection_id").references(() => connections.id),
    sortOrder: integer("sort_order").notNull().default(0),
    /** ACTION: published as an MCP tool; TRIGGER: fed by its inbound webhook, published as a resource (seed 001 toolType). */
    toolType: text("tool_type").$type<"ACTION" | "TRIGGER">().notNull().default("ACTION"),
    /**
     * A TRIGGER's webhook secret, sealed like secrets (AES-256-GCM under DZX_SECRET_KEY), not hashed:
     * checking an HMAC signature needs the secret itself. Shown once; null for an ACTION.
     */
    webhookSecret: text("webhook_secret"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("server_tools_server").on(t.serverId)],
);

export const serverResources = pgTable(
  "server_resources",
  {
    serverId: text("server_id").notNull().references(() => servers.id),
    resourceId: text("resource_id").notNull().references(() => resources.id),
    sortOrder: integer("sort_order").notNull().default(0),
  },
  (t) => [uniqueIndex("server_resources_pk").on(t.serverId, t.resourceId)],
);

export const serverPrompts = pgTable(
  "server_prompts",
  {
    serverId: text("server_id").notNull().references(() => servers.id),
    promptId: text("prompt_id").notNull().references(() => prompts.id),
    sortOrder: integer("sort_order").notNull().default(0),
  },
  (t) => [uniqueIndex("server_prompts_pk").on(t.serverId, t.promptId)],
);

export const secrets = pgTable(
  "secrets",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    name: text("name").notNull(),
    /** Empty string for the org-wide value, else the end user it belongs to. */
    endUserId: text("end_user_id").notNull().default(""),
    /** AES-256-GCM: iv, ciphertext and tag, base64, under DZX_SECRET_KEY. */
    ciphertext: text("ciphertext").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("secrets_org_name_user").on(t.orgId, t.name, t.endUserId)],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    /** The API key that acted, or null for the operator's CLI. */
    actorKeyId: text("actor_key_id"),
    operation: text("operation").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id"),
    /** Ids and names only, never secret material. */
    detail: jsonb("detail").$type<Record<string, unknown>>().notNull().default({}),
    ok: boolean("ok").notNull().default(true),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("audit_log_org_at").on(t.orgId, t.at)],
);

/** Input partials (seed 001/002): saved argument presets; `enforced` keys are hidden from the published schema and always win. */
export const partials = pgTable(
  "partials",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    values: jsonb("values").$type<Record<string, unknown>>().notNull().default({}),
    enforced: jsonb("enforced").$type<string[]>().notNull().default([]),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  (t) => [uniqueIndex("partials_org_slug_live").on(t.orgId, t.slug).where(sql`${t.deletedAt} is null`)],
);

/** One tool call on a hosted server, as its tool's outputPolicy allows it to be kept. */
export const calls = pgTable(
  "calls",
  {
    id: text("id").primaryKey(),
    // no foreign key: rows come only from live servers, and the check cost ~30 % of each row's write on PGlite
    orgId: text("org_id").notNull(),
    serverId: text("server_id").notNull(),
    toolId: text("tool_id"),
    /** The name the client called (`alias__slug`, `slug`, or a CODE-mode tool). */
    toolName: text("tool_name").notNull(),
    endUserId: text("end_user_id"),
    status: text("status").$type<"ok" | "error" | "cancelled">().notNull(),
    durationMs: integer("duration_ms").notNull(),
    // json, not jsonb: kept and returned whole, never queried into, and json costs less to write (PGlite writes on the main thread)
    input: json("input"),
    output: json("output"),
    error: text("error"),
    logs: json("logs").$type<{ level: string; message: string }[]>().notNull().default([]),
    bytes: integer("bytes").notNull().default(0),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("calls_org_at").on(t.orgId, t.at), index("calls_server_at").on(t.serverId, t.at)],
);

/**
 * A key's rate windows when processes share PostgreSQL (src/rateStore/postgres.ts):
 * its sliding log of admission times (ms, database clock), read and rewritten
 * under the row's lock. No foreign key: rows idle past the widest window are pruned.
 */
export const rateWindows = pgTable("rate_windows", {
  keyId: text("key_id").primaryKey(),
  log: bigint("log", { mode: "number" }).array().notNull().default(sql`'{}'::bigint[]`),
  updatedAt: updatedAt(),
});

/**
 * Events a TRIGGER attachment's webhook accepted (src/platform/trigger.ts), as its tool shaped them;
 * a bounded history per trigger (the newest 1,000, at most 7 days old). No foreign keys, like calls:
 * detaching a trigger deletes its events itself.
 */
export const triggerEvents = pgTable(
  "trigger_events",
  {
    /** UUID v7: ordered by when the webhook received it, so ties of `receivedAt` still read newest first. */
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    serverId: text("server_id").notNull(),
    attachmentId: text("attachment_id").notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
    event: jsonb("event").notNull(),
  },
  (t) => [index("trigger_events_attachment_received").on(t.attachmentId, t.receivedAt), index("trigger_events_received").on(t.receivedAt)],
);
